import { eventually } from '../support/api-server';
import { addFlashCampaign, attempt } from '../flash-sale/support';
import { caseTimeouts, GROUP_PRICE, viewRefundsFen, type PhasedOrder, useCase } from './kit';

/**
 * Issue 9, case 7: refunds made by cancelling a paid order are part of the order: the view's
 * `totals.refundedFen` and `payment.refunds`, and the projection's `orders.orders.refunded_fen`, show
 * what finance and the provider refunded, for standard, flash-sale and every member of a failed
 * group-buy. Today all three show 0 while the money went back.
 */
jest.setTimeout(90_000);

const kit = useCase(caseTimeouts(), { groupBuyPaymentMs: 10_000, flashSale: { paymentMs: 10_000, sweepIntervalMs: 0 } });

/** The view, the projection, finance and the provider agree that `paidFen` came back. */
async function expectRefundVisible(memberId: string, orderId: string, paidFen: number) {
  const order: PhasedOrder = await kit.waitForStatus(memberId, orderId, 'CANCELLED');
  expect(order.totals.paidFen).toBe(paidFen);
  expect(order.totals.refundedFen).toBe(paidFen);
  expect(order.payment.refunds.length).toBeGreaterThanOrEqual(1);
  expect(viewRefundsFen(order)).toBe(paidFen);
  const projected = await kit.waitForProjection(orderId, 'CANCELLED', (row) => row.refundedFen > 0);
  expect(projected.refundedFen).toBe(paidFen);
  expect(projected.view.totals.refundedFen).toBe(paidFen);
  const [payment] = await kit.payments(orderId);
  expect(payment).toMatchObject({ capturedFen: paidFen, refundedFen: paidFen });
  expect(await kit.providerTotals(orderId)).toEqual({ capturedFen: paidFen, refundedFen: paidFen, refunds: 1 });
  return order;
}

test('standard: the buyer cancels a paid order; the refund shows on the order and its projection', async () => {
  const { skuId, memberId, couponId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }], couponId }); // 100 − 20 = 80 yuan
  expect(order.totals.paidFen).toBe(8_000);
  const cancelled = await kit.cancel(memberId, order.orderId);
  expect(cancelled.status).toBe(200);
  const shown = await expectRefundVisible(memberId, order.orderId, 8_000);
  expect(shown.payment.refunds).toEqual([expect.objectContaining({ amountFen: 8_000, reason: expect.any(String), at: expect.any(String) })]);
});

test('a long cancel: the refund shows on the order as soon as the money is back, while a later undo still waits', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect(order.totals.paidFen).toBe(10_000);
  // The stock row is locked elsewhere: the release of the reservation (an undo after the refund) waits on it.
  const locker = await kit.env().pool.connect();
  let cancelled: Promise<Awaited<ReturnType<typeof kit.cancel>>> | undefined;
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM inventory.stock WHERE sku_id = $1 FOR UPDATE', [skuId]);
    // The cancel answers once the order is cancelled: it is asked now and awaited after the lock is gone.
    cancelled = Promise.resolve(kit.cancel(memberId, order.orderId)); // sent now (a supertest request goes when awaited)
    const meanwhile = await eventually(async () => {
      const row = await kit.projection(order.orderId);
      return row?.view.phase === 'CANCELLING' && row.refundedFen > 0 ? row : undefined;
    }, 20_000, 'the refund projected while the cancel runs');
    expect(meanwhile.refundedFen).toBe(10_000);
    expect(meanwhile.view.payment.refunds).toEqual([expect.objectContaining({ amountFen: 10_000 })]);
    expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 10_000, refundedFen: 10_000, refunds: 1 });
    expect(await kit.stock(skuId)).toMatchObject({ reserved: 1 });
  } finally {
    await locker.query('ROLLBACK');
    locker.release();
  }
  expect((await cancelled)?.status).toBe(200);
  await expectRefundVisible(memberId, order.orderId, 10_000);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
});

test('flash-sale: the buyer cancels a paid order; the refund shows on the order and its projection', async () => {
  const { campaignId, skuId } = await addFlashCampaign(kit.env(), kit.next('fs_case'), { stockCap: 3, perUserLimit: 1, flashPriceFen: 9_900 });
  const buyer = await kit.member();
  const admitted = await attempt(kit.api(), campaignId, buyer, { skuId, quantity: 1 });
  expect(admitted.status).toBe(201);
  await kit.pay(admitted.body.payment.intentId);
  await kit.waitForStatus(buyer, admitted.body.orderId, 'PAID');
  expect((await kit.cancel(buyer, admitted.body.orderId)).status).toBe(200);
  await expectRefundVisible(buyer, admitted.body.orderId, 9_900);
});

test('group-buy: the group fails at expiry; every paid member shows the full refund on the order and its projection', async () => {
  const { campaignId, skuId } = await kit.createGroupBuy({ groupSize: 3, endsInMs: 8_000 });
  const [leader, member] = [await kit.member(), await kit.member()];
  const lead = await kit.joinGroupBuy(leader, campaignId);
  const joined = await kit.joinGroupBuy(member, campaignId, lead.group!.groupId);
  await kit.pay(lead.payment.intentId!);
  await kit.pay(joined.payment.intentId!);
  await kit.waitForGroup(lead.group!.groupId, 'FAILED');

  for (const [buyer, placed] of [[leader, lead], [member, joined]] as const) {
    const shown = await expectRefundVisible(buyer, placed.orderId, GROUP_PRICE);
    expect(shown.group?.outcome).toBe('FAILED');
  }
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
});
