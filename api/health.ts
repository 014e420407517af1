import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { registry } from './openapi';

const HealthSchema = registry.register(
  'Health',
  z.object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({
      postgres: z.object({ ok: z.boolean(), latencyMs: z.number().optional(), error: z.string().optional() }),
      temporal: z.object({ ok: z.boolean(), latencyMs: z.number().optional(), error: z.string().optional() }),
    }),
  }),
);

registry.registerPath({
  method: 'get',
  path: '/healthz',
  summary: 'Reachability of PostgreSQL and Temporal',
  responses: {
    200: { description: 'Both reachable', content: { 'application/json': { schema: HealthSchema } } },
    503: { description: 'At least one unreachable', content: { 'application/json': { schema: HealthSchema } } },
  },
});

type Check = { ok: boolean; latencyMs?: number; error?: string };

/**
 * A failed probe says only "unreachable" or "timeout": the backend's own error text (hosts, users,
 * versions) is for the log, never for an unauthenticated endpoint.
 */
async function timed(what: string, probe: () => Promise<unknown>, log: (line: string) => void, timeoutMs = 3_000): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`no answer in ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    log(`health: ${what} check failed: ${(error as Error).message}`);
    return { ok: false, error: error instanceof TimeoutError ? 'timeout' : 'unreachable' };
  } finally {
    clearTimeout(timer);
  }
}

class TimeoutError extends Error {}

export function healthRouter(deps: { pool: Pool; temporal: Client; log?: (line: string) => void }): Router {
  const log = deps.log ?? console.error;
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([
      timed('postgres', () => deps.pool.query('SELECT 1'), log),
      timed('temporal', () => deps.temporal.workflowService.getSystemInfo({}), log),
    ]);
    const ok = postgres.ok && temporal.ok;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks: { postgres, temporal } });
  });
  return router;
}
