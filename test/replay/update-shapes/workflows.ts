import { condition, defineUpdate, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../../activities';
import { localMustComplete } from '../../../workflows/shared/activities';
import { setUpdateHandler } from '../../../workflows/shared/updates';
import type { OrderView } from '../../../workflows/order/definitions';

/**
 * The shape of an order's placement, reduced to what the SDK replays out of order: a local step, the
 * decision, a local step that keeps failing (the projection), then a timer (the payment deadline).
 * The placement update arrives on its own, after the start. `held`: the update set and the local
 * steps counted as the order's are since patch order-updates-after-local-steps; else as before it
 * (plain handler, plain stubs with the same retry policy). Whether the SDK reorders also depends on
 * how many promise steps lie between a local activity's result and the next command: one `.finally`
 * more and it happens not to; the order workflow met it on one path in the chaos run.
 */
export const placementAnswerUpdate = defineUpdate<string>('placementAnswer');

const plainLocalSteps = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function placementShapeWorkflow(held: boolean): Promise<string> {
  let decided = false;
  setUpdateHandler(held, placementAnswerUpdate, async () => {
    await condition(() => decided);
    return 'placed';
  });
  const steps = held ? localMustComplete : plainLocalSteps;
  await steps.getSkusForOrder({ skuIds: ['sku_shape'] });
  decided = true;
  await steps.projectOrder({ orderId: 'ord_shape' } as OrderView);
  await condition(() => false, 500);
  return 'done';
}
