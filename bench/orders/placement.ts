import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { BENCH_SKU, type DriveContext } from './drive';
import { noopUpdate, type NoopPlan } from './noop-workflow';
import type { Shape } from './shape';
import { closedLoop, percentile } from './stats';

/**
 * The placement answer alone (`POST /orders` until the priced, reserved order with its payment intent
 * comes back), at C=1 and at C, beside a no-op update-with-start that runs what an order's placement
 * runs before it answers (its local activities and activities, counted from the order's history).
 * The orders placed here stay awaiting payment; the bench's stack is thrown away after the run.
 */
export interface PlacementFigures {
  concurrency: number;
  count: number;
  engine: { p50: number; p99: number };
  noop: { p50: number; p99: number };
}

/** The no-op's placement: the first block of the order's shape, answered, then the run waits (a signal it never gets). */
export function placementPlanOf(order: Shape): NoopPlan {
  const first = (counts: number[]) => (counts[0] ?? 0) + (counts[1] ?? 0);
  return { messages: ['u', 's'], activitiesAfter: [first(order.activitiesAfter), 0], localActivitiesAfter: [first(order.localActivitiesAfter), 0], padTimers: 0, waitMs: 0 };
}

export async function measurePlacement(
  ctx: DriveContext,
  noop: { temporal: Client; taskQueue: string; plan: NoopPlan },
  buyersFor: (tag: string, count: number) => Promise<string[]>,
  runs: { concurrency: number; count: number }[],
): Promise<PlacementFigures[]> {
  const figures: PlacementFigures[] = [];
  for (const [r, { concurrency, count }] of runs.entries()) {
    const buyers = await buyersFor(`placement${r}`, count);
    const engine = await closedLoop(count, concurrency, async (i) => {
      const t = Date.now();
      const placed = await ctx.api.call('POST', '/orders', { customer: buyers[i] }, { lines: [{ skuId: BENCH_SKU.id, quantity: 1 }] }, { 'Idempotency-Key': `bench-placement-${ctx.runId}-${r}-${i}` });
      if (placed.status !== 201) throw new Error(`placement: HTTP ${placed.status} ${JSON.stringify(placed.body).slice(0, 200)}`);
      return Date.now() - t;
    });
    const noopMs = await closedLoop(count, concurrency, async (i) => {
      const t = Date.now();
      const start = new WithStartWorkflowOperation('noopOrderWorkflow', {
        workflowId: `noop-placement-${ctx.runId}-${r}-${i}`,
        taskQueue: noop.taskQueue,
        args: [noop.plan],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      });
      await noop.temporal.workflow.executeUpdateWithStart(noopUpdate, { args: [1], startWorkflowOperation: start });
      return Date.now() - t;
    });
    figures.push({
      concurrency,
      count,
      engine: { p50: percentile(engine, 50), p99: percentile(engine, 99) },
      noop: { p50: percentile(noopMs, 50), p99: percentile(noopMs, 99) },
    });
  }
  return figures;
}
