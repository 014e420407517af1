import { ApplicationFailure } from '@temporalio/common';
import { createMarketingActivities } from '../../activities/marketing';
import { createMarketingService, type MarketingService } from '../../modules/marketing';
import { AlreadyCompensatedError, DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let now = new Date('2030-06-01T00:00:00Z');
const clock = () => now;
let marketing: MarketingService;

const VALID_FROM = '2030-01-01T00:00:00Z';
const VALID_UNTIL = '2030-12-31T00:00:00Z';

beforeAll(async () => {
  env = await createTestEnv();
  marketing = createMarketingService({ pool: env.pool, clock });
  await marketing.createCouponTemplate({ id: 'tpl_10_off', name: '10 yuan off 100', kind: 'AMOUNT_OFF', amountFen: 1_000, minSpendFen: 10_000, validFrom: VALID_FROM, validUntil: VALID_UNTIL });
  await marketing.createCouponTemplate({ id: 'tpl_15_pct', name: '15% off, at most 30 yuan', kind: 'PERCENT_OFF', percent: 15, capFen: 3_000, validFrom: VALID_FROM, validUntil: VALID_UNTIL });
});
afterAll(() => env.close());
beforeEach(() => {
  now = new Date('2030-06-01T00:00:00Z');
});

let sequence = 0;
async function issue(memberId = 'mem_alice', templateId = 'tpl_10_off') {
  return marketing.issueCoupon({ idempotencyKey: `issue-${++sequence}`, templateId, memberId });
}
async function stateOf(couponId: string) {
  return (await marketing.findCoupon(couponId))!.state;
}
async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('coupon templates and issuing', () => {
  test('templates keep their terms; creating one again by id returns the stored one', async () => {
    const again = await marketing.createCouponTemplate({ id: 'tpl_15_pct', name: 'other', kind: 'AMOUNT_OFF', amountFen: 5, validFrom: VALID_FROM, validUntil: VALID_UNTIL });
    expect(again).toMatchObject({ name: '15% off, at most 30 yuan', terms: { kind: 'PERCENT_OFF', percent: 15, capFen: 3_000, minSpendFen: 0 } });
  });

  test('template validation names the field', async () => {
    const invalid: [object, string][] = [
      [{ kind: 'PERCENT_OFF', percent: 100 }, 'percent'],
      [{ kind: 'PERCENT_OFF', percent: 0 }, 'percent'],
      [{ kind: 'PERCENT_OFF', percent: 10, capFen: 0 }, 'capFen'],
      [{ kind: 'AMOUNT_OFF', amountFen: 0 }, 'amountFen'],
      [{ kind: 'AMOUNT_OFF', amountFen: 100, validUntil: VALID_FROM }, 'validUntil'],
    ];
    for (const [terms, field] of invalid) {
      const template = { id: 'tpl_bad', name: 'bad', validFrom: VALID_FROM, validUntil: VALID_UNTIL, ...terms } as never;
      await expect(marketing.createCouponTemplate(template)).rejects.toThrow(field);
    }
    const stored = await env.pool.query(`SELECT count(*)::int AS templates FROM marketing.coupon_templates WHERE id = 'tpl_bad'`);
    expect(stored.rows[0].templates).toBe(0);
  });

  test('issuing is idempotent by key; unknown or expired templates are refused', async () => {
    const input = { idempotencyKey: 'issue-once', templateId: 'tpl_10_off', memberId: 'mem_bob' };
    const first = await marketing.issueCoupon(input);
    expect(await marketing.issueCoupon(input)).toEqual(first);
    expect(first).toMatchObject({ memberId: 'mem_bob', state: 'AVAILABLE', terms: { kind: 'AMOUNT_OFF', amountFen: 1_000, minSpendFen: 10_000 } });
    expect(await marketing.listCoupons('mem_bob')).toHaveLength(1);
    expect((await refusal(marketing.issueCoupon({ ...input, idempotencyKey: 'issue-x', templateId: 'tpl_none' }))).code).toBe('COUPON_TEMPLATE_NOT_FOUND');
    now = new Date(VALID_UNTIL);
    expect((await refusal(marketing.issueCoupon({ ...input, idempotencyKey: 'issue-late' }))).code).toBe('COUPON_TEMPLATE_EXPIRED');
  });
});

describe('coupon life', () => {
  test('lock → use → return, each once per key', async () => {
    const coupon = await issue();
    const lock = { idempotencyKey: 'ord_1:lock-coupon', couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_1' };
    expect(await marketing.lockCoupon(lock)).toEqual({ couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_1', state: 'LOCKED' });
    expect(await marketing.lockCoupon(lock)).toEqual({ couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_1', state: 'LOCKED' });
    expect(await marketing.findCoupon(coupon.id)).toMatchObject({ state: 'LOCKED', lockedByOrder: 'ord_1' });

    const use = { idempotencyKey: 'ord_1:use-coupon', couponId: coupon.id, orderId: 'ord_1' };
    await marketing.useCoupon(use);
    expect(await marketing.useCoupon(use)).toEqual({ couponId: coupon.id, orderId: 'ord_1', state: 'USED' });
    expect(await marketing.findCoupon(coupon.id)).toMatchObject({ state: 'USED', usedByOrder: 'ord_1', lockedByOrder: null });

    const giveBack = { idempotencyKey: 'ord_1:return-coupon', couponId: coupon.id, orderId: 'ord_1' };
    expect(await marketing.returnCoupon(giveBack)).toEqual({ couponId: coupon.id, orderId: 'ord_1', state: 'AVAILABLE' });
    expect(await marketing.returnCoupon(giveBack)).toEqual({ couponId: coupon.id, orderId: 'ord_1', state: 'AVAILABLE' });
    expect(await marketing.findCoupon(coupon.id)).toMatchObject({ state: 'AVAILABLE', usedByOrder: null });
    // Returned while valid: another order can use it (still at most once at a time).
    await marketing.lockCoupon({ ...lock, idempotencyKey: 'ord_2:lock-coupon', orderId: 'ord_2' });
    expect(await stateOf(coupon.id)).toBe('LOCKED');
  });

  test('returned after its validity: EXPIRED, and it cannot be locked again', async () => {
    const coupon = await issue();
    await marketing.lockCoupon({ idempotencyKey: 'ord_e:lock', couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_e' });
    await marketing.useCoupon({ idempotencyKey: 'ord_e:use', couponId: coupon.id, orderId: 'ord_e' });
    now = new Date(VALID_UNTIL);
    expect(await marketing.returnCoupon({ idempotencyKey: 'ord_e:return', couponId: coupon.id, orderId: 'ord_e' })).toMatchObject({ state: 'EXPIRED' });
    const error = await refusal(marketing.lockCoupon({ idempotencyKey: 'ord_e2:lock', couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_e2' }));
    expect(error).toMatchObject({ code: 'COUPON_NOT_USABLE', details: { reason: 'EXPIRED' } });
  });

  test('lock refusals say why: wrong member, expired, not yet valid, not available, unknown', async () => {
    const coupon = await issue();
    const lock = (overrides: object) =>
      refusal(marketing.lockCoupon({ idempotencyKey: `lock-${++sequence}`, couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_r', ...overrides }));
    expect((await lock({ memberId: 'mem_mallory' })).details).toEqual({ couponId: coupon.id, reason: 'WRONG_MEMBER' });
    expect((await lock({ couponId: 'cpn_missing' })).details).toEqual({ couponId: 'cpn_missing', reason: 'NOT_FOUND' });
    now = new Date('2031-01-01T00:00:00Z');
    expect((await lock({})).details.reason).toBe('EXPIRED');
    now = new Date('2029-12-31T00:00:00Z');
    expect((await lock({})).details.reason).toBe('NOT_YET_VALID');
    now = new Date('2030-06-01T00:00:00Z');
    await marketing.lockCoupon({ idempotencyKey: 'ord_r1:lock', couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_r1' });
    const second = await lock({ orderId: 'ord_r2' });
    expect(second).toMatchObject({ code: 'COUPON_NOT_USABLE', details: { reason: 'LOCKED' } });
    expect(await marketing.findCoupon(coupon.id)).toMatchObject({ state: 'LOCKED', lockedByOrder: 'ord_r1' });
  });

  test('use and return only for the order holding the coupon', async () => {
    const coupon = await issue();
    expect((await refusal(marketing.useCoupon({ idempotencyKey: 'ord_u:use', couponId: coupon.id, orderId: 'ord_u' }))).code).toBe('COUPON_NOT_LOCKED_BY_ORDER');
    await marketing.lockCoupon({ idempotencyKey: 'ord_u:lock', couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_u' });
    expect((await refusal(marketing.useCoupon({ idempotencyKey: 'ord_v:use', couponId: coupon.id, orderId: 'ord_v' }))).code).toBe('COUPON_NOT_LOCKED_BY_ORDER');
    expect((await refusal(marketing.returnCoupon({ idempotencyKey: 'ord_u:return', couponId: coupon.id, orderId: 'ord_u' }))).code).toBe('COUPON_NOT_USED_BY_ORDER');
    expect(await stateOf(coupon.id)).toBe('LOCKED');
  });
});

describe('unlocking (compensation of lockCoupon)', () => {
  test('undoes the lock once; a second unlock is "already"; the lock under that key is then refused', async () => {
    const coupon = await issue();
    const lock = { idempotencyKey: 'ord_c:lock-coupon', couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_c' };
    await marketing.lockCoupon(lock);
    expect(await marketing.unlockCoupon({ idempotencyKey: lock.idempotencyKey })).toMatchObject({ outcome: 'undone', result: { state: 'AVAILABLE' } });
    expect(await marketing.unlockCoupon({ idempotencyKey: lock.idempotencyKey })).toMatchObject({ outcome: 'already' });
    expect(await marketing.findCoupon(coupon.id)).toMatchObject({ state: 'AVAILABLE', lockedByOrder: null });
    await expect(marketing.lockCoupon(lock)).rejects.toBeInstanceOf(AlreadyCompensatedError);
    expect(await stateOf(coupon.id)).toBe('AVAILABLE');
  });

  test('unlocking a lock that never happened is a no-op that blocks the late lock', async () => {
    const coupon = await issue();
    expect(await marketing.unlockCoupon({ idempotencyKey: 'ord_n:lock-coupon' })).toEqual({ outcome: 'nothing' });
    await expect(
      marketing.lockCoupon({ idempotencyKey: 'ord_n:lock-coupon', couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_n' }),
    ).rejects.toBeInstanceOf(AlreadyCompensatedError);
    expect(await stateOf(coupon.id)).toBe('AVAILABLE');
  });

  test('a coupon the order already paid with is not unlocked', async () => {
    const coupon = await issue();
    await marketing.lockCoupon({ idempotencyKey: 'ord_p:lock', couponId: coupon.id, memberId: 'mem_alice', orderId: 'ord_p' });
    await marketing.useCoupon({ idempotencyKey: 'ord_p:use', couponId: coupon.id, orderId: 'ord_p' });
    expect((await refusal(marketing.unlockCoupon({ idempotencyKey: 'ord_p:lock' }))).code).toBe('COUPON_NOT_LOCKED_BY_ORDER');
    expect(await stateOf(coupon.id)).toBe('USED');
  });
});

describe('concurrency', () => {
  test('20 orders lock one coupon at once: exactly one wins, 19 are COUPON_NOT_USABLE', async () => {
    const coupon = await issue();
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) =>
        marketing.lockCoupon({ idempotencyKey: `race-${index}:lock`, couponId: coupon.id, memberId: 'mem_alice', orderId: `race-${index}` }),
      ),
    );
    const winners = attempts.filter((attempt) => attempt.status === 'fulfilled') as PromiseFulfilledResult<{ orderId: string }>[];
    const losers = attempts.filter((attempt) => attempt.status === 'rejected') as PromiseRejectedResult[];
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const loser of losers) expect(loser.reason).toMatchObject({ code: 'COUPON_NOT_USABLE', details: { reason: 'LOCKED' } });
    expect(await marketing.findCoupon(coupon.id)).toMatchObject({ state: 'LOCKED', lockedByOrder: winners[0].value.orderId });
    const recorded = await env.pool.query(`SELECT count(*)::int AS locks FROM marketing.operations WHERE key LIKE 'race-%'`);
    expect(recorded.rows[0].locks).toBe(1);
  });
});

describe('promotions and quotes', () => {
  const lines = [
    { lineId: 'L1', skuId: 'sku_coat', quantity: 1, unitPriceFen: 40_000 },
    { lineId: 'L2', skuId: 'sku_hat', quantity: 2, unitPriceFen: 5_000 },
  ];

  beforeAll(async () => {
    await marketing.createPromotion({ id: 'promo_summer', name: 'spend 200 save 20, 500 save 60', tiers: [{ thresholdFen: 20_000, discountFen: 2_000 }, { thresholdFen: 50_000, discountFen: 6_000 }], startsAt: '2030-06-01T00:00:00Z', endsAt: '2030-07-01T00:00:00Z' });
    await marketing.createPromotion({ id: 'promo_small', name: 'spend 100 save 15', tiers: [{ thresholdFen: 10_000, discountFen: 1_500 }], startsAt: '2030-05-01T00:00:00Z', endsAt: '2030-08-01T00:00:00Z' });
  });

  test('promotion validation: tiers with a discount above the threshold, duplicates or an empty window are refused', async () => {
    const base = { id: 'promo_bad', name: 'bad', startsAt: '2030-06-01T00:00:00Z', endsAt: '2030-07-01T00:00:00Z' };
    await expect(marketing.createPromotion({ ...base, tiers: [{ thresholdFen: 100, discountFen: 101 }] })).rejects.toThrow('discountFen');
    await expect(marketing.createPromotion({ ...base, tiers: [{ thresholdFen: 100, discountFen: 1 }, { thresholdFen: 100, discountFen: 2 }] })).rejects.toThrow('distinct');
    await expect(marketing.createPromotion({ ...base, tiers: [{ thresholdFen: 100, discountFen: 1 }], endsAt: base.startsAt })).rejects.toThrow('endsAt');
    expect((await marketing.listActivePromotions()).map((promotion) => promotion.id)).toEqual(['promo_small', 'promo_summer']);
  });

  test('the active promotion saving the most applies; the coupon and points follow', async () => {
    const coupon = await issue('mem_carol', 'tpl_15_pct');
    const quote = await marketing.quote({ memberId: 'mem_carol', lines, couponId: coupon.id, pointsToRedeem: 5_000, availablePoints: 8_000 });
    expect(quote).toMatchObject({ promotionId: 'promo_summer', couponId: coupon.id, promotionTier: { thresholdFen: 50_000, discountFen: 6_000 } });
    expect(quote.totals).toEqual({ listFen: 50_000, promotionDiscountFen: 6_000, couponDiscountFen: 3_000, pointsDiscountFen: 5_000, payableFen: 36_000, pointsUsed: 5_000 });
    expect(quote.lines.map((line) => line.payableFen)).toEqual([28_800, 7_200]);

    now = new Date('2030-07-15T00:00:00Z');
    const later = await marketing.quote({ memberId: 'mem_carol', lines });
    expect(later).toMatchObject({ promotionId: 'promo_small', totals: { promotionDiscountFen: 1_500, payableFen: 48_500 } });
    now = new Date('2030-09-01T00:00:00Z');
    expect(await marketing.quote({ memberId: 'mem_carol', lines })).toMatchObject({ promotionId: null, totals: { payableFen: 50_000 } });
  });

  test('quote refuses a coupon that is not the member\'s, locked by another order, or expired; the locking order may re-quote', async () => {
    const coupon = await issue('mem_dave');
    expect((await refusal(marketing.quote({ memberId: 'mem_erin', lines, couponId: coupon.id }))).details.reason).toBe('WRONG_MEMBER');
    await marketing.lockCoupon({ idempotencyKey: 'ord_q:lock', couponId: coupon.id, memberId: 'mem_dave', orderId: 'ord_q' });
    expect((await refusal(marketing.quote({ memberId: 'mem_dave', lines, couponId: coupon.id }))).details.reason).toBe('LOCKED');
    expect((await marketing.quote({ memberId: 'mem_dave', orderId: 'ord_q', lines, couponId: coupon.id })).totals.couponDiscountFen).toBe(1_000);
    const fresh = await issue('mem_dave');
    now = new Date('2031-01-01T00:00:00Z');
    expect((await refusal(marketing.quote({ memberId: 'mem_dave', lines, couponId: fresh.id }))).details.reason).toBe('EXPIRED');
  });

  test('too many points: TOO_MANY_POINTS with the allowed maximum', async () => {
    const error = await refusal(marketing.quote({ memberId: 'mem_carol', lines, pointsToRedeem: 22_001 }));
    expect(error).toMatchObject({ code: 'TOO_MANY_POINTS', details: { requested: 22_001, maxRedeemablePoints: 22_000 } });
  });
});

describe('activities', () => {
  test('quoteOrder and the coupon activities wrap the service; refusals are non-retryable failures typed with the code', async () => {
    const activities = createMarketingActivities({ pool: env.pool, clock });
    const coupon = await issue('mem_frank');
    const quote = await activities.quoteOrder({ memberId: 'mem_frank', lines: [{ lineId: 'L1', skuId: 'sku_x', quantity: 1, unitPriceFen: 12_000 }], couponId: coupon.id });
    expect(quote.totals).toMatchObject({ listFen: 12_000, couponDiscountFen: 1_000 });
    await activities.lockCoupon({ idempotencyKey: 'act:lock', couponId: coupon.id, memberId: 'mem_frank', orderId: 'ord_act' });
    const failure = await activities
      .lockCoupon({ idempotencyKey: 'act:lock-2', couponId: coupon.id, memberId: 'mem_frank', orderId: 'ord_act2' })
      .catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'COUPON_NOT_USABLE', nonRetryable: true });
    await activities.useCoupon({ idempotencyKey: 'act:use', couponId: coupon.id, orderId: 'ord_act' });
    expect(await activities.returnCoupon({ idempotencyKey: 'act:return', couponId: coupon.id, orderId: 'ord_act' })).toMatchObject({ state: 'AVAILABLE' });
    await activities.lockCoupon({ idempotencyKey: 'act:lock-3', couponId: coupon.id, memberId: 'mem_frank', orderId: 'ord_act3' });
    expect(await activities.unlockCoupon({ idempotencyKey: 'act:lock-3' })).toMatchObject({ outcome: 'undone' });
    expect(await stateOf(coupon.id)).toBe('AVAILABLE');
  });
});
