import { orderIdFor } from '../../api/orders';
import { services } from '../support/fixtures';
import { orderWorkflowId } from '../../workflows/order/definitions';
import { recordWorkflowHistory } from '../support/histories';
import { useCase } from './kit';

/**
 * Placement runs as local activities inside one workflow task. When that task is lost after some
 * holds were made (the worker died), placement runs again from the start; the holds replay by key
 * when it gets to them. A run refused before it gets there must still undo them: placement expects
 * its holds up front and a refusal undoes each by key (the chaos run of session 5 found a REJECTED
 * order still holding its stock reservation and its locked coupon).
 *
 * Here the lost task's holds are made by the modules themselves, under the keys the order uses, before
 * the order is placed: a stock reservation and the coupon locked for it. The placement then is refused
 * at its quote, before its own holds.
 */
jest.setTimeout(60_000);

const kit = useCase();

test('a placement refused before its holds undoes the holds a lost workflow task made: stock released, coupon available again', async () => {
  const { skuId, memberId, couponId } = await kit.shop();
  const key = kit.next('key');
  const orderId = orderIdFor(memberId, key);
  const modules = services(kit.env().pool);
  await modules.inventory.reserve({ idempotencyKey: `${orderId}:reserve-stock`, orderId, lines: [{ skuId, quantity: 2 }] });
  await modules.marketing.lockCoupon({ idempotencyKey: `${orderId}:lock-coupon`, couponId, memberId, orderId });
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 2 });
  expect(await kit.coupon(couponId)).toBe('LOCKED');

  // Refused by the quote: more points than the member has.
  const placed = await kit.placeOrder(memberId, { lines: [{ skuId, quantity: 2 }], couponId, pointsToRedeem: 9_000_000 }, key);
  expect(placed.status).toBe(422);
  expect(placed.body.orderId).toBe(orderId);

  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await kit.coupon(couponId)).toBe('AVAILABLE');
  expect((await kit.projection(orderId))?.status).toBe('REJECTED');
  expect(await kit.waitForRunStatus(orderId, ['COMPLETED'])).toBe('COMPLETED');
  // RECORD_HISTORIES=1: the replay fixture of a refused local placement (the patch's marker, the undos).
  await recordWorkflowHistory(kit.env(), orderWorkflowId(orderId), 'placement-refused-after-lost-task.local-steps');
});
