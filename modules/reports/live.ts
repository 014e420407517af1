import type { Pool } from 'pg';
import { endOf, startOf } from './days';

/**
 * The live figures of the wall screen (大屏), read straight from the sources (not the roll-ups):
 * today's GMV and orders, orders per minute over the last 30 minutes, top SKUs, flash-sale pools,
 * the channel split, group-buy formation, the refund queue, low-stock alerts, orders needing attention. Counts, SKUs
 * and campaign ids only: no buyer, name or address (no PII on a screen in a hall).
 */
export interface LiveSnapshot {
  at: string;
  day: string;
  orders: number;
  /** 成交额: paid today on orders placed today (what moves when a buyer pays). */
  gmvFen: number;
  /** 下单金额: what today's orders were priced at, paid or not. */
  placedFen: number;
  ordersPerMinute: { minute: string; orders: number }[];
  topSkus: { skuId: string; units: number; gmvFen: number }[];
  /** Today's orders by sales channel (`unknown`: placed before channels existed). */
  channels: { channel: string; orders: number; placedFen: number }[];
  flashSales: { campaignId: string; skuId: string; cap: number; reserved: number; sold: number; left: number }[];
  groupBuys: { forming: number; formed: number; failed: number };
  refundQueue: { pending: number; oldestPendingSince: string | null };
  lowStockAlerts: { skuId: string; available: number; threshold: number; since: string }[];
  needsAttention: number;
}

const TODAY = `created_at >= ${startOf('$1', '$2')} AND created_at < ${endOf('$1', '$2')} AND status NOT IN ('REJECTED', 'PLACING')`;

export async function liveSnapshot(pool: Pool, day: string, zone: string): Promise<LiveSnapshot> {
  const params = [day, zone];
  const [totals, perMinute, skus, channels, flash, groups, refunds, alerts, attention] = await Promise.all([
    pool.query(`SELECT count(*)::int AS orders, COALESCE(sum(payable_fen), 0) AS placed_fen, COALESCE(sum((view->'totals'->>'paidFen')::bigint), 0) AS gmv_fen
                  FROM orders.orders WHERE ${TODAY}`, params),
    pool.query(`SELECT to_char(date_trunc('minute', created_at) AT TIME ZONE $2, 'HH24:MI') AS minute, count(*)::int AS orders
                  FROM orders.orders WHERE ${TODAY} AND created_at >= now() - interval '30 minutes' GROUP BY 1 ORDER BY 1`, params),
    pool.query(`SELECT line->>'skuId' AS sku_id, sum((line->>'quantity')::int)::int AS units, sum((line->>'payableFen')::bigint) AS gmv_fen
                  FROM orders.orders, jsonb_array_elements(view->'lines') line WHERE ${TODAY} GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 8`, params),
    pool.query(`SELECT COALESCE(channel, 'unknown') AS channel, count(*)::int AS orders, COALESCE(sum(payable_fen), 0) AS placed_fen
                  FROM orders.orders WHERE ${TODAY} GROUP BY 1 ORDER BY 2 DESC, 1`, params),
    pool.query(`SELECT campaign_id, sku_id, cap, reserved, sold FROM inventory.campaign_stock ORDER BY updated_at DESC LIMIT 6`),
    pool.query(`SELECT count(DISTINCT view->'group'->>'groupId') FILTER (WHERE view->'group'->>'outcome' = 'PENDING')::int AS forming,
                       count(DISTINCT view->'group'->>'groupId') FILTER (WHERE view->'group'->>'outcome' = 'SUCCEEDED')::int AS formed,
                       count(DISTINCT view->'group'->>'groupId') FILTER (WHERE view->'group'->>'outcome' = 'FAILED')::int AS failed
                  FROM orders.orders WHERE ${TODAY} AND view ? 'group'`, params),
    pool.query(`SELECT count(*)::int AS pending, min(requested_at) AS oldest FROM after_sales.refund_requests WHERE status = 'PENDING'`),
    pool.query(`SELECT sku_id, available, threshold, created_at FROM inventory.low_stock_alerts WHERE acknowledged_at IS NULL ORDER BY created_at LIMIT 10`),
    pool.query(`SELECT count(*)::int AS orders FROM orders.orders WHERE view->>'phase' = 'NEEDS_ATTENTION'`),
  ]);
  return {
    at: new Date().toISOString(),
    day,
    orders: totals.rows[0].orders,
    gmvFen: Number(totals.rows[0].gmv_fen),
    placedFen: Number(totals.rows[0].placed_fen),
    ordersPerMinute: perMinute.rows,
    topSkus: skus.rows.map((row) => ({ skuId: row.sku_id, units: row.units, gmvFen: Number(row.gmv_fen) })),
    channels: channels.rows.map((row) => ({ channel: row.channel, orders: row.orders, placedFen: Number(row.placed_fen) })),
    flashSales: flash.rows.map((row) => ({ campaignId: row.campaign_id, skuId: row.sku_id, cap: row.cap, reserved: row.reserved, sold: row.sold, left: row.cap - row.reserved - row.sold })),
    groupBuys: groups.rows[0],
    refundQueue: { pending: refunds.rows[0].pending, oldestPendingSince: refunds.rows[0].oldest?.toISOString() ?? null },
    lowStockAlerts: alerts.rows.map((row) => ({ skuId: row.sku_id, available: row.available, threshold: row.threshold, since: row.created_at.toISOString() })),
    needsAttention: attention.rows[0].orders,
  };
}
