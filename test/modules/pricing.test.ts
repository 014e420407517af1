import fc from 'fast-check';
import { priceOrder, type CouponTerms, type PriceOrderInput } from '../../modules/marketing/pricing';
import { DomainError } from '../../modules/shared/errors';

function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

const twoLines = [
  { lineId: 'L1', skuId: 'sku_shirt', quantity: 2, unitPriceFen: 10_000 },
  { lineId: 'L2', skuId: 'sku_socks', quantity: 1, unitPriceFen: 5_000 },
];

describe('priceOrder, worked examples', () => {
  test('no discounts: payable is the list price per line', () => {
    const priced = priceOrder({ lines: twoLines });
    expect(priced.lines.map((line) => [line.listFen, line.payableFen])).toEqual([
      [20_000, 20_000],
      [5_000, 5_000],
    ]);
    expect(priced.totals).toEqual({ listFen: 25_000, promotionDiscountFen: 0, couponDiscountFen: 0, pointsDiscountFen: 0, payableFen: 25_000, pointsUsed: 0 });
    expect(priced.promotionTier).toBeNull();
  });

  test('the best full-reduction tier reached applies, spread pro rata', () => {
    const tiers = [
      { thresholdFen: 20_000, discountFen: 2_000 },
      { thresholdFen: 50_000, discountFen: 6_000 },
      { thresholdFen: 25_000, discountFen: 3_000 },
    ];
    const priced = priceOrder({ lines: twoLines, promotionTiers: tiers });
    expect(priced.promotionTier).toEqual({ thresholdFen: 25_000, discountFen: 3_000 });
    expect(priced.lines.map((line) => line.promotionDiscountFen)).toEqual([2_400, 600]);
    expect(priced.totals.payableFen).toBe(22_000);
  });

  test('promotion, then coupon on the remainder (min spend after promotion), then points up to half', () => {
    const coupon: CouponTerms = { kind: 'AMOUNT_OFF', amountFen: 1_000, minSpendFen: 22_000 };
    const priced = priceOrder({
      lines: twoLines,
      promotionTiers: [{ thresholdFen: 25_000, discountFen: 3_000 }],
      coupon,
      pointsToRedeem: 10_500,
      availablePoints: 20_000,
    });
    expect(priced.totals).toEqual({
      listFen: 25_000,
      promotionDiscountFen: 3_000,
      couponDiscountFen: 1_000,
      pointsDiscountFen: 10_500,
      payableFen: 10_500,
      pointsUsed: 10_500,
    });
    expect(priced.lines).toEqual([
      { lineId: 'L1', skuId: 'sku_shirt', quantity: 2, unitPriceFen: 10_000, listFen: 20_000, promotionDiscountFen: 2_400, couponDiscountFen: 800, pointsDiscountFen: 8_400, payableFen: 8_400 },
      { lineId: 'L2', skuId: 'sku_socks', quantity: 1, unitPriceFen: 5_000, listFen: 5_000, promotionDiscountFen: 600, couponDiscountFen: 200, pointsDiscountFen: 2_100, payableFen: 2_100 },
    ]);
  });

  test('coupon minimum spend is checked after the promotion', () => {
    const error = refusal(() =>
      priceOrder({
        lines: twoLines,
        promotionTiers: [{ thresholdFen: 25_000, discountFen: 3_000 }],
        coupon: { kind: 'AMOUNT_OFF', amountFen: 1_000, minSpendFen: 22_001 },
      }),
    );
    expect(error.code).toBe('COUPON_NOT_USABLE');
    expect(error.details).toMatchObject({ reason: 'MIN_SPEND_NOT_MET', minSpendFen: 22_001, subtotalFen: 22_000 });
  });

  test('percent off rounds down and respects its cap; an amount never exceeds the remainder', () => {
    const lines = [{ lineId: 'L1', skuId: 'sku_a', quantity: 3, unitPriceFen: 3_333 }];
    expect(priceOrder({ lines, coupon: { kind: 'PERCENT_OFF', percent: 15 } }).totals.couponDiscountFen).toBe(1_499);
    expect(priceOrder({ lines, coupon: { kind: 'PERCENT_OFF', percent: 15, capFen: 1_000 } }).totals.couponDiscountFen).toBe(1_000);
    const small = [{ lineId: 'L1', skuId: 'sku_a', quantity: 1, unitPriceFen: 500 }];
    const priced = priceOrder({ lines: small, coupon: { kind: 'AMOUNT_OFF', amountFen: 2_000 } });
    expect(priced.totals).toMatchObject({ couponDiscountFen: 500, payableFen: 0 });
  });

  test('too many points: refused with the allowed maximum (half of what is left, at most the balance)', () => {
    const half = refusal(() => priceOrder({ lines: twoLines, pointsToRedeem: 12_501, availablePoints: 100_000 }));
    expect(half.code).toBe('TOO_MANY_POINTS');
    expect(half.details).toMatchObject({ requested: 12_501, maxRedeemablePoints: 12_500 });
    const balance = refusal(() => priceOrder({ lines: twoLines, pointsToRedeem: 301, availablePoints: 300 }));
    expect(balance.details).toMatchObject({ requested: 301, maxRedeemablePoints: 300 });
    expect(priceOrder({ lines: twoLines, pointsToRedeem: 12_500 }).totals.payableFen).toBe(12_500);
  });

  test('invalid input is a caller mistake (zod), not a pricing result', () => {
    expect(() => priceOrder({ lines: [] })).toThrow();
    expect(() => priceOrder({ lines: [{ ...twoLines[0], quantity: 0 }] })).toThrow();
    expect(() => priceOrder({ lines: [twoLines[0], { ...twoLines[1], lineId: 'L1' }] })).toThrow('lineId must be unique');
    expect(() => priceOrder({ lines: twoLines, promotionTiers: [{ thresholdFen: 100, discountFen: 200 }] })).toThrow();
  });
});

const lineArb = fc.record({
  skuId: fc.constantFrom('sku_a', 'sku_b', 'sku_c'),
  quantity: fc.integer({ min: 1, max: 20 }),
  unitPriceFen: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500_000 })),
});
const couponArb: fc.Arbitrary<CouponTerms | undefined> = fc.option(
  fc.oneof(
    fc.record({ kind: fc.constant('AMOUNT_OFF' as const), amountFen: fc.integer({ min: 1, max: 200_000 }), minSpendFen: fc.constant(0) }),
    fc.record({
      kind: fc.constant('PERCENT_OFF' as const),
      percent: fc.integer({ min: 1, max: 99 }),
      capFen: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
      minSpendFen: fc.constant(0),
    }),
  ),
  { nil: undefined },
);
const tierArb = fc
  .tuple(fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 1, max: 100 }))
  .map(([thresholdFen, percent]) => ({ thresholdFen, discountFen: Math.max(1, Math.floor((thresholdFen * percent) / 100)) }));
/** pointsShare: which fraction of the allowed maximum to redeem (so most inputs are accepted). */
const orderArb = fc.record({
  lines: fc.array(lineArb, { minLength: 1, maxLength: 8 }),
  promotionTiers: fc.option(fc.array(tierArb, { maxLength: 4 }), { nil: undefined }),
  coupon: couponArb,
  pointsShare: fc.double({ min: 0, max: 1, noNaN: true }),
  availablePoints: fc.integer({ min: 0, max: 5_000_000 }),
});

type GeneratedOrder = typeof orderArb extends fc.Arbitrary<infer T> ? T : never;

function toInput(order: GeneratedOrder): PriceOrderInput {
  const lines = order.lines.map((line, index) => ({ ...line, lineId: `L${index + 1}` }));
  const base = { lines, promotionTiers: order.promotionTiers, coupon: order.coupon, availablePoints: order.availablePoints };
  const withoutPoints = priceOrder(base).totals.payableFen;
  const allowed = Math.min(Math.floor(withoutPoints / 2), order.availablePoints);
  return { ...base, pointsToRedeem: Math.floor(allowed * order.pointsShare) };
}

describe('priceOrder, properties', () => {
  test('lines add up exactly to the totals, and each line is list minus its discounts', () => {
    fc.assert(
      fc.property(orderArb, (order) => {
        const priced = priceOrder(toInput(order));
        const total = (field: 'listFen' | 'promotionDiscountFen' | 'couponDiscountFen' | 'pointsDiscountFen' | 'payableFen') =>
          priced.lines.reduce((sum, line) => sum + line[field], 0);
        for (const field of ['listFen', 'promotionDiscountFen', 'couponDiscountFen', 'pointsDiscountFen', 'payableFen'] as const) {
          expect(total(field)).toBe(priced.totals[field]);
        }
        for (const line of priced.lines) {
          expect(line.listFen).toBe(line.unitPriceFen * line.quantity);
          expect(line.payableFen).toBe(line.listFen - line.promotionDiscountFen - line.couponDiscountFen - line.pointsDiscountFen);
        }
        const { totals } = priced;
        expect(totals.payableFen).toBe(totals.listFen - totals.promotionDiscountFen - totals.couponDiscountFen - totals.pointsDiscountFen);
        expect(totals.pointsDiscountFen).toBe(totals.pointsUsed);
      }),
      { numRuns: 500 },
    );
  });

  test('no line and no discount is negative, every amount is whole fen, and points pay at most half', () => {
    fc.assert(
      fc.property(orderArb, (order) => {
        const priced = priceOrder(toInput(order));
        for (const line of priced.lines) {
          for (const amount of [line.promotionDiscountFen, line.couponDiscountFen, line.pointsDiscountFen, line.payableFen]) {
            expect(Number.isSafeInteger(amount)).toBe(true);
            expect(amount).toBeGreaterThanOrEqual(0);
          }
        }
        const { totals } = priced;
        expect(totals.payableFen).toBeGreaterThanOrEqual(0);
        expect(totals.pointsDiscountFen * 2).toBeLessThanOrEqual(totals.listFen - totals.promotionDiscountFen - totals.couponDiscountFen);
      }),
      { numRuns: 500 },
    );
  });

  test('deterministic: the same input prices identically, and the input is not modified', () => {
    fc.assert(
      fc.property(orderArb, (order) => {
        const input = toInput(order);
        const snapshot = JSON.parse(JSON.stringify(input));
        expect(priceOrder(input)).toEqual(priceOrder(input));
        expect(JSON.parse(JSON.stringify(input))).toEqual(snapshot);
      }),
      { numRuns: 300 },
    );
  });

  test('asking for more points than allowed is always refused with the allowed maximum', () => {
    fc.assert(
      fc.property(orderArb, fc.integer({ min: 1, max: 1_000 }), (order, excess) => {
        const input = toInput(order);
        const base = priceOrder({ ...input, pointsToRedeem: 0 }).totals.payableFen;
        const allowed = Math.min(Math.floor(base / 2), order.availablePoints);
        const error = refusal(() => priceOrder({ ...input, pointsToRedeem: allowed + excess }));
        expect(error.code).toBe('TOO_MANY_POINTS');
        expect(error.details.maxRedeemablePoints).toBe(allowed);
      }),
      { numRuns: 200 },
    );
  });
});
