import { z } from 'zod';

const id = z.string().min(1).max(200);

/** A member order takes `quantity` units of the buyer's per-user limit in a group-buy campaign. */
export const takeLimitSchema = z.object({
  /** `<orderId>:group-limit` */
  idempotencyKey: id,
  campaignId: id,
  customerId: id,
  quantity: z.number().int().min(1).max(999),
  /** The campaign's per-user limit (units across the whole campaign). */
  perUserLimit: z.number().int().positive().max(1_000_000),
});
export type TakeLimitInput = z.input<typeof takeLimitSchema>;

/** The compensation (and the API's give-back of a refused join) names the take's key. */
export const returnLimitSchema = z.object({ idempotencyKey: id });
export type ReturnLimitInput = z.input<typeof returnLimitSchema>;

export const holdingSchema = z.object({ campaignId: id, customerId: id });
export type HoldingInput = z.input<typeof holdingSchema>;
