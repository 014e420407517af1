import type { Pool } from 'pg';
import { z } from 'zod';
import { startOfDay } from '../reports/days';
import { afterCursor, Conditions, encodeCursor } from './keyset';

/** The refund requests (after_sales.refund_requests) searched like orders, for support and ops. */
const id = z.string().trim().min(1).max(200);
const fen = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** An ISO instant, or a day: its midnight in the store's zone (resolved by the search). */
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const refundSearchSchema = z.strictObject({
  status: z.string().regex(/^[A-Z_]{2,40}$/).optional(),
  kind: z.enum(['REFUND_ONLY', 'RETURN_AND_REFUND']).optional(),
  orderId: id.optional(),
  customerId: id.optional(),
  skuId: id.optional(),
  from: instant.optional(),
  to: instant.optional(),
  minFen: fen.optional(),
  maxFen: fen.optional(),
  sort: z.enum(['requested_at', 'requested_fen']).default('requested_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
  format: z.enum(['json', 'csv']).optional(),
});
export type RefundSearch = z.infer<typeof refundSearchSchema>;

export async function searchRefunds(pool: Pool, search: RefundSearch, timeZone = 'Asia/Shanghai') {
  const where = new Conditions();
  const at = (text: string | undefined) => (text === undefined ? undefined : text.length === 10 ? startOfDay(text, timeZone) : new Date(text));
  where.add((p) => `status = ${p}`, search.status);
  where.add((p) => `kind = ${p}`, search.kind);
  where.add((p) => `order_id = ${p}`, search.orderId);
  where.add((p) => `customer_id = ${p}`, search.customerId);
  where.add((p) => `view->'lines' @> ${p}::jsonb`, search.skuId && JSON.stringify([{ skuId: search.skuId }]));
  where.add((p) => `requested_at >= ${p}`, at(search.from));
  where.add((p) => `requested_at < ${p}`, at(search.to));
  where.add((p) => `requested_fen >= ${p}`, search.minFen);
  where.add((p) => `requested_fen <= ${p}`, search.maxFen);
  afterCursor(where, search.sort, 'request_id', search.order, search.cursor, search.sort === 'requested_at' ? 'timestamptz' : 'bigint');
  where.params.push(search.limit + 1);
  const found = await pool.query(
    `SELECT ${search.sort}::text AS sort_key, request_id, order_id, customer_id, kind, status, requested_fen, refunded_fen, requested_at, decision_due_at, view->>'reason' AS reason
       FROM after_sales.refund_requests ${where.where()}
      ORDER BY ${search.sort} ${search.order}, request_id ${search.order} LIMIT $${where.params.length}`,
    where.params,
  );
  const rows = found.rows.slice(0, search.limit);
  const last = rows[rows.length - 1];
  return {
    refunds: rows.map((row) => ({
      requestId: row.request_id,
      orderId: row.order_id,
      customerId: row.customer_id,
      kind: row.kind,
      status: row.status,
      reason: row.reason,
      requestedFen: Number(row.requested_fen),
      refundedFen: Number(row.refunded_fen),
      requestedAt: row.requested_at.toISOString(),
      decisionDueAt: row.decision_due_at.toISOString(),
    })),
    nextCursor: found.rows.length > search.limit && last
      ? encodeCursor(last.sort_key, last.request_id)
      : null,
  };
}
