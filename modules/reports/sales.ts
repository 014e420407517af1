import type { Pool, PoolClient } from 'pg';
import { endOf, startOf } from './days';

/**
 * 销售日报: orders placed on the day (REJECTED ones never were orders), their buyers and GMV (what
 * they were priced at, payable); money received and refunded on the day whatever day its order was
 * placed (deposit and final payment of presales both count); net = paid − refunded; AOV = GMV / orders.
 * Breakdowns by order type, sales channel (app, mini_program, h5, live_stream, pos; `unknown` for orders
 * placed before channels existed), campaign, SKU and hour of the day.
 */

// $1 day, $2 zone. An order placed on the day, with its campaign (presale, group-buy or flash sale).
const PLACED = `
  SELECT o.order_id, o.customer_id, o.order_type, COALESCE(o.channel, 'unknown') AS channel, o.payable_fen, o.view, o.created_at,
         COALESCE(o.view->'presale'->>'campaignId', o.view->'group'->>'campaignId',
                  (SELECT e->'detail'->>'campaignId' FROM jsonb_array_elements(o.view->'timeline') e
                    WHERE e->'detail' ? 'campaignId' LIMIT 1)) AS campaign_id
    FROM orders.orders o
   WHERE o.created_at >= ${startOf('$1', '$2')} AND o.created_at < ${endOf('$1', '$2')}
     AND o.status NOT IN ('REJECTED', 'PLACING')`;

// Every payment of an order (the deposit or only payment, and a presale's final payment). An order
// paid or refunded on the day was written to on or after the day's start: the bound keeps it cheap.
const PAYMENTS = `
  SELECT o.order_id, p.payment
    FROM orders.orders o
    CROSS JOIN LATERAL (VALUES (o.view->'payment'), (o.view->'presale'->'finalPayment')) AS p(payment)
   WHERE p.payment IS NOT NULL AND o.updated_at >= ${startOf('$1', '$2')}`;

export async function rollUpSales(client: PoolClient, day: string, zone: string): Promise<void> {
  await client.query('DELETE FROM reports.sales_daily WHERE day = $1', [day]);
  await client.query('DELETE FROM reports.sales_daily_breakdown WHERE day = $1', [day]);
  await client.query(
    `WITH placed AS (${PLACED}), payments AS (${PAYMENTS}),
     paid AS (
       SELECT order_id, (payment->>'amountFen')::bigint AS amount_fen FROM payments
        WHERE (payment->>'paidAt')::timestamptz >= ${startOf('$1', '$2')} AND (payment->>'paidAt')::timestamptz < ${endOf('$1', '$2')}),
     refunded AS (
       SELECT (refund->>'amountFen')::bigint AS amount_fen FROM payments, jsonb_array_elements(COALESCE(payment->'refunds', '[]')) refund
        WHERE (refund->>'at')::timestamptz >= ${startOf('$1', '$2')} AND (refund->>'at')::timestamptz < ${endOf('$1', '$2')}),
     totals AS (
       SELECT (SELECT count(*) FROM placed) AS orders, (SELECT count(DISTINCT customer_id) FROM placed) AS buyers,
              (SELECT COALESCE(sum(payable_fen), 0) FROM placed) AS gmv_fen,
              (SELECT count(DISTINCT order_id) FROM paid) AS paid_orders,
              (SELECT COALESCE(sum(amount_fen), 0) FROM paid) AS paid_fen,
              (SELECT COALESCE(sum(amount_fen), 0) FROM refunded) AS refunded_fen)
     INSERT INTO reports.sales_daily (day, orders, buyers, gmv_fen, paid_orders, paid_fen, refunded_fen, net_fen, aov_fen, rolled_up_at)
     SELECT $1::date, orders, buyers, gmv_fen, paid_orders, paid_fen, refunded_fen, paid_fen - refunded_fen,
            CASE WHEN orders = 0 THEN 0 ELSE round(gmv_fen::numeric / orders) END, now()
       FROM totals`,
    [day, zone],
  );
  await client.query(
    `WITH placed AS (${PLACED}),
     units AS (SELECT order_id, sum((line->>'quantity')::int) AS units FROM placed, jsonb_array_elements(view->'lines') line GROUP BY order_id),
     placed_units AS (SELECT placed.*, COALESCE(units.units, 0) AS units FROM placed LEFT JOIN units USING (order_id))
     INSERT INTO reports.sales_daily_breakdown (day, dimension, key, orders, units, gmv_fen)
     SELECT $1::date, 'order_type', order_type, count(*), sum(units), sum(payable_fen) FROM placed_units GROUP BY order_type
     UNION ALL
     SELECT $1::date, 'channel', channel, count(*), sum(units), sum(payable_fen) FROM placed_units GROUP BY channel
     UNION ALL
     SELECT $1::date, 'campaign', campaign_id, count(*), sum(units), sum(payable_fen) FROM placed_units WHERE campaign_id IS NOT NULL GROUP BY campaign_id
     UNION ALL
     SELECT $1::date, 'hour', to_char(created_at AT TIME ZONE $2, 'HH24'), count(*), sum(units), sum(payable_fen) FROM placed_units GROUP BY 3
     UNION ALL
     SELECT $1::date, 'sku', line->>'skuId', count(DISTINCT order_id), sum((line->>'quantity')::int), sum((line->>'payableFen')::bigint)
       FROM placed, jsonb_array_elements(view->'lines') line GROUP BY line->>'skuId'`,
    [day, zone],
  );
}

export interface SalesDaily {
  day: string;
  orders: number;
  buyers: number;
  gmvFen: number;
  paidOrders: number;
  paidFen: number;
  refundedFen: number;
  netFen: number;
  aovFen: number;
  rolledUpAt: string | null;
  byOrderType: Breakdown[];
  byChannel: Breakdown[];
  byCampaign: Breakdown[];
  topSkus: Breakdown[];
  byHour: Breakdown[];
}

export interface Breakdown {
  key: string;
  orders: number;
  units: number;
  gmvFen: number;
}

export async function readSales(pool: Pool, day: string, topN = 10): Promise<SalesDaily> {
  const totals = await pool.query('SELECT * FROM reports.sales_daily WHERE day = $1', [day]);
  const rows = await pool.query<{ dimension: string; key: string; orders: number; units: number; gmv_fen: string }>(
    'SELECT dimension, key, orders, units, gmv_fen FROM reports.sales_daily_breakdown WHERE day = $1 ORDER BY gmv_fen DESC, key',
    [day],
  );
  const of = (dimension: string) =>
    rows.rows.filter((row) => row.dimension === dimension).map((row) => ({ key: row.key, orders: row.orders, units: row.units, gmvFen: Number(row.gmv_fen) }));
  const row = totals.rows[0];
  return {
    day,
    orders: row?.orders ?? 0,
    buyers: row?.buyers ?? 0,
    gmvFen: Number(row?.gmv_fen ?? 0),
    paidOrders: row?.paid_orders ?? 0,
    paidFen: Number(row?.paid_fen ?? 0),
    refundedFen: Number(row?.refunded_fen ?? 0),
    netFen: Number(row?.net_fen ?? 0),
    aovFen: Number(row?.aov_fen ?? 0),
    rolledUpAt: row?.rolled_up_at?.toISOString() ?? null,
    byOrderType: of('order_type'),
    byChannel: of('channel'),
    byCampaign: of('campaign'),
    topSkus: of('sku').slice(0, topN),
    byHour: of('hour').sort((a, b) => a.key.localeCompare(b.key)),
  };
}
