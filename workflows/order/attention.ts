import { condition, log, workflowInfo } from '@temporalio/workflow';
import { mustComplete } from '../shared/activities';
import { isBusinessRefusal, refusalCode, refusalMessage } from '../shared/refusals';
import { now } from '../shared/time';
import type { OrderContext } from './context';

/**
 * Runs a step that must happen (a compensation, or a step after the money was taken). A business
 * refusal or any other non-retryable failure does not fail the workflow: the order enters
 * NEEDS_ATTENTION with the reason and waits for ops, who retry the step (`retryCompensation`, after
 * fixing its cause) or record that it was done by hand (`resolveManually`). Both are audited.
 * Returns false when the step was resolved by hand instead of done.
 */
export async function mustDo(order: OrderContext, step: string, work: () => Promise<unknown>): Promise<boolean> {
  for (;;) {
    try {
      await work();
      return true;
    } catch (error) {
      if (!isBusinessRefusal(error)) throw error;
      const action = await waitForOps(order, step, error);
      if (action === 'resolve') return false;
    }
  }
}

/** A step that must happen: what ops see it called, and its work. */
export interface MustStep {
  step: string;
  work: () => Promise<unknown>;
}

/**
 * Runs steps that must happen and do not depend on each other at once (their activities scheduled
 * in one workflow task, run in parallel, instead of one after the other). One that fails for a
 * business reason is then run again through `mustDo`, one at a time (each may need ops). Safe
 * because every step is idempotent by its key.
 */
export async function mustDoAll(order: OrderContext, steps: readonly MustStep[]): Promise<void> {
  const settled = await Promise.allSettled(steps.map(({ work }) => work()));
  for (const [index, outcome] of settled.entries()) {
    if (outcome.status === 'fulfilled') continue;
    if (!isBusinessRefusal(outcome.reason)) throw outcome.reason;
    await mustDo(order, steps[index].step, steps[index].work);
  }
}

/** The order waits for a person: phase NEEDS_ATTENTION, search attribute, query, projection. */
async function waitForOps(order: OrderContext, step: string, error: unknown): Promise<'retry' | 'resolve'> {
  const fromPhase = order.phase;
  const reason = refusalMessage(error);
  log.warn('order needs attention', { step, reason });
  order.view.attention = { step, reason, code: refusalCode(error), since: now(), fromPhase };
  order.state.setAttentionPhase('NEEDS_ATTENTION');
  order.record('needs attention', { step, reason });
  await order.project();

  await condition(() => order.attentionRequest !== undefined);
  const request = order.attentionRequest!;
  order.attentionRequest = undefined;
  order.attentionCount += 1;
  const { workflowId, runId } = workflowInfo();
  await mustComplete.recordAttentionAction.executeWithOptions({ summary: `audit: ${request.action} by ${request.by}` }, [
    {
      idempotencyKey: order.key(`attention:${order.attentionCount}`),
      orderId: order.orderId,
      action: request.action === 'retry' ? 'RETRY' : 'RESOLVE',
      actor: request.by,
      reason: request.reason,
      step,
      workflowId,
      runId,
    },
  ]);
  order.view.attention = undefined;
  order.state.setAttentionPhase(fromPhase);
  order.record(request.action === 'retry' ? 'retried by ops' : 'resolved manually', { step, by: request.by, reason: request.reason });
  await order.project();
  return request.action;
}
