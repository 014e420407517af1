import { proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { activityGroupOf, moduleTaskQueue } from './task-queues';

/**
 * Activity stubs of the order workflows, in two retry classes:
 * - forward steps: retried with backoff for a bounded time, after which the step counts as failed and
 *   the saga compensates (a business "no" is a non-retryable failure and fails at once);
 * - compensations and steps after payment that must happen: retried until they succeed.
 * Both are safe to retry because every activity is idempotent by its key.
 * Each stub schedules its activity on its module's task queue (./task-queues.ts).
 */
export const forward = routedActivities({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/** Forward steps a person waits on (the buyer's final-payment request): a short bound, then a refusal they see. */
export const interactive = routedActivities({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

export const mustComplete = routedActivities({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** proxyActivities with the task queue chosen per activity name, from the running workflow's own queue. */
function routedActivities(options: ActivityOptions) {
  const unrouted = proxyActivities<Activities>(options);
  return new Proxy(unrouted, {
    get(target, name) {
      const group = typeof name === 'string' ? activityGroupOf(name) : undefined;
      if (!group) return Reflect.get(target, name);
      return Reflect.get(proxyActivities<Activities>({ ...options, taskQueue: moduleTaskQueue(workflowInfo().taskQueue, group) }), name);
    },
  });
}
