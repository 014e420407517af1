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

async function timed(probe: () => Promise<unknown>, timeoutMs = 3_000): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRouter(deps: { pool: Pool; temporal: Client }): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([
      timed(() => deps.pool.query('SELECT 1')),
      timed(() => deps.temporal.workflowService.getSystemInfo({})),
    ]);
    const ok = postgres.ok && temporal.ok;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks: { postgres, temporal } });
  });
  return router;
}
