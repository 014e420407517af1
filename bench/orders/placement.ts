import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal as proto } from '@temporalio/proto';
import { orderWorkflowId } from '../../workflows/order/definitions';
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
  /** p50 of each part of the answer, from the runs' histories (C=1 only: at C the parts overlap). */
  parts?: { engine: AnswerParts; noop: AnswerParts };
}

/**
 * Where an answer's time goes, read from its run's history: the server's start until a worker takes
 * the first workflow task (`toWorker`), that task with its local activities (`task`), and the rest
 * of the caller's wait (`rest`: the API's own work and statements before and after, gRPC, the
 * server persisting the start and the completed task and answering).
 */
export interface AnswerParts {
  toWorker: number;
  task: number;
  rest: number;
}

const { EventType } = proto.api.enums.v1;

async function partsOf(temporal: Client, timed: { workflowId: string; ms: number }[]): Promise<AnswerParts> {
  const parts = await Promise.all(timed.map(async ({ workflowId, ms }) => {
    const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const at = (type: number) => tsToMs(events.find((event) => event.eventType === type)?.eventTime);
    const started = at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    const taken = at(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    const completed = at(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    return { toWorker: taken - started, task: completed - taken, rest: ms - (completed - started) };
  }));
  return {
    toWorker: percentile(parts.map((p) => p.toWorker), 50),
    task: percentile(parts.map((p) => p.task), 50),
    rest: percentile(parts.map((p) => p.rest), 50),
  };
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
      const ms = Date.now() - t;
      if (placed.status !== 201) throw new Error(`placement: HTTP ${placed.status} ${JSON.stringify(placed.body).slice(0, 200)}`);
      return { workflowId: orderWorkflowId((placed.body as { orderId: string }).orderId), ms };
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
      return { workflowId: `noop-placement-${ctx.runId}-${r}-${i}`, ms: Date.now() - t };
    });
    const engineMs = engine.map((e) => e.ms);
    const noopAnswers = noopMs.map((e) => e.ms);
    figures.push({
      concurrency,
      count,
      engine: { p50: percentile(engineMs, 50), p99: percentile(engineMs, 99) },
      noop: { p50: percentile(noopAnswers, 50), p99: percentile(noopAnswers, 99) },
      ...(concurrency === 1 ? { parts: { engine: await partsOf(ctx.temporal, engine), noop: await partsOf(noop.temporal, noopMs) } } : {}),
    });
  }
  return figures;
}
