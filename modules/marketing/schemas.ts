import { z } from 'zod';
import { pricingLineSchema, promotionTierSchema } from './pricing';

const id = z.string().min(1).max(200);
const idempotencyKey = z.string().min(1).max(300);
const fen = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const instant = z.coerce.date();

export const createCouponTemplateSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('AMOUNT_OFF'), amountFen: fen.positive() }),
    z.object({ kind: z.literal('PERCENT_OFF'), percent: z.number().int().min(1).max(99), capFen: fen.positive().nullish() }),
  ])
  .and(z.object({ id, name: z.string().min(1).max(200), minSpendFen: fen.default(0), validFrom: instant, validUntil: instant }))
  .refine((template) => template.validFrom < template.validUntil, { message: 'validUntil must be after validFrom', path: ['validUntil'] });
export type CreateCouponTemplateInput = z.input<typeof createCouponTemplateSchema>;

export const issueCouponSchema = z.object({ idempotencyKey, templateId: id, memberId: id });
export type IssueCouponInput = z.input<typeof issueCouponSchema>;

export const lockCouponSchema = z.object({ idempotencyKey, couponId: id, memberId: id, orderId: id });
export type LockCouponInput = z.input<typeof lockCouponSchema>;

/** Compensations name only the key of the forward operation they undo. */
export const compensationSchema = z.object({ idempotencyKey });
export type CompensationInput = z.input<typeof compensationSchema>;

export const couponOrderSchema = z.object({ idempotencyKey, couponId: id, orderId: id });
export type UseCouponInput = z.input<typeof couponOrderSchema>;
export type ReturnCouponInput = z.input<typeof couponOrderSchema>;

export const createPromotionSchema = z
  .object({ id, name: z.string().min(1).max(200), tiers: z.array(promotionTierSchema).min(1).max(20), startsAt: instant, endsAt: instant })
  .refine((promotion) => promotion.startsAt < promotion.endsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] })
  .refine((promotion) => new Set(promotion.tiers.map((tier) => tier.thresholdFen)).size === promotion.tiers.length, {
    message: 'tiers must have distinct thresholdFen',
    path: ['tiers'],
  });
export type CreatePromotionInput = z.input<typeof createPromotionSchema>;

export const quoteSchema = z.object({
  memberId: id,
  /** Set when re-quoting an order that has already locked its coupon. */
  orderId: id.optional(),
  lines: z.array(pricingLineSchema).min(1),
  couponId: id.optional(),
  pointsToRedeem: z.number().int().nonnegative().optional(),
  availablePoints: z.number().int().nonnegative().optional(),
});
export type QuoteInput = z.input<typeof quoteSchema>;

export const idSchema = id;
