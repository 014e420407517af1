import type { Pool } from 'pg';
import type { Payment } from './store';

/** A provider's word that a buyer paid (or failed to pay) an intent, as the payment gate checks it. */
export interface PaymentNotice {
  provider: 'sandbox' | 'alipay' | 'wechatpay';
  eventId: string;
  intentId: string;
  /** The order the provider names, when it names one (the sandbox does); ours is in finance.payments. */
  orderId?: string;
  /** Undefined when the provider's amount could not be read: refused. */
  amountFen: number | undefined;
  currency: string;
  received: Record<string, unknown>;
}

export type GateVerdict =
  | { accepted: true; payment: Payment }
  | { accepted: false; reason: 'UNKNOWN_INTENT' | 'ORDER_MISMATCH' | 'AMOUNT_MISMATCH' | 'CURRENCY_MISMATCH' | 'APP_MISMATCH'; payment?: Payment };

/**
 * The payment gate: a signed notification is applied only when it matches our own record of the
 * intent (finance.payments: order, amount to the fen, currency). A signature proves who sent it, not
 * that it is about the money we asked for. `payment` is that record as the caller read it
 * (PAYMENT_BY_INTENT_JSON); `money` checks the amount and currency too (a failure moves none).
 */
export function judgePaymentNotice(payment: Payment | undefined, notice: PaymentNotice, check: { money: boolean } = { money: true }): GateVerdict {
  if (!payment) return { accepted: false, reason: 'UNKNOWN_INTENT' };
  if (notice.orderId !== undefined && notice.orderId !== payment.orderId) return { accepted: false, reason: 'ORDER_MISMATCH', payment };
  if (!check.money) return { accepted: true, payment };
  if (notice.amountFen !== payment.amountFen) return { accepted: false, reason: 'AMOUNT_MISMATCH', payment };
  if (notice.currency !== payment.currency) return { accepted: false, reason: 'CURRENCY_MISMATCH', payment };
  return { accepted: true, payment };
}

export interface RefusedNotification {
  id: number;
  provider: string;
  eventId: string;
  intentId: string | null;
  orderId: string | null;
  reason: string;
  expected: Record<string, unknown> | null;
  received: Record<string, unknown>;
  receivedAt: string;
}

/** Keeps a refused notification for ops, once per provider event (redeliveries add nothing). */
export async function recordRefusedNotification(pool: Pool, notice: PaymentNotice, reason: string, payment?: Payment): Promise<void> {
  const expected = payment ? { orderId: payment.orderId, amountFen: payment.amountFen, currency: payment.currency } : null;
  await pool.query(
    `INSERT INTO finance.refused_notifications (provider, event_id, intent_id, order_id, reason, expected, received)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (provider, event_id) DO NOTHING`,
    [notice.provider, notice.eventId, notice.intentId, payment?.orderId ?? notice.orderId ?? null, reason, expected && JSON.stringify(expected), JSON.stringify(notice.received)],
  );
}

export async function listRefusedNotifications(pool: Pool, limit: number): Promise<RefusedNotification[]> {
  const rows = await pool.query<{
    id: string;
    provider: string;
    event_id: string;
    intent_id: string | null;
    order_id: string | null;
    reason: string;
    expected: Record<string, unknown> | null;
    received: Record<string, unknown>;
    received_at: Date;
  }>('SELECT * FROM finance.refused_notifications ORDER BY received_at DESC, id DESC LIMIT $1', [limit]);
  return rows.rows.map((row) => ({
    id: Number(row.id),
    provider: row.provider,
    eventId: row.event_id,
    intentId: row.intent_id,
    orderId: row.order_id,
    reason: row.reason,
    expected: row.expected,
    received: row.received,
    receivedAt: row.received_at.toISOString(),
  }));
}

/** What the buyer needs to pay an intent (a QR code, a pay URL), with the order it belongs to. */
export async function checkoutOf(pool: Pool, intentId: string): Promise<{ orderId: string; amountFen: number; currency: string; state: string; checkout: Record<string, unknown> | null } | undefined> {
  const rows = await pool.query<{ order_id: string; amount_fen: string; currency: string; state: string; checkout: Record<string, unknown> | null }>(
    'SELECT order_id, amount_fen, currency, state, checkout FROM finance.payments WHERE intent_id = $1',
    [intentId],
  );
  const row = rows.rows[0];
  return row && { orderId: row.order_id, amountFen: Number(row.amount_fen), currency: row.currency, state: row.state, checkout: row.checkout };
}
