import { getOrderQuery } from '../../workflows/order/definitions';
import { eventually } from '../support/api-server';
import { useCase } from './kit';

/**
 * Issue 9, case 8: a Temporal cancellation of an order's workflow (`temporal workflow cancel`, the
 * client's `handle.cancel()`) before shipment runs the same compensation as a buyer cancel; after
 * shipment it undoes nothing: the order goes on and its timeline records the request. Today nothing
 * handles cancellation: the run ends Canceled with stock, coupon, points and money held.
 */
jest.setTimeout(90_000);

const kit = useCase();

const ENDED = ['COMPLETED', 'CANCELED'];

test('cancelled while awaiting payment: stock, coupon and points released, the intent cancelled; view and projection CANCELLED', async () => {
  const { skuId, memberId, couponId } = await kit.shop();
  const placed = await kit.placeOrder(memberId, { lines: [{ skuId, quantity: 2 }], couponId, pointsToRedeem: 500 });
  expect(placed.status).toBe(201);
  const { orderId } = placed.body;
  expect(await kit.stock(skuId)).toMatchObject({ reserved: 2 });

  await kit.handle(orderId).cancel();
  const cancelled = await kit.waitForStatus(memberId, orderId, 'CANCELLED', 20_000);
  expect(cancelled.phase).toBe('CANCELLED');
  expect(cancelled.cancellation).toEqual(expect.objectContaining({ reason: expect.any(String), by: expect.any(String) }));
  expect(cancelled.payment.status).toBe('CANCELLED');
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await kit.coupon(couponId)).toBe('AVAILABLE');
  expect(await kit.points(memberId)).toEqual({ available: 2_000, held: 0, pending: 0 });
  expect(await kit.intent(placed.body.payment.intentId)).toMatchObject({ status: 'cancelled', capturedFen: 0 });
  expect(await kit.waitForProjection(orderId, 'CANCELLED')).toBeDefined();
  expect(ENDED).toContain(await kit.waitForRunStatus(orderId, ENDED));
});

test('cancelled after payment, before shipment: refunded in full, stock, coupon and points back; view and projection CANCELLED', async () => {
  const { skuId, memberId, couponId } = await kit.shop();
  // 100 yuan, coupon −20, 400 points −4 → 76 yuan.
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }], couponId, pointsToRedeem: 400 });
  expect(order.totals.paidFen).toBe(7_600);

  await kit.handle(order.orderId).cancel();
  const cancelled = await kit.waitForStatus(memberId, order.orderId, 'CANCELLED', 30_000);
  expect(cancelled.phase).toBe('CANCELLED');
  expect(cancelled.totals.refundedFen).toBe(7_600);
  expect(await kit.intent(order.payment.intentId!)).toMatchObject({ capturedFen: 7_600, refundedFen: 7_600 });
  expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 7_600, refundedFen: 7_600, refunds: 1 });
  expect((await kit.ledger(order.orderId)).map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await kit.coupon(couponId)).toBe('AVAILABLE');
  expect(await kit.points(memberId)).toEqual({ available: 2_000, held: 0, pending: 0 });
  expect(await kit.waitForProjection(order.orderId, 'CANCELLED', (row) => row.refundedFen > 0)).toMatchObject({ refundedFen: 7_600 });
  expect(ENDED).toContain(await kit.waitForRunStatus(order.orderId, ENDED));
});

test('cancelled after shipment: nothing is undone, the timeline records the request, the order is delivered and completes', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect((await kit.ship(order.orderId)).status).toBe(200);

  await kit.handle(order.orderId).cancel();
  // The workflow records the request at once; the projection (what GET /orders reads) carries it from the next write on.
  const recorded = await eventually(async () => {
    const view = await kit.handle(order.orderId).query(getOrderQuery);
    return view.timeline.some((entry) => /cancel/i.test(entry.event)) ? view : undefined;
  }, 20_000, 'the cancel request on the timeline');
  expect(recorded.status).toBe('SHIPPED');
  expect(recorded.cancellation).toBeUndefined();
  expect(await kit.runStatus(order.orderId)).toBe('RUNNING');

  const delivered = await kit.deliver(order.orderId);
  expect(delivered.status).toBe(200);
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED', 30_000);
  expect(completed.totals).toMatchObject({ paidFen: 10_000, refundedFen: 0 });
  expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 10_000, refundedFen: 0, refunds: 0 });
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 9, reserved: 0 });
  expect(await kit.points(memberId)).toEqual({ available: 2_100, held: 0, pending: 0 });
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
});
