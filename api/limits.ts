import type { Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Pool } from 'pg';
import { principalOf } from './auth';
import { sendProblem } from './problem';

/**
 * Abuse limits: requests per client IP over the whole API, placements per principal (each placement
 * holds stock, a coupon and points for the payment timeout), and unpaid orders per customer (the
 * placement checks). Counters live in this process: with N API processes behind a balancer a client
 * gets at most N times the limit, which still bounds it (a shared store can replace the memory one).
 */
export interface AbuseLimits {
  /** Requests per minute from one IP (any route). */
  requestsPerIpPerMinute: number;
  /** Order placements (standard, presale, group-buy) per minute by one principal. */
  placementsPerPrincipalPerMinute: number;
  /** Orders waiting for payment one customer may have; the next placement is refused (429). */
  unpaidOrdersPerCustomer: number;
}

/** One problem+json 429 with Retry-After (set by the limiter from its window). */
function tooMany(detail: string) {
  return (req: Request, res: Response) =>
    sendProblem(res, { type: 'https://order-engine.dev/problems/rate-limited', title: 'Too many requests', status: 429, detail, instance: req.originalUrl });
}

export function perIpLimit(limits: AbuseLimits): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: limits.requestsPerIpPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: tooMany(`at most ${limits.requestsPerIpPerMinute} requests a minute from one address`),
  });
}

/** Mounted after authentication: keyed by the principal, so a buyer behind a shared IP is limited alone. */
export function placementLimit(limits: AbuseLimits): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: limits.placementsPerPrincipalPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (_req, res) => {
      const principal = principalOf(res);
      return `${principal.role}:${principal.subject}`;
    },
    handler: tooMany(`at most ${limits.placementsPerPrincipalPerMinute} orders a minute`),
  });
}

/**
 * Deletes Idempotency-Key rows older than the TTL (24 h by default): a retry comes within minutes,
 * and without expiry the table grows forever. Runs in every API process (deletes are idempotent).
 */
export function createIdempotencyKeySweeper(pool: Pool, ttlMs: number) {
  async function sweepOnce(): Promise<number> {
    const deleted = await pool.query(`DELETE FROM api.idempotency_keys WHERE created_at < now() - make_interval(secs => $1)`, [ttlMs / 1000]);
    return deleted.rowCount ?? 0;
  }
  function start(intervalMs: number, log: (line: string) => void): () => void {
    const timer = setInterval(() => {
      sweepOnce().catch((error) => log(`idempotency keys: sweep failed: ${(error as Error).message}`));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
  return { sweepOnce, start };
}
