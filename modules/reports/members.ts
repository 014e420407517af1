import type { Pool, PoolClient } from 'pg';
import { endOf, startOf } from './days';

/**
 * 会员分析 of a day: buyers (placed an order that day), of whom new (their first order ever) and
 * returning; repurchase over the 30 and 90 days ending with the day (buyers with 2+ orders in the
 * window / buyers in the window); points issued (grants, awards) and redeemed (holds committed by
 * paid orders) that day; members per tier as they stand at the roll-up.
 */
const ORDERS = `SELECT customer_id, created_at FROM orders.orders WHERE status NOT IN ('REJECTED', 'PLACING')`;

export async function rollUpMembers(client: PoolClient, day: string, zone: string): Promise<void> {
  await client.query('DELETE FROM reports.members_daily WHERE day = $1', [day]);
  await client.query(
    `WITH placed AS (${ORDERS}),
     today AS (SELECT DISTINCT customer_id FROM placed WHERE created_at >= ${startOf('$1', '$2')} AND created_at < ${endOf('$1', '$2')}),
     first_orders AS (SELECT customer_id, min(created_at) AS first_at FROM placed GROUP BY customer_id),
     window_30 AS (SELECT customer_id, count(*) AS orders FROM placed
                    WHERE created_at >= ${startOf('($1::date - 29)', '$2')} AND created_at < ${endOf('$1', '$2')} GROUP BY customer_id),
     window_90 AS (SELECT customer_id, count(*) AS orders FROM placed
                    WHERE created_at >= ${startOf('($1::date - 89)', '$2')} AND created_at < ${endOf('$1', '$2')} GROUP BY customer_id),
     points AS (
       SELECT COALESCE(sum(CASE kind WHEN 'GRANT' THEN delta_available WHEN 'AWARD_PENDING' THEN delta_pending ELSE 0 END), 0) AS issued,
              COALESCE(sum(CASE kind WHEN 'COMMIT_HOLD' THEN -delta_held ELSE 0 END), 0) AS redeemed
         FROM member.points_entries WHERE created_at >= ${startOf('$1', '$2')} AND created_at < ${endOf('$1', '$2')}),
     tiers AS (SELECT COALESCE(jsonb_object_agg(tier, members), '{}') AS tiers FROM (SELECT tier, count(*) AS members FROM member.members GROUP BY tier) t)
     INSERT INTO reports.members_daily (day, buyers, new_buyers, returning_buyers, buyers_30d, repeat_buyers_30d, buyers_90d, repeat_buyers_90d,
                                        points_issued, points_redeemed, tiers, rolled_up_at)
     SELECT $1::date,
            (SELECT count(*) FROM today),
            (SELECT count(*) FROM today JOIN first_orders USING (customer_id) WHERE first_at >= ${startOf('$1', '$2')}),
            (SELECT count(*) FROM today JOIN first_orders USING (customer_id) WHERE first_at < ${startOf('$1', '$2')}),
            (SELECT count(*) FROM window_30), (SELECT count(*) FROM window_30 WHERE orders >= 2),
            (SELECT count(*) FROM window_90), (SELECT count(*) FROM window_90 WHERE orders >= 2),
            points.issued, points.redeemed, tiers.tiers, now()
       FROM points, tiers`,
    [day, zone],
  );
}

export interface MembersDaily {
  day: string;
  buyers: number;
  newBuyers: number;
  returningBuyers: number;
  repurchase30d: { buyers: number; repeatBuyers: number; rate: number };
  repurchase90d: { buyers: number; repeatBuyers: number; rate: number };
  pointsIssued: number;
  pointsRedeemed: number;
  tiers: Record<string, number>;
  rolledUpAt: string | null;
}

/** A share as a fraction with four decimals (0.3333): exact enough to read, stable to compare. */
export const rate = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);

export async function readMembers(pool: Pool, day: string): Promise<MembersDaily> {
  const row = (await pool.query('SELECT * FROM reports.members_daily WHERE day = $1', [day])).rows[0];
  return {
    day,
    buyers: row?.buyers ?? 0,
    newBuyers: row?.new_buyers ?? 0,
    returningBuyers: row?.returning_buyers ?? 0,
    repurchase30d: { buyers: row?.buyers_30d ?? 0, repeatBuyers: row?.repeat_buyers_30d ?? 0, rate: rate(row?.repeat_buyers_30d ?? 0, row?.buyers_30d ?? 0) },
    repurchase90d: { buyers: row?.buyers_90d ?? 0, repeatBuyers: row?.repeat_buyers_90d ?? 0, rate: rate(row?.repeat_buyers_90d ?? 0, row?.buyers_90d ?? 0) },
    pointsIssued: Number(row?.points_issued ?? 0),
    pointsRedeemed: Number(row?.points_redeemed ?? 0),
    tiers: row?.tiers ?? {},
    rolledUpAt: row?.rolled_up_at?.toISOString() ?? null,
  };
}
