import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { rootLogger, type Logger } from '../infra/logger';
import { registry } from './openapi';

/**
 * Liveness and readiness, split as orchestrators expect: `/healthz` says the process is alive and
 * serving (a restart would not help otherwise), `/readyz` says it can do its job now: PostgreSQL and
 * Temporal answer and some worker is polling the task queue (else orders would be accepted and sit).
 */
const CheckSchema = z.object({ ok: z.boolean(), latencyMs: z.number().optional(), error: z.string().optional() });
const ReadinessSchema = registry.register(
  'Readiness',
  z.object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({ postgres: CheckSchema, temporal: CheckSchema, workers: CheckSchema.extend({ pollers: z.number().optional() }) }),
  }),
);

registry.registerPath({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness: the API process is up and serving',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});
registry.registerPath({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: PostgreSQL and Temporal reachable, a worker polling the task queue',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
    503: { description: 'A dependency is missing', content: { 'application/json': { schema: ReadinessSchema } } },
  },
});

type Check = { ok: boolean; latencyMs?: number; error?: string };

/** A poller seen this recently counts as polling (a long poll lasts up to a minute). */
const POLLER_FRESH_MS = 120_000;

class TimeoutError extends Error {}
class NoPollerError extends Error {}

/**
 * A failed probe says only "unreachable", "timeout" or "no worker polling": the backend's own error
 * text (hosts, users, versions) is for the log, never for an unauthenticated endpoint.
 */
async function timed(what: string, probe: () => Promise<unknown>, logger: Logger, timeoutMs = 3_000): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`no answer in ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    logger.warn({ err: error, check: what }, `health: ${what} check failed`);
    const said = error instanceof TimeoutError ? 'timeout' : error instanceof NoPollerError ? 'no worker polling' : 'unreachable';
    return { ok: false, error: said };
  } finally {
    clearTimeout(timer);
  }
}

/** How many workers polled the task queue's workflow tasks recently. */
export async function recentPollers(temporal: Client, taskQueue: string): Promise<number> {
  const response = await temporal.workflowService.describeTaskQueue({
    namespace: temporal.options.namespace,
    taskQueue: { name: taskQueue, kind: proto.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const freshSince = Date.now() - POLLER_FRESH_MS;
  return (response.pollers ?? []).filter((poller) => {
    const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
    return seconds * 1000 >= freshSince;
  }).length;
}

export function healthRouter(deps: { pool: Pool; temporal: Client; settings: { taskQueue: string }; logger?: Logger }): Router {
  const logger = deps.logger ?? rootLogger();
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    let pollers: number | undefined;
    const [postgres, temporal, workers] = await Promise.all([
      timed('postgres', () => deps.pool.query('SELECT 1'), logger),
      timed('temporal', () => deps.temporal.workflowService.getSystemInfo({}), logger),
      timed('workers', async () => {
        pollers = await recentPollers(deps.temporal, deps.settings.taskQueue);
        if (pollers === 0) throw new NoPollerError(`no worker polls task queue "${deps.settings.taskQueue}"`);
      }, logger),
    ]);
    const ok = postgres.ok && temporal.ok && workers.ok;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks: { postgres, temporal, workers: { ...workers, pollers } } });
  });
  return router;
}
