import { condition, defineUpdate } from '@temporalio/workflow';
import { localMustComplete } from '../../../workflows/shared/activities';
import { setUpdateHandler } from '../../../workflows/shared/updates';
import type { OrderView } from '../../../workflows/order/definitions';

/**
 * The shape of an order's placement, reduced to what the SDK replays out of order: a local step, the
 * decision, a local step that keeps failing (the projection), then a timer (the payment deadline).
 * The placement update arrives on its own, after the start. The local steps are the order's own
 * stubs. `held`: the update set as the order's are since patch order-updates-after-local-steps; else
 * as before it (a plain handler). Whether the SDK reorders also depends on how many promise steps lie between a
 * local activity's result and the next command: one `.finally` more and it happens not to; the order
 * workflow met it on one path in the chaos run.
 */
export const placementAnswerUpdate = defineUpdate<string>('placementAnswer');

export async function placementShapeWorkflow(held: boolean): Promise<string> {
  let decided = false;
  setUpdateHandler(held, placementAnswerUpdate, async () => {
    await condition(() => decided);
    return 'placed';
  });
  await localMustComplete.getSkusForOrder({ skuIds: ['sku_shape'] });
  decided = true;
  await localMustComplete.projectOrder({ orderId: 'ord_shape' } as OrderView);
  await condition(() => false, 500);
  return 'done';
}
