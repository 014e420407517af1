import { z } from 'zod';
import { FEN_PER_POINT, maxRedeemablePoints } from '../member/rules';
import { DomainError } from '../shared/errors';
import { allocateProRata, assertFen, type Fen } from '../shared/money';

const fen = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const pricingLineSchema = z.object({
  lineId: z.string().min(1),
  skuId: z.string().min(1),
  quantity: z.number().int().positive(),
  unitPriceFen: fen,
});

export const promotionTierSchema = z
  .object({ thresholdFen: fen.positive(), discountFen: fen.positive() })
  .refine((tier) => tier.discountFen <= tier.thresholdFen, { message: 'discountFen must not exceed thresholdFen', path: ['discountFen'] });

export const couponTermsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('AMOUNT_OFF'), amountFen: fen.positive(), minSpendFen: fen.default(0) }),
  z.object({
    kind: z.literal('PERCENT_OFF'),
    percent: z.number().int().min(1).max(99),
    capFen: fen.positive().nullish(),
    minSpendFen: fen.default(0),
  }),
]);

export const priceOrderInputSchema = z
  .object({
    lines: z.array(pricingLineSchema).min(1),
    promotionTiers: z.array(promotionTierSchema).optional(),
    coupon: couponTermsSchema.optional(),
    pointsToRedeem: z.number().int().nonnegative().optional(),
    /** The member's available points, when known; holding the points re-checks it either way. */
    availablePoints: z.number().int().nonnegative().optional(),
  })
  .refine((input) => new Set(input.lines.map((line) => line.lineId)).size === input.lines.length, {
    message: 'lineId must be unique within an order',
    path: ['lines'],
  });

export type PricingLine = z.infer<typeof pricingLineSchema>;
export type PromotionTier = z.infer<typeof promotionTierSchema>;
export type CouponTerms = z.input<typeof couponTermsSchema>;
export type PriceOrderInput = z.input<typeof priceOrderInputSchema>;

export interface PricedLine {
  lineId: string;
  skuId: string;
  quantity: number;
  unitPriceFen: Fen;
  listFen: Fen;
  promotionDiscountFen: Fen;
  couponDiscountFen: Fen;
  pointsDiscountFen: Fen;
  payableFen: Fen;
}

export interface PriceBreakdown {
  lines: PricedLine[];
  totals: {
    listFen: Fen;
    promotionDiscountFen: Fen;
    couponDiscountFen: Fen;
    pointsDiscountFen: Fen;
    payableFen: Fen;
    pointsUsed: number;
  };
  promotionTier: PromotionTier | null;
}

/** The tier saving the most on `subtotal` among those whose threshold it reaches (earliest wins a tie). */
export function bestPromotionTier(tiers: readonly PromotionTier[], subtotalFen: Fen): PromotionTier | null {
  let best: PromotionTier | null = null;
  for (const tier of tiers) {
    if (tier.thresholdFen <= subtotalFen && (best === null || tier.discountFen > best.discountFen)) best = tier;
  }
  return best;
}

/** What a coupon takes off `subtotal` (after promotions); refuses when the minimum spend is not reached. */
export function couponDiscount(coupon: z.infer<typeof couponTermsSchema>, subtotalFen: Fen): Fen {
  if (subtotalFen < coupon.minSpendFen) {
    throw new DomainError('COUPON_NOT_USABLE', `coupon needs a spend of ${coupon.minSpendFen} fen, order is ${subtotalFen}`, {
      reason: 'MIN_SPEND_NOT_MET',
      minSpendFen: coupon.minSpendFen,
      subtotalFen,
    });
  }
  const discount =
    coupon.kind === 'AMOUNT_OFF'
      ? coupon.amountFen
      : Math.min(Math.floor((subtotalFen * coupon.percent) / 100), coupon.capFen ?? Number.MAX_SAFE_INTEGER);
  return Math.min(discount, subtotalFen);
}

/**
 * Prices an order: the best full-reduction tier on the list total, then the coupon on what remains,
 * then points (1 point = 1 fen, at most half of what remains). Each order-level discount is spread
 * over the lines pro rata to what each line still costs, so lines add up exactly to the totals, no
 * line goes below zero, and a refund of a line returns what was really paid for it. Deterministic.
 */
export function priceOrder(input: PriceOrderInput): PriceBreakdown {
  const { lines, promotionTiers = [], coupon, pointsToRedeem = 0, availablePoints } = priceOrderInputSchema.parse(input);
  const list = lines.map((line) => assertFen(line.unitPriceFen * line.quantity, `line ${line.lineId} list price`));
  const listTotal = assertFen(sum(list), 'order list total');

  const promotionTier = bestPromotionTier(promotionTiers, listTotal);
  const promotion = allocateProRata(Math.min(promotionTier?.discountFen ?? 0, listTotal), list);
  const afterPromotion = subtract(list, promotion);

  const couponTotal = coupon ? couponDiscount(coupon, sum(afterPromotion)) : 0;
  const couponParts = allocateProRata(couponTotal, afterPromotion);
  const afterCoupon = subtract(afterPromotion, couponParts);

  // Without the balance only the 50% rule is checked here; holding the points checks the balance.
  const allowedPoints = maxRedeemablePoints(sum(afterCoupon), availablePoints ?? Number.POSITIVE_INFINITY);
  if (pointsToRedeem > allowedPoints) {
    throw new DomainError('TOO_MANY_POINTS', `at most ${allowedPoints} points can be redeemed on this order, ${pointsToRedeem} requested`, {
      requested: pointsToRedeem,
      maxRedeemablePoints: allowedPoints,
      availablePoints,
    });
  }
  const pointsParts = allocateProRata(pointsToRedeem * FEN_PER_POINT, afterCoupon);
  const payable = subtract(afterCoupon, pointsParts);

  return {
    lines: lines.map((line, index) => ({
      lineId: line.lineId,
      skuId: line.skuId,
      quantity: line.quantity,
      unitPriceFen: line.unitPriceFen,
      listFen: list[index],
      promotionDiscountFen: promotion[index],
      couponDiscountFen: couponParts[index],
      pointsDiscountFen: pointsParts[index],
      payableFen: payable[index],
    })),
    totals: {
      listFen: listTotal,
      promotionDiscountFen: sum(promotion),
      couponDiscountFen: couponTotal,
      pointsDiscountFen: sum(pointsParts),
      payableFen: sum(payable),
      pointsUsed: pointsToRedeem,
    },
    promotionTier,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function subtract(from: readonly number[], parts: readonly number[]): number[] {
  return from.map((value, index) => value - parts[index]);
}
