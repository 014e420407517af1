import type { Pool } from 'pg';

/**
 * Rows as the order and refund workflows project them (orders.orders, after_sales.*), written
 * directly so a report test can place orders at chosen instants (a day's edges in Shanghai time).
 */
export interface OrderRow {
  orderId: string;
  customerId: string;
  type?: 'STANDARD' | 'PRESALE' | 'GROUP_BUY' | 'FLASH_SALE';
  status: string;
  createdAt: string;
  payableFen: number;
  lines: { skuId: string; quantity: number; payableFen: number }[];
  paidAt?: string;
  refunds?: { amountFen: number; at: string }[];
  campaign?: { presale?: string; group?: string; flashSale?: string };
  /** The sales channel's kind (orders.orders.channel); none = placed before channels existed. */
  channel?: string;
}

export async function insertOrder(pool: Pool, row: OrderRow): Promise<void> {
  const refunds = (row.refunds ?? []).map((refund, index) => ({ refundKey: `${row.orderId}:r${index}`, reason: 'test', ...refund }));
  const refundedFen = refunds.reduce((sum, refund) => sum + refund.amountFen, 0);
  const paidFen = row.type === 'PRESALE' ? Math.min(row.payableFen, 2_000) : row.payableFen;
  const view = {
    orderId: row.orderId,
    customerId: row.customerId,
    type: row.type ?? 'STANDARD',
    status: row.status,
    phase: row.status,
    currency: 'CNY',
    lines: row.lines.map((line, index) => ({ lineId: `L${index + 1}`, unitPriceFen: line.payableFen / line.quantity, refundedFen: 0, ...line })),
    totals: { payableFen: row.payableFen, paidFen: row.paidAt ? paidFen : 0, refundedFen },
    payment: row.paidAt
      ? { status: 'SUCCEEDED', amountFen: paidFen, paidAt: row.paidAt, refunds }
      : { status: 'PENDING', amountFen: paidFen, refunds: [] },
    ...(row.campaign?.presale ? { presale: { campaignId: row.campaign.presale, finalPayment: { status: 'NONE', amountFen: 0, refunds: [] } } } : {}),
    ...(row.campaign?.group ? { group: { campaignId: row.campaign.group } } : {}),
    timeline: [
      { at: row.createdAt, event: 'placed' },
      ...(row.campaign?.flashSale ? [{ at: row.createdAt, event: 'priced', detail: { campaignId: row.campaign.flashSale } }] : []),
    ],
    ...(row.channel ? { channel: { kind: row.channel } } : {}),
    version: 1,
  };
  await pool.query(
    `INSERT INTO orders.orders (order_id, customer_id, order_type, status, currency, payable_fen, refunded_fen, view, version, created_at, channel)
     VALUES ($1, $2, $3, $4, 'CNY', $5, $6, $7, 1, $8, $9)`,
    [row.orderId, row.customerId, view.type, row.status, row.payableFen, refundedFen, JSON.stringify(view), row.createdAt, row.channel ?? null],
  );
}

export interface RefundRow {
  requestId: string;
  orderId: string;
  customerId: string;
  requestedAt: string;
  requestedFen: number;
  refundedFen: number;
  reason: string;
  lines: { skuId: string; amountFen: number }[];
  decision?: { decision: 'APPROVED' | 'REJECTED'; channel: 'api' | 'auto'; at: string };
}

export async function insertRefund(pool: Pool, row: RefundRow): Promise<void> {
  const view = { requestId: row.requestId, orderId: row.orderId, reason: row.reason, lines: row.lines.map((line, index) => ({ lineId: `L${index + 1}`, quantity: 1, ...line })) };
  await pool.query(
    `INSERT INTO after_sales.refund_requests (request_id, order_id, customer_id, kind, status, requested_fen, refunded_fen, requested_at,
                                              decision_due_at, workflow_id, view, version)
     VALUES ($1, $2, $3, 'REFUND_ONLY', $4, $5, $6, $7, $7::timestamptz + interval '48 hours', $8, $9, 1)`,
    [row.requestId, row.orderId, row.customerId, row.refundedFen > 0 ? 'REFUNDED' : 'REJECTED', row.requestedFen, row.refundedFen, row.requestedAt, `refund-${row.requestId}`, JSON.stringify(view)],
  );
  if (row.decision) {
    await pool.query(
      `INSERT INTO after_sales.decisions (request_id, order_id, decision, decided_by, channel, approved_fen, reason, decided_at, workflow_id, run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'run')`,
      [row.requestId, row.orderId, row.decision.decision, row.decision.channel === 'auto' ? 'system' : 'agent_1', row.decision.channel,
       row.decision.decision === 'APPROVED' ? row.refundedFen : null, row.decision.decision === 'REJECTED' ? 'not eligible' : null,
       row.decision.at, `refund-${row.requestId}`],
    );
  }
}

/** A balanced journal entry (the ledger's deferred trigger checks it at commit). */
export async function insertJournalEntry(pool: Pool, key: string, at: string, debit: string, credit: string, amountFen: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const entry = await client.query<{ id: string }>(
      `INSERT INTO finance.journal_entries (idempotency_key, kind, currency, created_at) VALUES ($1, 'PAYMENT_CAPTURED', 'CNY', $2) RETURNING id`,
      [key, at],
    );
    await client.query(
      'INSERT INTO finance.journal_lines (entry_id, account, debit_fen, credit_fen) VALUES ($1, $2, $3, 0), ($1, $4, 0, $3)',
      [entry.rows[0].id, debit, amountFen, credit],
    );
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}
