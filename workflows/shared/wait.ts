import { CancellationScope, condition } from '@temporalio/workflow';

/**
 * Waits for `fn` in a scope that a workflow cancel does not interrupt. Message handlers run in the
 * workflow's root scope: once ops cancel a run (after shipment it goes on, refusing nothing), a plain
 * condition or activity there would throw and fail the handler, or the whole run.
 */
export function waitUntil(fn: () => boolean): Promise<void> {
  return CancellationScope.nonCancellable(() => condition(fn));
}

/** Runs `work` (an activity, a child start) so a workflow cancel does not interrupt it. */
export function shielded<T>(work: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(work);
}
