import type { Pool, PoolClient } from 'pg';
import { endOf, startOf } from './days';
import { rate } from './members';

/**
 * After-sales of a day: refund requests made that day (amount requested and refunded so far, by
 * reason and by SKU), the refund rate (requests / orders placed that day), and the decisions taken
 * that day: approved, rejected, approved automatically (no agent within the decision window), and
 * how long a decision took (request to decision).
 */
const REQUESTS = `
  SELECT request_id, requested_fen, refunded_fen, view FROM after_sales.refund_requests
   WHERE requested_at >= ${startOf('$1', '$2')} AND requested_at < ${endOf('$1', '$2')}`;

export async function rollUpAfterSales(client: PoolClient, day: string, zone: string): Promise<void> {
  await client.query('DELETE FROM reports.after_sales_daily WHERE day = $1', [day]);
  await client.query('DELETE FROM reports.after_sales_daily_breakdown WHERE day = $1', [day]);
  await client.query(
    `WITH requests AS (${REQUESTS}),
     decided AS (
       SELECT d.decision, d.channel, extract(epoch FROM d.decided_at - r.requested_at) AS seconds
         FROM after_sales.decisions d JOIN after_sales.refund_requests r USING (request_id)
        WHERE d.decided_at >= ${startOf('$1', '$2')} AND d.decided_at < ${endOf('$1', '$2')})
     INSERT INTO reports.after_sales_daily (day, requests, orders_placed, refunded_fen, approved, rejected, auto_approved,
                                            avg_decision_seconds, max_decision_seconds, rolled_up_at)
     SELECT $1::date, (SELECT count(*) FROM requests),
            (SELECT count(*) FROM orders.orders WHERE created_at >= ${startOf('$1', '$2')} AND created_at < ${endOf('$1', '$2')}
                AND status NOT IN ('REJECTED', 'PLACING')),
            (SELECT COALESCE(sum(refunded_fen), 0) FROM requests),
            (SELECT count(*) FROM decided WHERE decision = 'APPROVED'),
            (SELECT count(*) FROM decided WHERE decision = 'REJECTED'),
            (SELECT count(*) FROM decided WHERE decision = 'APPROVED' AND channel = 'auto'),
            (SELECT round(avg(seconds)) FROM decided), (SELECT round(max(seconds)) FROM decided), now()`,
    [day, zone],
  );
  // Per SKU, a request's refunded amount is shared in proportion to what each line asked for.
  await client.query(
    `WITH requests AS (${REQUESTS})
     INSERT INTO reports.after_sales_daily_breakdown (day, dimension, key, requests, requested_fen, refunded_fen)
     SELECT $1::date, 'reason', view->>'reason', count(*), sum(requested_fen), sum(refunded_fen) FROM requests GROUP BY view->>'reason'
     UNION ALL
     SELECT $1::date, 'sku', line->>'skuId', count(DISTINCT request_id), sum((line->>'amountFen')::bigint),
            sum(CASE WHEN requested_fen = 0 THEN 0 ELSE round((line->>'amountFen')::bigint * refunded_fen::numeric / requested_fen) END)
       FROM requests, jsonb_array_elements(view->'lines') line GROUP BY line->>'skuId'`,
    [day, zone],
  );
}

export interface AfterSalesDaily {
  day: string;
  requests: number;
  ordersPlaced: number;
  refundRate: number;
  refundedFen: number;
  approved: number;
  rejected: number;
  autoApproved: number;
  avgDecisionSeconds: number | null;
  maxDecisionSeconds: number | null;
  byReason: { key: string; requests: number; requestedFen: number; refundedFen: number }[];
  bySku: { key: string; requests: number; requestedFen: number; refundedFen: number }[];
  rolledUpAt: string | null;
}

export async function readAfterSales(pool: Pool, day: string): Promise<AfterSalesDaily> {
  const row = (await pool.query('SELECT * FROM reports.after_sales_daily WHERE day = $1', [day])).rows[0];
  const parts = await pool.query('SELECT * FROM reports.after_sales_daily_breakdown WHERE day = $1 ORDER BY refunded_fen DESC, key', [day]);
  const of = (dimension: string) =>
    parts.rows
      .filter((part) => part.dimension === dimension)
      .map((part) => ({ key: part.key, requests: part.requests, requestedFen: Number(part.requested_fen), refundedFen: Number(part.refunded_fen) }));
  return {
    day,
    requests: row?.requests ?? 0,
    ordersPlaced: row?.orders_placed ?? 0,
    refundRate: rate(row?.requests ?? 0, row?.orders_placed ?? 0),
    refundedFen: Number(row?.refunded_fen ?? 0),
    approved: row?.approved ?? 0,
    rejected: row?.rejected ?? 0,
    autoApproved: row?.auto_approved ?? 0,
    avgDecisionSeconds: row?.avg_decision_seconds ?? null,
    maxDecisionSeconds: row?.max_decision_seconds ?? null,
    byReason: of('reason'),
    bySku: of('sku'),
    rolledUpAt: row?.rolled_up_at?.toISOString() ?? null,
  };
}
