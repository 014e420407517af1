import { refundRequestId } from '../../api/refunds';
import { refundWorkflowId } from '../../workflows/after-sales/definitions';
import { caseTimeouts, type PhasedOrder, useCase } from './kit';

/**
 * Issue 9, case 6: the order watches its refund children. A child `refund-<requestId>` that fails or
 * is terminated marks its request FAILED on the order, frees the amount it reserved, and lets the
 * order go on (ship, close the after-sales window, complete). A child that cannot even start gives
 * its reservation back. Today the order never hears of either: shipment and the window wait forever,
 * and the amount stays reserved.
 */
jest.setTimeout(90_000);

const kit = useCase(caseTimeouts({ afterSalesWindowMs: 8_000 }));

const terminate = (workflowId: string) => kit.env().temporal.workflow.getHandle(workflowId).terminate('saga-case test: the refund workflow dies');

/** The request as its order shows it (status FAILED is the refactor's: `string` until it lands in the type). */
function requestOn(order: PhasedOrder, requestId: string): { status: string } | undefined {
  return order.afterSales?.requests.find((entry) => entry.requestId === requestId);
}
const reservedFen = (order: PhasedOrder) => (order.afterSales?.lines ?? []).reduce((sum, line) => sum + line.reservedFen, 0);

test('before shipment: a terminated refund child marks its request FAILED, frees the reservation; the order ships and completes', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 2 }] }); // 200 yuan
  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'only need one' });
  expect(asked.status).toBe(201);
  const { requestId, workflowId } = asked.body;
  expect(workflowId).toBe(refundWorkflowId(requestId));
  expect(reservedFen(await kit.getOrder(memberId, order.orderId))).toBe(10_000);

  await terminate(workflowId);
  const seen = await kit.waitFor(memberId, order.orderId, (o) => requestOn(o, requestId)?.status === 'FAILED', 'the request marked FAILED', 20_000);
  expect(reservedFen(seen)).toBe(0);
  expect(seen.afterSales?.lines[0]).toMatchObject({ reservedQuantity: 0, refundedQuantity: 0 });
  expect(seen.totals.refundedFen).toBe(0);

  // The warehouse no longer waits for it; the order runs to its end with nothing refunded.
  const shipped = await kit.ship(order.orderId);
  expect(shipped.status).toBe(200);
  expect((await kit.deliver(order.orderId)).status).toBe(200);
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED', 30_000);
  expect(completed.totals).toMatchObject({ paidFen: 20_000, refundedFen: 0 });
  expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 20_000, refundedFen: 0, refunds: 0 });
  expect((await kit.ledger(order.orderId)).map((entry) => [entry.kind, entry.amountFen])).toEqual([
    ['PAYMENT_CAPTURED', 20_000],
    ['REVENUE_RECOGNISED', 20_000],
  ]);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8, reserved: 0 });
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
});

test('after delivery: a terminated refund child does not hold the after-sales window open; the order completes', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect((await kit.ship(order.orderId)).status).toBe(200);
  expect((await kit.deliver(order.orderId)).status).toBe(200);
  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'RETURN_AND_REFUND', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'wrong colour' });
  expect(asked.status).toBe(201);

  await terminate(asked.body.workflowId);
  await kit.waitFor(memberId, order.orderId, (o) => requestOn(o, asked.body.requestId)?.status === 'FAILED', 'the request marked FAILED', 20_000);
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED', 30_000);
  expect(completed.totals).toMatchObject({ paidFen: 10_000, refundedFen: 0 });
  expect(reservedFen(completed)).toBe(0);
  expect((await kit.ledger(order.orderId)).map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'REVENUE_RECOGNISED']);
  expect(await kit.points(memberId)).toEqual({ available: 2_100, held: 0, pending: 0 });
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
});

test('a refund child that cannot start returns its reservation: a new request for the same amount is accepted and paid once', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 2 }] }); // 200 yuan
  const key = kit.next('blocked-refund');
  const blockedId = refundWorkflowId(refundRequestId(order.orderId, key));
  // Another workflow already holds the id the child would get: its start fails.
  const blocker = await kit.env().temporal.workflow.start('placeholderWorkflow', {
    workflowId: blockedId,
    taskQueue: `${kit.env().taskQueue}-nobody`,
    args: [],
  });
  try {
    const body = { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 2 }], reason: 'changed my mind' };
    // Whatever the answer (the refactor may accept and then fail the request, or refuse it), it must not stay reserved.
    await kit.askRefund(memberId, order.orderId, body, key);
    const freed = await kit.waitFor(memberId, order.orderId, (o) => reservedFen(o) === 0, 'the reservation returned', 20_000);
    expect(freed.afterSales?.requests.filter((entry) => entry.status === 'OPEN') ?? []).toEqual([]);
    expect(freed.status).toBe('PAID');

    const again = await kit.askRefund(memberId, order.orderId, body);
    expect(again.status).toBe(201);
    expect(again.body.requestedFen).toBe(20_000);
    expect(again.body.workflowId).not.toBe(blockedId);
    expect((await kit.approve(again.body.requestId)).status).toBe(200);
    await kit.waitForRequest(again.body.requestId, 'REFUNDED');
    const refunded = await kit.waitForStatus(memberId, order.orderId, 'REFUNDED');
    expect(refunded.totals.refundedFen).toBe(20_000);
    expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 20_000, refundedFen: 20_000, refunds: 1 });
    expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  } finally {
    await blocker.terminate('saga-case test: placeholder').catch(() => undefined);
  }
});
