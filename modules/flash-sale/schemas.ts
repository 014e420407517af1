import { z } from 'zod';

const id = z.string().min(1).max(200);
const instant = z.coerce.date();

/** A flash campaign's admission terms, copied from marketing's definition when the sale opens. */
export const openCampaignSchema = z
  .object({
    campaignId: id,
    skuId: id,
    flashPriceFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    cap: z.number().int().nonnegative().max(10_000_000),
    perUserLimit: z.number().int().positive(),
    limitUnit: z.enum(['UNITS', 'ORDERS']),
    startsAt: instant,
    endsAt: instant,
  })
  .refine((campaign) => campaign.startsAt < campaign.endsAt, { path: ['endsAt'], message: 'endsAt must be after startsAt' });
export type OpenCampaignInput = z.input<typeof openCampaignSchema>;

export const admitSchema = z.object({
  campaignId: id,
  customerId: id,
  quantity: z.number().int().min(1).max(999),
  /** The buyer's request (Idempotency-Key): a retried request finds its admission instead of a second one. */
  requestId: z.string().min(1).max(200),
});
export type AdmitInput = z.input<typeof admitSchema>;

/** The compensation of an admission names its key: the admission id. */
export const releaseAdmissionSchema = z.object({ idempotencyKey: id, reason: z.string().min(1).max(200).optional() });
export type ReleaseAdmissionInput = z.input<typeof releaseAdmissionSchema>;

export const confirmAdmissionSchema = z.object({ admissionId: id, orderId: id });
export type ConfirmAdmissionInput = z.input<typeof confirmAdmissionSchema>;
