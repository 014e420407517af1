import type { Pool } from 'pg';
import { SALES_CHANNELS } from '../../workflows/order/shipping-definitions';
import { z } from 'zod';
import type { OrderView } from '../../workflows/order/definitions';
import { startOfDay } from '../reports/days';
import { afterCursor, Conditions, encodeCursor } from './keyset';

/**
 * Support's and ops' order search over the order projection (orders.orders): every filter is
 * optional, results are pages in a stable order (created_at or payable amount, then order id).
 */
const id = z.string().trim().min(1).max(200);
const fen = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** An ISO instant, or a day: its midnight in the store's zone (resolved by the search). */
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const orderSearchSchema = z.strictObject({
  status: z.string().regex(/^[A-Z_]{2,40}$/).optional(),
  phase: z.string().regex(/^[A-Z_]{2,40}$/).optional(),
  type: z.enum(['STANDARD', 'PRESALE', 'GROUP_BUY', 'FLASH_SALE']).optional(),
  /** The sales channel it was placed through (orders.orders.channel; orders before channels have none). */
  channel: z.enum(SALES_CHANNELS).optional(),
  customerId: id.optional(),
  skuId: id.optional(),
  campaignId: id.optional(),
  /** Placed at or after / before: an ISO instant, or a day (midnight in the store's zone). */
  from: instant.optional(),
  to: instant.optional(),
  minFen: fen.optional(),
  maxFen: fen.optional(),
  sort: z.enum(['created_at', 'payable_fen']).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
  format: z.enum(['json', 'csv']).optional(),
});
export type OrderSearch = z.infer<typeof orderSearchSchema>;

export interface OrderSearchRow {
  orderId: string;
  customerId: string;
  type: string;
  channel: string | null;
  status: string;
  phase: string;
  payableFen: number;
  refundedFen: number;
  createdAt: string;
  campaignId: string | null;
  skus: string[];
  attention: OrderView['attention'] | null;
}

const CAMPAIGN = `COALESCE(view->'presale'->>'campaignId', view->'group'->>'campaignId',
  (SELECT e->'detail'->>'campaignId' FROM jsonb_array_elements(view->'timeline') e WHERE e->'detail' ? 'campaignId' LIMIT 1))`;

export async function searchOrders(pool: Pool, search: OrderSearch, timeZone = 'Asia/Shanghai'): Promise<{ orders: OrderSearchRow[]; nextCursor: string | null }> {
  const where = new Conditions();
  const at = (text: string | undefined) => (text === undefined ? undefined : text.length === 10 ? startOfDay(text, timeZone) : new Date(text));
  where.add((p) => `status = ${p}`, search.status);
  where.add((p) => `view->>'phase' = ${p}`, search.phase);
  where.add((p) => `order_type = ${p}`, search.type);
  where.add((p) => `channel = ${p}`, search.channel);
  where.add((p) => `customer_id = ${p}`, search.customerId);
  where.add((p) => `view->'lines' @> ${p}::jsonb`, search.skuId && JSON.stringify([{ skuId: search.skuId }]));
  where.add((p) => `${CAMPAIGN} = ${p}`, search.campaignId);
  where.add((p) => `created_at >= ${p}`, at(search.from));
  where.add((p) => `created_at < ${p}`, at(search.to));
  where.add((p) => `payable_fen >= ${p}`, search.minFen);
  where.add((p) => `payable_fen <= ${p}`, search.maxFen);
  afterCursor(where, search.sort, 'order_id', search.order, search.cursor, search.sort === 'created_at' ? 'timestamptz' : 'bigint');
  where.params.push(search.limit + 1);
  const found = await pool.query(
    `SELECT ${search.sort}::text AS sort_key, order_id, customer_id, order_type, channel, status, view->>'phase' AS phase, payable_fen, refunded_fen, created_at,
            ${CAMPAIGN} AS campaign_id, (SELECT array_agg(DISTINCT l->>'skuId') FROM jsonb_array_elements(view->'lines') l) AS skus,
            view->'attention' AS attention
       FROM orders.orders ${where.where()}
      ORDER BY ${search.sort} ${search.order}, order_id ${search.order} LIMIT $${where.params.length}`,
    where.params,
  );
  const rows = found.rows.slice(0, search.limit);
  const last = rows[rows.length - 1];
  const nextCursor = found.rows.length > search.limit && last
    ? encodeCursor(last.sort_key, last.order_id)
    : null;
  return {
    orders: rows.map((row) => ({
      orderId: row.order_id,
      customerId: row.customer_id,
      type: row.order_type,
      channel: row.channel,
      status: row.status,
      phase: row.phase,
      payableFen: Number(row.payable_fen),
      refundedFen: Number(row.refunded_fen),
      createdAt: row.created_at.toISOString(),
      campaignId: row.campaign_id,
      skus: row.skus ?? [],
      attention: row.attention,
    })),
    nextCursor,
  };
}
