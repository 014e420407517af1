import { activityBatches } from '../support/activity-batches';
import { useCase } from './kit';

/**
 * Completion (patch fewer-steps-per-order): the kept money's points become available (member) and
 * it is recognised as revenue (finance) at once: scheduled by one workflow task, run in parallel. When one of them is refused,
 * the other is still done, once; the refused one puts the order in NEEDS_ATTENTION with its step, and
 * ops' answer ends the order COMPLETED, audited.
 */
jest.setTimeout(90_000);

const kit = useCase();

async function shippedAndDelivered() {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect((await kit.ship(order.orderId)).status).toBe(200);
  expect((await kit.deliver(order.orderId)).status).toBe(200);
  return { memberId, order };
}

test('points and revenue are scheduled together at completion, and each is applied once', async () => {
  const { memberId, order } = await shippedAndDelivered();
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED', 40_000);
  expect(completed.phase).toBe('COMPLETED');
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
  expect((await activityBatches(kit.handle(order.orderId))).at(-1)?.sort()).toEqual(['completeOrderPoints', 'recognizeRevenue']);
  expect((await kit.ledger(order.orderId)).map((entry) => [entry.kind, entry.amountFen])).toEqual([
    ['PAYMENT_CAPTURED', order.totals.paidFen],
    ['REVENUE_RECOGNISED', order.totals.paidFen],
  ]);
  // 1 point a yuan paid, pending until completion: available now, nothing left pending.
  expect(await kit.points(memberId)).toMatchObject({ pending: 0, available: 2_000 + Math.floor(order.totals.paidFen / 100) });
});

test('revenue refused at completion: the points are still made available once, the order waits for ops, resolving it completes it', async () => {
  const { memberId, order } = await shippedAndDelivered();
  // A bug elsewhere took the revenue step's key for another operation: finance refuses the step for good.
  await kit.env().pool.query(`INSERT INTO finance.operations (key, operation, state) VALUES ($1, 'manual-adjustment', 'APPLIED')`, [`${order.orderId}:recognize-revenue`]);

  const stuck = await kit.waitForPhase(memberId, order.orderId, 'NEEDS_ATTENTION', 40_000);
  expect(stuck.attention).toMatchObject({ step: 'recognise revenue' });
  expect(await kit.points(memberId)).toMatchObject({ pending: 0, available: 2_000 + Math.floor(order.totals.paidFen / 100) });
  expect((await kit.ledger(order.orderId)).map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED']);

  const resolved = await kit.admin(`/admin/orders/${order.orderId}/resolve`, { reason: 'revenue booked by hand, ticket FIN-7' });
  expect([200, 202]).toContain(resolved.status);
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED', 30_000);
  expect(completed.attention).toBeUndefined();
  expect(await kit.attentionActions(order.orderId)).toEqual([expect.objectContaining({ action: 'RESOLVE', reason: 'revenue booked by hand, ticket FIN-7' })]);
  // Points were completed once: not again after ops' answer.
  expect(await kit.points(memberId)).toMatchObject({ pending: 0, available: 2_000 + Math.floor(order.totals.paidFen / 100) });
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
});
