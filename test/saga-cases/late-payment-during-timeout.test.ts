import { caseTimeouts, viewRefundsFen, useCase } from './kit';

/**
 * Issue 9, case 4: the payment deadline passed and the timeout's compensation is running (the
 * intent's cancel is still being retried) when the buyer's payment callback arrives. The payment gate
 * is closed by then: the event is a late payment, refunded automatically, and the order ends
 * CANCELLED showing that refund. Today the callback is taken as the order's payment (SUCCEEDED) and
 * the order ends CANCELLED showing a successful payment that is never given back in its books.
 *
 * The compensation is held by the sandbox failing the intent's cancel (retryable) three times.
 */
jest.setTimeout(90_000);

const kit = useCase(caseTimeouts({ paymentMs: 3_000 }));

test('a payment callback during the payment-timeout compensation becomes a late payment: refunded, shown, the order CANCELLED', async () => {
  const { skuId, memberId, couponId } = await kit.shop();
  // 100 yuan, coupon −20 → 80 yuan.
  const placed = await kit.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }], couponId });
  expect(placed.status).toBe(201);
  const order = placed.body;
  expect(order.totals.payableFen).toBe(8_000);

  const { id } = await kit.addBehaviour({ action: 'error', operation: 'cancel', orderId: order.orderId, count: 3 });
  await kit.waitForBehaviourUse(id, 3); // the deadline passed; the compensation is cancelling the intent
  const paid = await kit.pay(order.payment.intentId);
  expect(paid.outcome).toBe('succeeded');

  const ended = await kit.waitForStatus(memberId, order.orderId, 'CANCELLED');
  expect(ended.cancellation).toMatchObject({ reason: 'payment timeout', by: 'system' });
  // The order did not take the payment: the gate was closed when it came.
  expect(ended.payment.status).not.toBe('SUCCEEDED');
  const cancelled = await kit.waitFor(memberId, order.orderId, (o) => o.payment.refunds.length > 0, 'the late payment refunded', 20_000);
  expect(cancelled.phase).toBe('CANCELLED');
  expect(cancelled.payment.refunds).toEqual([expect.objectContaining({ reason: 'late payment', amountFen: 8_000 })]);
  expect(viewRefundsFen(cancelled)).toBe(8_000);
  expect(cancelled.totals.paidFen - cancelled.totals.refundedFen).toBe(0);

  // At the provider and in finance the buyer's money is back (voided or captured then refunded), once.
  const intent = await kit.intent(order.payment.intentId);
  expect(intent.capturedFen).toBe(intent.refundedFen);
  expect(['cancelled', 'captured']).toContain(intent.status);
  const moved = await kit.providerTotals(order.orderId);
  expect(moved.capturedFen).toBe(moved.refundedFen);
  expect(moved.refunds).toBeLessThanOrEqual(1);
  for (const payment of await kit.payments(order.orderId)) expect(payment.capturedFen - payment.refundedFen).toBe(0);
  const ledger = await kit.ledger(order.orderId);
  const sum = (kind: string) => ledger.filter((entry) => entry.kind === kind).reduce((total, entry) => total + entry.amountFen, 0);
  expect(sum('PAYMENT_CAPTURED')).toBe(sum('REFUND'));
  expect(ledger.map((entry) => entry.kind)).not.toContain('REVENUE_RECOGNISED');

  // The timeout's compensation finished: stock and coupon back.
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await kit.coupon(couponId)).toBe('AVAILABLE');
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
  const projected = await kit.waitForProjection(order.orderId, 'CANCELLED', (row) => row.view.payment.refunds.length > 0);
  expect(projected.view.payment.refunds).toEqual([expect.objectContaining({ reason: 'late payment', amountFen: 8_000 })]);
});
