import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Clock } from '../shared/db';
import { DomainError } from '../shared/errors';
import { applyOnce, compensateOnce } from '../shared/idempotency';
import type { CouponTerms } from './pricing';
import {
  compensationSchema,
  couponOrderSchema,
  createCouponTemplateSchema,
  idSchema,
  issueCouponSchema,
  lockCouponSchema,
  type CompensationInput,
  type CreateCouponTemplateInput,
  type IssueCouponInput,
  type LockCouponInput,
  type ReturnCouponInput,
  type UseCouponInput,
} from './schemas';

export type CouponState = 'AVAILABLE' | 'LOCKED' | 'USED' | 'EXPIRED';

export interface Coupon {
  id: string;
  templateId: string;
  memberId: string;
  state: CouponState;
  lockedByOrder: string | null;
  usedByOrder: string | null;
  terms: CouponTerms;
  validFrom: string;
  validUntil: string;
}

export interface CouponTemplate {
  id: string;
  name: string;
  terms: CouponTerms;
  validFrom: string;
  validUntil: string;
}

export interface CouponOrderChange {
  couponId: string;
  orderId: string;
  state: CouponState;
}

const log = { schema: 'marketing' };

const COUPON_SELECT = `
  SELECT c.id, c.template_id, c.member_id, c.state, c.locked_by_order, c.used_by_order,
         t.kind, t.amount_fen, t.percent, t.cap_fen, t.min_spend_fen, t.valid_from, t.valid_until
    FROM marketing.coupons c JOIN marketing.coupon_templates t ON t.id = c.template_id`;

/** Why a coupon cannot be locked by this member now; undefined when it can. */
export function couponUnusableReason(coupon: Coupon, memberId: string, at: Date, orderId?: string): string | undefined {
  if (coupon.memberId !== memberId) return 'WRONG_MEMBER';
  if (coupon.state === 'LOCKED' && orderId !== undefined && coupon.lockedByOrder === orderId) return undefined;
  if (coupon.state !== 'AVAILABLE') return coupon.state;
  if (at < new Date(coupon.validFrom)) return 'NOT_YET_VALID';
  if (at >= new Date(coupon.validUntil)) return 'EXPIRED';
  return undefined;
}

export function notUsable(couponId: string, reason: string): DomainError {
  return new DomainError('COUPON_NOT_USABLE', `coupon ${couponId} cannot be used: ${reason}`, { couponId, reason });
}

export function createCouponOperations(pool: Pool, clock: Clock) {
  async function findCoupon(db: Pool | PoolClient, couponId: string): Promise<Coupon | undefined> {
    const found = await db.query(`${COUPON_SELECT} WHERE c.id = $1`, [couponId]);
    return found.rows[0] && toCoupon(found.rows[0]);
  }

  return {
    findCoupon: (couponId: string) => findCoupon(pool, idSchema.parse(couponId)),

    async listCoupons(memberId: string): Promise<Coupon[]> {
      const found = await pool.query(`${COUPON_SELECT} WHERE c.member_id = $1 ORDER BY c.issued_at, c.id`, [idSchema.parse(memberId)]);
      return found.rows.map(toCoupon);
    },

    /** Admin: defines a coupon (idempotent by id: a repeat returns the template stored first). */
    async createCouponTemplate(input: CreateCouponTemplateInput): Promise<CouponTemplate> {
      const template = createCouponTemplateSchema.parse(input);
      const isAmount = template.kind === 'AMOUNT_OFF';
      await pool.query(
        `INSERT INTO marketing.coupon_templates (id, name, kind, amount_fen, percent, cap_fen, min_spend_fen, valid_from, valid_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
        [
          template.id,
          template.name,
          template.kind,
          isAmount ? template.amountFen : null,
          isAmount ? null : template.percent,
          isAmount ? null : (template.capFen ?? null),
          template.minSpendFen,
          template.validFrom,
          template.validUntil,
        ],
      );
      const stored = await pool.query('SELECT * FROM marketing.coupon_templates WHERE id = $1', [template.id]);
      const row = stored.rows[0];
      return { id: row.id, name: row.name, terms: toTerms(row), validFrom: row.valid_from.toISOString(), validUntil: row.valid_until.toISOString() };
    },

    async issueCoupon(input: IssueCouponInput): Promise<Coupon> {
      const { idempotencyKey, templateId, memberId } = issueCouponSchema.parse(input);
      return applyOnce(pool, log, idempotencyKey, 'issue-coupon', async (client) => {
        const template = await client.query('SELECT valid_until FROM marketing.coupon_templates WHERE id = $1', [templateId]);
        if (template.rowCount === 0) throw new DomainError('COUPON_TEMPLATE_NOT_FOUND', `no coupon template ${templateId}`, { templateId });
        if (clock() >= template.rows[0].valid_until) {
          throw new DomainError('COUPON_TEMPLATE_EXPIRED', `coupon template ${templateId} is no longer valid`, { templateId });
        }
        const couponId = `cpn_${randomUUID()}`;
        await client.query(
          `INSERT INTO marketing.coupons (id, template_id, member_id, state, issued_at, updated_at) VALUES ($1, $2, $3, 'AVAILABLE', $4, $4)`,
          [couponId, templateId, memberId, clock()],
        );
        return (await findCoupon(client, couponId))!;
      });
    },

    /** Order placement: AVAILABLE → LOCKED in one conditional update, so one coupon serves one order. */
    async lockCoupon(input: LockCouponInput): Promise<CouponOrderChange & { memberId: string }> {
      const { idempotencyKey, couponId, memberId, orderId } = lockCouponSchema.parse(input);
      return applyOnce(pool, log, idempotencyKey, 'lock-coupon', async (client) => {
        const now = clock();
        const locked = await client.query(
          `UPDATE marketing.coupons c SET state = 'LOCKED', locked_by_order = $3, updated_at = $4
             FROM marketing.coupon_templates t
            WHERE c.id = $1 AND c.state = 'AVAILABLE' AND c.member_id = $2
              AND t.id = c.template_id AND t.valid_from <= $4 AND $4 < t.valid_until`,
          [couponId, memberId, orderId, now],
        );
        if (locked.rowCount === 0) {
          const coupon = await findCoupon(client, couponId);
          throw notUsable(couponId, coupon ? (couponUnusableReason(coupon, memberId, now) ?? 'CHANGED_CONCURRENTLY') : 'NOT_FOUND');
        }
        return { couponId, memberId, orderId, state: 'LOCKED' as const };
      });
    },

    /** Compensation of lockCoupon (same key): LOCKED → AVAILABLE. A coupon the order already paid with stays USED. */
    async unlockCoupon(input: CompensationInput) {
      const { idempotencyKey } = compensationSchema.parse(input);
      return compensateOnce(pool, log, idempotencyKey, 'lock-coupon', async (client, lock: CouponOrderChange): Promise<CouponOrderChange> => {
        const unlocked = await client.query(
          `UPDATE marketing.coupons SET state = 'AVAILABLE', locked_by_order = NULL, updated_at = $3
            WHERE id = $1 AND state = 'LOCKED' AND locked_by_order = $2`,
          [lock.couponId, lock.orderId, clock()],
        );
        if (unlocked.rowCount === 0) {
          const coupon = await findCoupon(client, lock.couponId);
          throw new DomainError('COUPON_NOT_LOCKED_BY_ORDER', `coupon ${lock.couponId} is ${coupon?.state}, not locked by ${lock.orderId}`, {
            couponId: lock.couponId,
            orderId: lock.orderId,
            state: coupon?.state,
          });
        }
        return { couponId: lock.couponId, orderId: lock.orderId, state: 'AVAILABLE' };
      });
    },

    /** Payment: LOCKED (by this order) → USED. */
    async useCoupon(input: UseCouponInput): Promise<CouponOrderChange> {
      const { idempotencyKey, couponId, orderId } = couponOrderSchema.parse(input);
      return applyOnce(pool, log, idempotencyKey, 'use-coupon', async (client) => {
        const used = await client.query(
          `UPDATE marketing.coupons SET state = 'USED', used_by_order = $2, locked_by_order = NULL, updated_at = $3
            WHERE id = $1 AND state = 'LOCKED' AND locked_by_order = $2`,
          [couponId, orderId, clock()],
        );
        if (used.rowCount === 0) {
          const coupon = await findCoupon(client, couponId);
          throw new DomainError('COUPON_NOT_LOCKED_BY_ORDER', `coupon ${couponId} is ${coupon?.state ?? 'missing'}, not locked by ${orderId}`, {
            couponId,
            orderId,
            state: coupon?.state,
          });
        }
        return { couponId, orderId, state: 'USED' as const };
      });
    },

    /** Full refund: USED (by this order) → AVAILABLE while the coupon is still valid, else EXPIRED. */
    async returnCoupon(input: ReturnCouponInput): Promise<CouponOrderChange> {
      const { idempotencyKey, couponId, orderId } = couponOrderSchema.parse(input);
      return applyOnce(pool, log, idempotencyKey, 'return-coupon', async (client) => {
        const returned = await client.query<{ state: CouponState }>(
          `UPDATE marketing.coupons c
              SET state = CASE WHEN $3 < t.valid_until THEN 'AVAILABLE' ELSE 'EXPIRED' END,
                  used_by_order = CASE WHEN $3 < t.valid_until THEN NULL ELSE c.used_by_order END,
                  updated_at = $3
             FROM marketing.coupon_templates t
            WHERE c.id = $1 AND c.state = 'USED' AND c.used_by_order = $2 AND t.id = c.template_id
            RETURNING c.state`,
          [couponId, orderId, clock()],
        );
        if (returned.rowCount === 0) {
          const coupon = await findCoupon(client, couponId);
          throw new DomainError('COUPON_NOT_USED_BY_ORDER', `coupon ${couponId} is ${coupon?.state ?? 'missing'}, not used by ${orderId}`, {
            couponId,
            orderId,
            state: coupon?.state,
          });
        }
        return { couponId, orderId, state: returned.rows[0].state };
      });
    },
  };
}

function toTerms(row: Record<string, unknown>): CouponTerms {
  const minSpendFen = Number(row.min_spend_fen);
  return row.kind === 'AMOUNT_OFF'
    ? { kind: 'AMOUNT_OFF', amountFen: Number(row.amount_fen), minSpendFen }
    : { kind: 'PERCENT_OFF', percent: Number(row.percent), capFen: row.cap_fen === null ? null : Number(row.cap_fen), minSpendFen };
}

function toCoupon(row: Record<string, any>): Coupon {
  return {
    id: row.id,
    templateId: row.template_id,
    memberId: row.member_id,
    state: row.state,
    lockedByOrder: row.locked_by_order,
    usedByOrder: row.used_by_order,
    terms: toTerms(row),
    validFrom: row.valid_from.toISOString(),
    validUntil: row.valid_until.toISOString(),
  };
}
