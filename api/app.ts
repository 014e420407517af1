import type { Client } from '@temporalio/client';
import { createOrderProjection } from '../modules/orders/projection';
import { projectUpdatesInto } from './temporal';
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import type { AlipayProvider, WechatpayProvider } from '../modules/finance';
import type { SandboxProvider } from '../modules/finance/sandbox';
import { loadSandboxModule } from '../infra/dev-tools';
import { authenticate, requireRole } from './auth';
import { codecRouter } from './codec';
import { consolePage, supportConsoleRouter } from './console';
import { refundsRouter } from './refunds';
import { supportRouter } from './support';
import { flashSaleRoutes } from './flash-sales';
import { healthRouter } from './health';
import { ordersRouter } from './orders';
import { addressesRouter } from './addresses';
import { presalesRouter } from './presales';
import { groupsRouter } from './groups';
import { adminCampaignsRouter } from './admin-campaigns';
import { paymentsRouter, type RequestWithRawBody } from './payments';
import type { ApiSettings } from './settings';
import { warehouseRouter } from './warehouse';
import { parcelsRouter } from './parcels';
import { opsRouter } from './ops';
import { reportsRouter } from './reports';
import { backOfficeSearchRouter } from './back-office';
import { backOfficeAdminRouter } from './back-office-admin';
import { dashboardRouter } from './dashboard/router';
import { memberNotificationsRouter } from './member-notifications';
import { eventsRouter } from './events';
import { docsPage, openApiDocument } from './openapi';
import { errorHandler, notFoundHandler } from './problem';
import { createIdempotencyKeySweeper, perIpLimit, placementLimit } from './limits';
import { metricsRouter } from './metrics';
import { requestLogging, requestMetrics } from './request-observability';
import { securityHeaders } from './security-headers';
import { rejectUnsafeInput } from './validation';
import { rootLogger, type Logger } from '../infra/logger';

export interface ApiDeps {
  pool: Pool;
  temporal: Client;
  settings: ApiSettings;
  /** The built-in sandbox payment provider, served under /sandbox when the engine uses it (never in production). */
  sandbox?: SandboxProvider;
  /** The Alipay adapter, when the engine takes payments with Alipay: verifies its notifications. */
  alipay?: AlipayProvider;
  /** The WeChat Pay adapter, when the engine takes payments with WeChat Pay. */
  wechatpay?: WechatpayProvider;
  /** Where request and error lines go; the process's logger by default (infra/logger.ts). */
  logger?: Logger;
}

/** The HTTP API as an express app (no listening): `api/main.ts` serves it, tests call it with supertest. */
export function createApp(deps: ApiDeps): Express {
  const logger = deps.logger ?? rootLogger();
  if (deps.sandbox && deps.settings.production) {
    throw new Error('The sandbox payment provider is never served in production: configure PAYMENT_PROVIDER=alipay or wechatpay');
  }
  // Accepted order updates are written to the order projection before they answer (api/temporal.ts).
  projectUpdatesInto(deps.temporal, createOrderProjection({ pool: deps.pool }));
  const app = express();
  app.disable('x-powered-by');
  // First: even the sold-out fast path gets a request id, a log line and a latency sample.
  app.use(requestLogging(logger));
  app.use(requestMetrics);
  app.use(securityHeaders([docsPage, consolePage]));
  const limits = deps.settings.limits;
  if (limits) app.use(perIpLimit(limits));
  if (deps.settings.idempotencyKeyTtlMs) {
    createIdempotencyKeySweeper(deps.pool, deps.settings.idempotencyKeyTtlMs).start(Math.min(deps.settings.idempotencyKeyTtlMs / 4, 3_600_000), (line) => logger.warn(line));
  }
  const flashSales = flashSaleRoutes({ ...deps, logger });
  app.use(flashSales.soldOutFastPath);
  // Keep the exact bytes too: webhook signatures are computed over them, not over re-serialised JSON.
  app.use(
    express.json({
      limit: '256kb',
      verify: (req, _res, buffer) => {
        (req as RequestWithRawBody).rawBody = buffer;
      },
    }),
  );
  // NUL characters and unpaired surrogates anywhere in path, query or body: 400 before any route.
  app.use(rejectUnsafeInput);

  // Flash sales authenticate in their router; mounted early, as the hottest endpoint.
  app.use(flashSales.router);
  app.use(healthRouter({ ...deps, logger }));
  app.use(metricsRouter({ ...deps, taskQueue: deps.settings.taskQueue, metricsToken: deps.settings.metricsToken }));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(docsPage);
  });

  // The payment provider authenticates by signature, the sandbox is the provider's own face.
  app.use(paymentsRouter({ ...deps, sandboxWebhooks: deps.sandbox !== undefined, webhookSecret: deps.settings.webhookSecret, taskQueue: deps.settings.taskQueue, auth: deps.settings.auth }));
  // Its control endpoints (misbehaviour, transaction list) are for admins; the pay page is open.
  if (deps.sandbox) app.use(loadSandboxModule(deps.settings).createSandboxRouter(deps.sandbox, { guardControl: [authenticate(deps.settings.auth), requireRole('admin')] }));

  // The storefront, warehouse and carrier endpoints need a caller: a bearer token or an API key.
  app.use(['/orders', '/warehouse', '/carrier', '/members/me'], authenticate(deps.settings.auth));
  app.use(['/presales', '/group-buys', '/groups', '/admin/campaigns', '/admin/orders'], authenticate(deps.settings.auth));
  if (limits) app.post(['/orders', '/presales/:campaignId/orders', '/group-buys/:campaignId/orders'], placementLimit(limits));
  app.use(presalesRouter(deps));
  app.use(groupsRouter(deps));
  app.use(adminCampaignsRouter(deps));
  app.use(addressesRouter(deps));
  app.use(ordersRouter(deps));
  app.use(warehouseRouter(deps));
  app.use(opsRouter(deps));
  // After-sales: the console page is public (it holds no data; its calls carry the agent's key).
  app.use(supportConsoleRouter());
  app.use(['/refunds', '/support'], authenticate(deps.settings.auth));
  app.use(refundsRouter(deps));
  app.use(supportRouter(deps));
  app.use(parcelsRouter(deps));
  // The buyer's notification preferences and contact details (buyer-scoped: the token's member).
  app.use(['/members/me/notification-preferences', '/members/me/contact'], authenticate(deps.settings.auth));
  app.use(memberNotificationsRouter(deps));
  app.use(['/reports', '/admin/refunds', '/admin/catalog', '/admin/stock', '/admin/coupons', '/admin/alerts'], authenticate(deps.settings.auth));
  app.use(reportsRouter({ pool: deps.pool, timeZone: deps.settings.storeTimeZone }));
  app.use(backOfficeSearchRouter({ pool: deps.pool, timeZone: deps.settings.storeTimeZone }));
  app.use(backOfficeAdminRouter(deps));
  // Domain events: the public schema, the admin's subscribers (it authenticates its admin routes).
  app.use(eventsRouter(deps));
  app.use(dashboardRouter({ pool: deps.pool, auth: deps.settings.auth, timeZone: deps.settings.storeTimeZone ?? 'Asia/Shanghai', log: (line: string) => logger.warn(line) }).router);

  if (deps.settings.codec) app.use(codecRouter(deps.settings.codec, deps.settings.auth));

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
