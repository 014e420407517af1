import { proxyActivities, proxyLocalActivities, workflowInfo, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
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
const FORWARD: ActivityOptions & LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
};
const MUST_COMPLETE: ActivityOptions & LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

export const forward = routedActivities(FORWARD);

/** Forward steps a person waits on (the buyer's final-payment request): a short bound, then a refusal they see. */
export const interactive = routedActivities({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

export const mustComplete = routedActivities(MUST_COMPLETE);

/**
 * The same two retry classes as local activities (issue 17): run by the order's own worker inside the
 * workflow task, with no activity task, no round trip through the server and no arguments in the
 * history (one marker event holds the result). Used where a caller waits on the answer (placement)
 * and for the order's projection; effects after placement stay on their module's queue, where they
 * scale out. Every worker registers every activity, so the orders worker can run any of them.
 * Retries past `localRetryThreshold` (1 minute) wait on a server timer, so a long outage does not hold
 * a workflow task open.
 */
export const localForward = counted(proxyLocalActivities<Activities>(FORWARD));
export const localMustComplete = counted(proxyLocalActivities<Activities>(MUST_COMPLETE));

/** Local activities of this run started and not yet resolved (module state is per run in the workflow sandbox). */
let localStepsInFlight = 0;

/** Whether a local activity of this run is running: an update waits for none (./updates.ts). */
export function localStepsRunning(): boolean {
  return localStepsInFlight > 0;
}

/**
 * The stubs, counting what runs. The caller gets the SDK's own promise, not one chained to it: a
 * promise step more between a result and what the code does next changes the order of commands
 * where two continuations meet in one activation, and runs started before the count replay as
 * recorded. The count drops in a reaction added before the caller's, so it is down when the caller
 * resumes.
 */
function counted<Stubs extends object>(stubs: Stubs): Stubs {
  const done = () => {
    localStepsInFlight -= 1;
  };
  const track = <T>(running: Promise<T>): Promise<T> => {
    localStepsInFlight += 1;
    running.then(done, done);
    return running;
  };
  return new Proxy(stubs, {
    get(target, name) {
      const stub = Reflect.get(target, name) as unknown;
      if (typeof stub !== 'function') return stub;
      const run = (...args: unknown[]) => track((stub as (...args: unknown[]) => Promise<unknown>)(...args));
      const withOptions = (stub as { executeWithOptions?: (options: unknown, args: unknown[]) => Promise<unknown> }).executeWithOptions;
      return Object.assign(run, { executeWithOptions: (options: unknown, args: unknown[]) => track(withOptions!(options, args)) });
    },
  });
}

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
