import { activityBatches } from '../support/activity-batches';
import { recordHistory } from '../support/histories';
import { useCase } from './kit';

/**
 * Payment (patch paid-steps-together): after the capture, the coupon is marked used, the held points
 * are spent and points are awarded for the money paid at once: scheduled by one workflow task, run in
 * parallel, instead of one after the other. When one of them is refused, the others are still done,
 * once; the refused one puts the order in NEEDS_ATTENTION with its step, and ops' answer ends the
 * wait, audited, with nothing applied twice.
 */
jest.setTimeout(90_000);

const kit = useCase();

/** 100 yuan, coupon −20, 400 points −4: 76 yuan to pay. */
async function placeWithCouponAndPoints() {
  const { skuId, memberId, couponId } = await kit.shop();
  const placed = await kit.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }], couponId, pointsToRedeem: 400 });
  expect(placed.status).toBe(201);
  expect(placed.body.totals).toMatchObject({ couponDiscountFen: 2_000, pointsDiscountFen: 400, payableFen: 7_600, pointsUsed: 400 });
  return { memberId, couponId, orderId: placed.body.orderId as string, intentId: placed.body.payment.intentId as string };
}

test('coupon used, held points spent and points awarded are scheduled together after the capture, each applied once', async () => {
  const { memberId, couponId, orderId, intentId } = await placeWithCouponAndPoints();
  await kit.pay(intentId);
  const paid = await kit.waitForStatus(memberId, orderId, 'PAID');
  expect(paid.totals.paidFen).toBe(7_600);

  const batches = await activityBatches(kit.handle(orderId));
  const capture = batches.findIndex((batch) => batch.includes('settlePayment'));
  expect(capture).toBeGreaterThanOrEqual(0);
  expect(batches[capture + 1]?.slice().sort()).toEqual(['awardPendingPoints', 'commitHeldPoints', 'useCoupon']);
  expect(await kit.coupon(couponId)).toBe('USED');
  // 2,000 − 400 spent; 76 yuan paid → 76 points pending until completion.
  expect(await kit.points(memberId)).toEqual({ available: 1_600, held: 0, pending: 76 });
  await recordHistory(kit.env(), orderId, 'standard-paid-steps-together-running', { running: true });
});

test('the coupon refused after payment: the points are still spent and awarded once, the order waits for ops, resolving it ends PAID', async () => {
  const { memberId, couponId, orderId, intentId } = await placeWithCouponAndPoints();
  // A bug elsewhere took the coupon step's key for another operation: marketing refuses the step for good.
  await kit.env().pool.query(`INSERT INTO marketing.operations (key, operation, state) VALUES ($1, 'manual-adjustment', 'APPLIED')`, [`${orderId}:use-coupon`]);
  await kit.pay(intentId);

  const stuck = await kit.waitForPhase(memberId, orderId, 'NEEDS_ATTENTION', 40_000);
  expect(stuck.attention).toMatchObject({ step: 'mark coupon used' });
  expect(await kit.points(memberId)).toEqual({ available: 1_600, held: 0, pending: 76 });
  expect(await kit.coupon(couponId)).toBe('LOCKED');

  const resolved = await kit.admin(`/admin/orders/${orderId}/resolve`, { reason: 'coupon closed by hand, ticket MKT-3' });
  expect([200, 202]).toContain(resolved.status);
  const after = await kit.waitForPhase(memberId, orderId, 'PAID', 30_000);
  expect(after.attention).toBeUndefined();
  expect(after.phase).toBe('PAID');
  expect(await kit.attentionActions(orderId)).toEqual([expect.objectContaining({ action: 'RESOLVE', reason: 'coupon closed by hand, ticket MKT-3' })]);
  // Nothing applied twice after ops' answer.
  expect(await kit.points(memberId)).toEqual({ available: 1_600, held: 0, pending: 76 });
  const { rows } = await kit.env().pool.query(`SELECT count(*)::int AS n FROM member.operations WHERE key LIKE $1`, [`${orderId}:%`]);
  expect(rows[0].n).toBe(3); // hold, commit, award
  await recordHistory(kit.env(), orderId, 'standard-paid-step-resolved-running', { running: true });
});
