import { CancellationScope, condition } from '@temporalio/workflow';

/**
 * Waits for `fn` in a scope that a workflow cancel does not interrupt. Message handlers run in the
 * workflow's root scope: once ops cancel a run (after shipment it goes on, refusing nothing), a plain
 * condition or activity there would throw and fail the handler, or the whole run.
 */
export function waitUntil(fn: () => boolean): Promise<void> {
  return shielded(() => condition(fn));
}

/**
 * Runs `work` (an activity, a child start) so a workflow cancel does not interrupt it. Inside a scope
 * that already shields it (an order's process runs in one) no scope is added: a scope costs promises,
 * each traced by the SDK's stack-trace hook, for nothing (issue 17).
 */
export function shielded<T>(work: () => Promise<T>): Promise<T> {
  if (!CancellationScope.current().cancellable) return work();
  return CancellationScope.nonCancellable(work);
}
