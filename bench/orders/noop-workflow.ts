import { condition, defineSignal, defineUpdate, proxyActivities, proxyLocalActivities, setHandler, sleep } from '@temporalio/workflow';

/**
 * The no-op limit of bench/orders: a workflow that makes the same Temporal work as one of our orders
 * (workflow tasks, activities, local activities, timers, updates and signals, counted from a real
 * order's history in the same run) and no business work. Messages arrive in the plan's order; between
 * them the workflow runs its share of the activities one after the other, as an order's steps do.
 */
export interface NoopPlan {
  /** 'u' = update, 's' = signal, in the order an order receives them (the first is the update-with-start). */
  messages: ('u' | 's')[];
  /** Activities run after each message (index 0: after the first message), sequentially. */
  activitiesAfter: number[];
  /** Local activities run after each message, before its activities (an order's placement: lookups and holds). */
  localActivitiesAfter: number[];
  /** Timers of 1 ms that fire (each one more workflow task), padding the shape to the order's task count. */
  padTimers: number;
  /** A timer the order waits out (the after-sales window), in ms; 0 for none. */
  waitMs: number;
}

export const noopUpdate = defineUpdate<number, [number]>('noopUpdate');
export const noopSignal = defineSignal<[number]>('noopSignal');

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });
const local = proxyLocalActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });

export async function noopOrderWorkflow(plan: NoopPlan): Promise<number> {
  let received = 0;
  let blocksDone = 0;
  const receive = async (n: number) => {
    received = Math.max(received, n);
    // An order's update answers after the steps it starts (placement answers with the priced order).
    await condition(() => blocksDone >= n);
    return n;
  };
  setHandler(noopUpdate, receive);
  setHandler(noopSignal, (n) => void receive(n));
  for (let i = 0; i < plan.messages.length; i += 1) {
    await condition(() => received >= i + 1);
    for (let l = 0; l < (plan.localActivitiesAfter[i] ?? 0); l += 1) await local.noop();
    for (let a = 0; a < (plan.activitiesAfter[i] ?? 0); a += 1) await noop();
    blocksDone = i + 1;
  }
  for (let t = 0; t < plan.padTimers; t += 1) await sleep(1);
  if (plan.waitMs > 0) await sleep(plan.waitMs);
  return received;
}
