import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../infra/logger';
import {
  flashSaleAdmissions,
  flashSaleRefusals,
  httpRequestDuration,
  ordersPlaced,
  ordersRejected,
  payments,
  webhookSignatureFailures,
  type OrderType,
} from '../infra/metrics';

/** A caller's X-Request-Id is kept when it is a plain token; anything else gets a fresh id. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes and scrapes would drown the request log. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function requestIdOf(req: IncomingMessage): string | undefined {
  const id = (req as IncomingMessage & { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * pino-http: every request gets an id (the caller's X-Request-Id, or a new UUID), returned in the
 * X-Request-Id header and in problem bodies; `req.log` is a child logger carrying it, so every line
 * a handler logs names its request. One line per finished request with method, URL, status, time.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    customAttributeKeys: { reqId: 'requestId' },
    // req.log carries only the id; the request itself is logged once, on the line that ends it.
    quietReqLogger: true,
    genReqId(req: IncomingMessage, res: ServerResponse) {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // The line names the request, not its headers: no credential reaches it even redacted, and the
    // response's security headers (a 1 KB CSP) were the same on every line. A line went from ~1.7 KB
    // to ~0.3 KB (the API's CPU per order did not move measurably with it: BENCHMARKS.md, session 13).
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress?: string; headers: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
        userAgent: req.headers['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel(_req, res, error) {
      return error || res.statusCode >= 500 ? 'error' : 'info';
    },
    autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
  }) as unknown as RequestHandler;
}

/** Business routes whose outcome the API counts: order placement per type, flash-sale admission. */
const PLACEMENT_ROUTES: { pattern: RegExp; route: string; type: OrderType }[] = [
  { pattern: /^\/orders\/?$/, route: '/orders', type: 'standard' },
  { pattern: /^\/presales\/[^/]+\/orders\/?$/, route: '/presales/:campaignId/orders', type: 'presale' },
  { pattern: /^\/group-buys\/[^/]+\/orders\/?$/, route: '/group-buys/:campaignId/orders', type: 'group_buy' },
  { pattern: /^\/flash-sales\/[^/]+\/orders\/?$/, route: '/flash-sales/:campaignId/orders', type: 'flash_sale' },
];

/** What problem type a response carried (set by sendProblem), for the rejection reason label. */
export function problemSlugOf(res: Response): string | undefined {
  return res.locals.problemSlug as string | undefined;
}

/**
 * Latency histogram by route pattern (never the raw URL: ids would explode the series) and the
 * counters that the API is the first to know: placements, rejections, flash-sale admissions and
 * refusals, refused webhook signatures, declined payments.
 */
export const requestMetrics: RequestHandler = (req, res, next) => {
  const started = process.hrtime.bigint();
  res.once('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const placement = req.method === 'POST' ? PLACEMENT_ROUTES.find((candidate) => candidate.pattern.test(req.path)) : undefined;
    const route = routePattern(req) ?? placement?.route ?? 'unmatched';
    httpRequestDuration.observe({ method: req.method, route, status_code: String(res.statusCode) }, seconds);
    if (placement) countPlacement(placement.type, res);
    if (req.path.startsWith('/payments/')) countPaymentCallback(req, res, route);
  });
  next();
};

function routePattern(req: Request): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? req.baseUrl + path : undefined;
}

function countPlacement(type: OrderType, res: Response): void {
  const status = res.statusCode;
  // 200 is an idempotent replay of an order already counted.
  const accepted = status === 201 || status === 202;
  if (type === 'flash_sale') {
    if (accepted) flashSaleAdmissions.inc();
    // The sold-out fast path answers from memory without a problem slug: that is its only refusal.
    if (status === 409) flashSaleRefusals.inc({ reason: problemSlugOf(res)?.replace(/^flash-sale-/, '') ?? 'sold-out' });
  }
  if (accepted) ordersPlaced.inc({ type });
  else if (status === 422 || (status === 409 && type !== 'flash_sale')) ordersRejected.inc({ type, reason: problemSlugOf(res) ?? String(status) });
}

function countPaymentCallback(req: Request, res: Response, route: string): void {
  if (res.statusCode === 401) webhookSignatureFailures.inc({ route });
  const body = req.body as { type?: unknown } | undefined;
  if (res.statusCode === 200 && body?.type === 'payment.failed') payments.inc({ outcome: 'failed' });
}
