import { z } from 'zod';
import { idSchema, safeText } from '../shared/validation';

/**
 * Campaign definitions (presale, group-buy, flash-sale): the terms only; the order flows that run
 * them live in the workflows. Every rule names the field it is about.
 */
const id = idSchema;
const priceFen = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const instant = z.coerce.date();
/** Channel-only campaigns: sold only through these channels (`live_stream` = every room, `live_stream:room_8` = one room, `pos:store_1`, `app`...). */
const channelRule = z
  .array(z.string().regex(/^(app|mini_program|h5|live_stream|pos)(:[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$/, 'a channel: app, mini_program, h5, live_stream[:room], pos[:store]'))
  .min(1)
  .max(20);
const common = { id, name: safeText(200).min(1), skuId: id, channels: channelRule.optional() };

export const DEFAULT_GROUP_FORMATION_MINUTES = 24 * 60;
export const MAX_DEPOSIT_PERCENT = 20;

export const presaleCampaignSchema = z
  .object({
    ...common,
    kind: z.literal('PRESALE'),
    presalePriceFen: priceFen,
    depositFen: priceFen,
    /** 定金膨胀: the deposit counts as this much against the price (defaults to the deposit itself). */
    depositValueFen: priceFen.optional(),
    depositStart: instant,
    depositEnd: instant,
    finalStart: instant,
    finalEnd: instant,
    depositRefundable: z.boolean().default(false),
  })
  .superRefine((campaign, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (campaign.depositEnd <= campaign.depositStart) fail('depositEnd', 'depositEnd must be after depositStart');
    if (campaign.finalStart < campaign.depositEnd) fail('finalStart', 'finalStart must not be before depositEnd');
    if (campaign.finalEnd <= campaign.finalStart) fail('finalEnd', 'finalEnd must be after finalStart');
    if (campaign.depositFen * 100 > campaign.presalePriceFen * MAX_DEPOSIT_PERCENT) {
      fail('depositFen', `depositFen must be at most ${MAX_DEPOSIT_PERCENT}% of presalePriceFen`);
    }
    if (campaign.depositValueFen !== undefined) {
      if (campaign.depositValueFen < campaign.depositFen) fail('depositValueFen', 'depositValueFen must be at least depositFen');
      if (campaign.depositValueFen > campaign.presalePriceFen) fail('depositValueFen', 'depositValueFen must not exceed presalePriceFen');
    }
  });

export const groupBuyCampaignSchema = z
  .object({
    ...common,
    kind: z.literal('GROUP_BUY'),
    groupPriceFen: priceFen,
    groupSize: z.number().int().min(2, 'groupSize must be at least 2').max(50, 'groupSize must be at most 50'),
    formationWindowMinutes: z.number().int().positive().max(7 * 24 * 60).default(DEFAULT_GROUP_FORMATION_MINUTES),
    perUserLimit: z.number().int().positive().default(1),
    /** 虚拟成团: at expiry the group succeeds anyway when at least this many real members paid. */
    virtualSuccess: z.object({ minRealMembers: z.number().int().positive() }).optional(),
    /** Joining a full or expired group: refuse, or open a new group for the payer. */
    onFullGroup: z.enum(['REJECT', 'OPEN_NEW']).default('REJECT'),
    startsAt: instant,
    endsAt: instant,
  })
  .superRefine((campaign, ctx) => {
    if (campaign.endsAt <= campaign.startsAt) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
    if (campaign.virtualSuccess && campaign.virtualSuccess.minRealMembers >= campaign.groupSize) {
      ctx.addIssue({
        code: 'custom',
        path: ['virtualSuccess', 'minRealMembers'],
        message: 'virtualSuccess.minRealMembers must be less than groupSize',
      });
    }
  });

export const flashSaleCampaignSchema = z
  .object({
    ...common,
    kind: z.literal('FLASH_SALE'),
    flashPriceFen: priceFen,
    stockCap: z.number().int().positive(),
    perUserLimit: z.number().int().positive(),
    /** Whether perUserLimit counts orders or units across the whole campaign. */
    perUserLimitUnit: z.enum(['UNITS', 'ORDERS']).default('UNITS'),
    startsAt: instant,
    endsAt: instant,
  })
  .superRefine((campaign, ctx) => {
    if (campaign.endsAt <= campaign.startsAt) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
  });

export const campaignSchema = z.discriminatedUnion('kind', [presaleCampaignSchema, groupBuyCampaignSchema, flashSaleCampaignSchema]);

export type CampaignInput = z.input<typeof campaignSchema>;
export type Campaign = z.output<typeof campaignSchema>;
export type CampaignKind = Campaign['kind'];

export const listCampaignsSchema = z.object({ kind: z.enum(['PRESALE', 'GROUP_BUY', 'FLASH_SALE']).optional(), activeAt: instant.optional() });
export type ListCampaignsInput = z.input<typeof listCampaignsSchema>;

/** The whole period a campaign runs: a presale from the deposit opening to the final payment's close. */
export function campaignWindow(campaign: Campaign): { startsAt: Date; endsAt: Date } {
  return campaign.kind === 'PRESALE'
    ? { startsAt: campaign.depositStart, endsAt: campaign.finalEnd }
    : { startsAt: campaign.startsAt, endsAt: campaign.endsAt };
}
