import { timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { registry, scrapedGauge } from '../infra/metrics';
import { latestReconciliation } from '../modules/finance/reconciliation-status';
import { ProblemError } from './problem';

/** Orders of this engine (its task queue) that a person must look at (workflows/search-attributes.ts `OrderPhase`). */
export function needsAttentionQuery(taskQueue: string): string {
  return `OrderPhase = "NEEDS_ATTENTION" AND TaskQueue = ${JSON.stringify(taskQueue)}`;
}

/**
 * `GET /metrics` in Prometheus text format. It tells business volumes, so it is not public: the
 * scraper sends `Authorization: Bearer <METRICS_TOKEN>` (required in production, see infra/config.ts);
 * with no token configured (development, tests) it is open.
 */
export function metricsRouter(deps: { pool: Pool; temporal: Client; taskQueue: string; metricsToken?: string }): Router {
  // Visibility and the last reconciliation report are read when Prometheus scrapes, not per request.
  scrapedGauge(
    'order_engine_orders_needs_attention',
    'Orders in phase NEEDS_ATTENTION (a Temporal visibility count; absent while the OrderPhase search attribute is not registered)',
    ['phase'],
    async () => ({ labels: { phase: 'NEEDS_ATTENTION' }, value: (await deps.temporal.workflow.count(needsAttentionQuery(deps.taskQueue))).count }),
  );
  scrapedGauge(
    'order_engine_reconciliation_differences',
    'Differences between the payment provider and the ledger in the latest reconciliation report (absent before the first report)',
    ['report_date'],
    async () => {
      const latest = await latestReconciliation(deps.pool);
      return latest && { labels: { report_date: latest.date }, value: latest.differences };
    },
  );
  scrapedGauge(
    'order_engine_reconciliation_last_report_timestamp_seconds',
    'When the latest reconciliation report was written (unix seconds)',
    ['report_date'],
    async () => {
      const latest = await latestReconciliation(deps.pool);
      return latest && { labels: { report_date: latest.date }, value: latest.createdAt.getTime() / 1000 };
    },
  );

  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (deps.metricsToken && !bearerMatches(req.get('authorization'), deps.metricsToken)) {
      throw new ProblemError(401, 'unauthorized', 'Unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
    }
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
