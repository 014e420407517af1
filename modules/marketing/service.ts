import type { Pool } from 'pg';
import { systemClock, type Clock } from '../shared/db';
import { DomainError } from '../shared/errors';
import {
  campaignSchema,
  campaignWindow,
  listCampaignsSchema,
  type Campaign,
  type CampaignInput,
  type ListCampaignsInput,
} from './campaign-schemas';
import { couponUnusableReason, createCouponOperations, notUsable } from './coupons';
import { bestPromotionTier, priceOrder, type PriceBreakdown, type PromotionTier } from './pricing';
import { createPromotionSchema, idSchema, quoteSchema, type CreatePromotionInput, type QuoteInput } from './schemas';

export interface MarketingServiceDeps {
  pool: Pool;
  clock?: Clock;
}

export interface Promotion {
  id: string;
  name: string;
  tiers: PromotionTier[];
  startsAt: string;
  endsAt: string;
}

export interface Quote extends PriceBreakdown {
  promotionId: string | null;
  couponId: string | null;
  quotedAt: string;
}

/**
 * For a caller that reads the promotions with other modules' rows in one statement (placement's
 * pricing): the promotions running at the timestamptz parameter `atParam`, as one jsonb array column.
 */
export const ACTIVE_PROMOTIONS_JSON = (atParam: string) =>
  `(SELECT coalesce(jsonb_agg(to_jsonb(p) ORDER BY p.id), '[]'::jsonb) FROM (SELECT id, name, tiers, starts_at, ends_at FROM marketing.promotions
     WHERE starts_at <= ${atParam}::timestamptz AND ${atParam}::timestamptz < ends_at) p)`;

/** The promotions from that column. */
export function promotionsFromJson(rows: readonly unknown[]): Promotion[] {
  return (rows as { id: string; name: string; tiers: PromotionTier[]; starts_at: string; ends_at: string }[]).map((row) =>
    toPromotion({ ...row, starts_at: new Date(row.starts_at), ends_at: new Date(row.ends_at) }),
  );
}

export function createMarketingService(deps: MarketingServiceDeps) {
  const { pool } = deps;
  const clock = deps.clock ?? systemClock;
  const coupons = createCouponOperations(pool, clock);

  async function listActivePromotions(at: Date = clock()): Promise<Promotion[]> {
    const found = await pool.query(
      'SELECT id, name, tiers, starts_at, ends_at FROM marketing.promotions WHERE starts_at <= $1 AND $1 < ends_at ORDER BY id',
      [at],
    );
    return found.rows.map(toPromotion);
  }

  async function getCampaign(campaignId: string): Promise<Campaign> {
    const found = await pool.query('SELECT definition FROM marketing.campaigns WHERE id = $1', [idSchema.parse(campaignId)]);
    if (found.rowCount === 0) throw new DomainError('CAMPAIGN_NOT_FOUND', `no campaign ${campaignId}`, { campaignId });
    return campaignSchema.parse(found.rows[0].definition);
  }

  return {
    ...coupons,
    listActivePromotions,
    getCampaign,

    /** Admin: a full-reduction promotion (idempotent by id: a repeat returns the one stored first). */
    async createPromotion(input: CreatePromotionInput): Promise<Promotion> {
      const promotion = createPromotionSchema.parse(input);
      await pool.query(
        `INSERT INTO marketing.promotions (id, name, tiers, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
        [promotion.id, promotion.name, JSON.stringify(promotion.tiers), promotion.startsAt, promotion.endsAt],
      );
      const stored = await pool.query('SELECT id, name, tiers, starts_at, ends_at FROM marketing.promotions WHERE id = $1', [promotion.id]);
      return toPromotion(stored.rows[0]);
    },

    /** Admin: a presale, group-buy or flash-sale definition (idempotent by id: the first definition wins). */
    async createCampaign(input: CampaignInput): Promise<Campaign> {
      const campaign = campaignSchema.parse(input);
      const { startsAt, endsAt } = campaignWindow(campaign);
      await pool.query(
        `INSERT INTO marketing.campaigns (id, kind, name, sku_id, starts_at, ends_at, definition)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
        [campaign.id, campaign.kind, campaign.name, campaign.skuId, startsAt, endsAt, JSON.stringify(campaign)],
      );
      return getCampaign(campaign.id);
    },

    async listCampaigns(input: ListCampaignsInput = {}): Promise<Campaign[]> {
      const { kind, activeAt } = listCampaignsSchema.parse(input);
      const found = await pool.query(
        `SELECT definition FROM marketing.campaigns
          WHERE ($1::text IS NULL OR kind = $1) AND ($2::timestamptz IS NULL OR (starts_at <= $2 AND $2 < ends_at))
          ORDER BY starts_at, id`,
        [kind ?? null, activeAt ?? null],
      );
      return found.rows.map((row) => campaignSchema.parse(row.definition));
    },

    /**
     * Prices an order for a member now: the active promotion saving the most on the list total, the
     * member's coupon (checked: theirs, usable, valid now) and the points they want to redeem.
     */
    async quote(input: QuoteInput, known?: { promotions: Promotion[]; at: Date }): Promise<Quote> {
      const { memberId, orderId, lines, couponId, pointsToRedeem, availablePoints } = quoteSchema.parse(input);
      // `known`: the promotions running at `at`, read by the caller (ACTIVE_PROMOTIONS_JSON).
      const now = known?.at ?? clock();
      const listTotal = lines.reduce((total, line) => total + line.unitPriceFen * line.quantity, 0);
      let best: { promotion: Promotion; discountFen: number } | undefined;
      for (const promotion of known?.promotions ?? (await listActivePromotions(now))) {
        const discountFen = bestPromotionTier(promotion.tiers, listTotal)?.discountFen ?? 0;
        if (discountFen > 0 && (!best || discountFen > best.discountFen)) best = { promotion, discountFen };
      }
      let coupon;
      if (couponId !== undefined) {
        coupon = await coupons.findCoupon(couponId);
        const reason = coupon ? couponUnusableReason(coupon, memberId, now, orderId) : 'NOT_FOUND';
        if (reason) throw notUsable(couponId, reason);
      }
      const breakdown = priceOrder({ lines, promotionTiers: best?.promotion.tiers, coupon: coupon?.terms, pointsToRedeem, availablePoints });
      return { ...breakdown, promotionId: best?.promotion.id ?? null, couponId: couponId ?? null, quotedAt: now.toISOString() };
    },
  };
}

export type MarketingService = ReturnType<typeof createMarketingService>;

function toPromotion(row: { id: string; name: string; tiers: PromotionTier[]; starts_at: Date; ends_at: Date }): Promotion {
  return { id: row.id, name: row.name, tiers: row.tiers, startsAt: row.starts_at.toISOString(), endsAt: row.ends_at.toISOString() };
}
