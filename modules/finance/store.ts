import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { Clock } from '../shared/db';
import { applyOnce, sqlText, type OperationLog } from '../shared/idempotency';
import type { PaymentProvider } from './provider';

export const FINANCE_LOG: OperationLog = { schema: 'finance' };

export interface FinanceContext {
  pool: Pool;
  provider: PaymentProvider;
  clock: Clock;
}

export type PaymentState = 'REQUIRES_PAYMENT' | 'AUTHORIZED' | 'CAPTURED' | 'CANCELLED';

export interface Payment {
  paymentId: number;
  orderId: string;
  intentId: string;
  currency: string;
  amountFen: number;
  capturedFen: number;
  refundedFen: number;
  forfeitedFen: number;
  state: PaymentState;
  captureId: string | null;
}

export interface PaymentRow {
  id: string;
  order_id: string;
  intent_id: string;
  currency: string;
  amount_fen: string;
  captured_fen: string;
  refunded_fen: string;
  forfeited_fen: string;
  state: PaymentState;
  capture_id: string | null;
}

export function toPayment(row: PaymentRow): Payment {
  return {
    paymentId: Number(row.id),
    orderId: row.order_id,
    intentId: row.intent_id,
    currency: row.currency,
    amountFen: Number(row.amount_fen),
    capturedFen: Number(row.captured_fen),
    refundedFen: Number(row.refunded_fen),
    forfeitedFen: Number(row.forfeited_fen),
    state: row.state,
    captureId: row.capture_id,
  };
}

/** Captured money of a payment that is neither refunded (or being refunded) nor forfeited. */
export const refundableFen = (payment: Payment) => payment.capturedFen - payment.refundedFen - payment.forfeitedFen;

export async function paymentByIntent(db: Pool | PoolClient, intentId: string, lock = false): Promise<Payment | undefined> {
  const found = await db.query<PaymentRow>(`SELECT * FROM finance.payments WHERE intent_id = $1${lock ? ' FOR UPDATE' : ''}`, [intentId]);
  return found.rows[0] && toPayment(found.rows[0]);
}

/** The payment of an intent as JSON (NULL when there is none): for a statement that reads it beside other rows. */
export const PAYMENT_BY_INTENT_JSON = (intentParam: string) => `(SELECT to_jsonb(payment) FROM finance.payments payment WHERE payment.intent_id = ${intentParam}::text)`;

/** The payment PAYMENT_BY_INTENT_JSON read, or undefined. */
export function paymentFromJson(row: unknown): Payment | undefined {
  return row ? toPayment(row as PaymentRow) : undefined;
}

/** The payment of an intent, locked: literals, to be sent with an operation's claim (applyOnce's `startsWith`). */
export function lockPaymentSql(intentId: string): string {
  return `SELECT * FROM finance.payments WHERE intent_id = ${sqlText(intentId)} FOR UPDATE`;
}

/**
 * Locks every payment of the order, in id order: the order's lock for anything that reads its
 * position and then books (refunds, revenue, forfeits), so those never interleave or deadlock.
 */
export async function lockOrderPayments(client: PoolClient, orderId: string): Promise<Payment[]> {
  const rows = await client.query<PaymentRow>(lockOrderPaymentsSql(orderId));
  return rows.rows.map(toPayment);
}

/** applyOnce in finance's log whose effect starts with the order's payments locked: the lock travels with the claim. */
export function applyWithOrderPayments<T>(
  pool: Pool,
  key: string,
  operation: string,
  orderId: string,
  effect: (client: PoolClient, payments: Payment[], thenRead: QueryResultRow[][]) => Promise<T>,
  thenReads: readonly string[] = [],
): Promise<T> {
  // `thenReads`: reads after the lock (each its own statement, so it sees what the lock's previous holder committed).
  return applyOnce<T, PaymentRow>(pool, FINANCE_LOG, key, operation, (client, rows, then) => effect(client, rows.map(toPayment), then), [lockOrderPaymentsSql(orderId), ...thenReads]);
}

/** lockOrderPayments' statement in literals, to be sent with an operation's claim (applyOnce's `startsWith`). */
export function lockOrderPaymentsSql(orderId: string): string {
  return `SELECT * FROM finance.payments WHERE order_id = ${sqlText(orderId)} ORDER BY id FOR UPDATE`;
}

export async function paymentsForOrder(db: Pool | PoolClient, orderId: string): Promise<Payment[]> {
  const rows = await db.query<PaymentRow>('SELECT * FROM finance.payments WHERE order_id = $1 ORDER BY id', [orderId]);
  return rows.rows.map(toPayment);
}

/** Refunds reserved but not yet settled: promised back to the buyer, so not recognisable or forfeitable. */

/** The sum of the order's refunds in flight, in literals, so it can be sent with an operation's claim (applyOnce's `startsWith`). */
export function pendingRefundsSql(orderId: string): string {
  return `SELECT COALESCE(SUM(amount_fen), 0) AS total FROM finance.refunds WHERE order_id = ${sqlText(orderId)} AND state = 'PENDING'`;
}

/** The sum pendingRefundsSql read. */
export function pendingRefundsOf(rows: readonly Record<string, unknown>[]): number {
  return Number(rows[0].total);
}
