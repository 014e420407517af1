import type { Pool, PoolClient } from 'pg';
import { AlreadyCompensatedError, DomainError } from '../shared/errors';
import { applyOnce, applyStatementOnce, compensateOnce, findOperation, sqlInteger, sqlText, sqlTimestamp } from '../shared/idempotency';
import { ACCOUNTS } from './accounts';
import { credit, debit, postEntry } from './journal';
import {
  cancelPaymentIntentSchema,
  capturePaymentSchema,
  createPaymentIntentSchema,
  recordPaymentSucceededSchema,
  type CancelPaymentIntentInput,
  type CapturePaymentInput,
  type CreatePaymentIntentInput,
  type RecordPaymentSucceededInput,
} from './schemas';
import { FINANCE_LOG, lockPaymentSql, toPayment, type FinanceContext, type Payment, type PaymentRow } from './store';

const CREATE_INTENT = 'create-payment-intent';

export interface CreatedIntent {
  orderId: string;
  intentId: string;
  amountFen: number;
  currency: string;
  status: string;
}

export interface CapturedPayment {
  orderId: string;
  intentId: string;
  captureId: string;
  capturedFen: number;
  entryId: number;
}

/*
 * Provider calls never run inside a database transaction here: a slow provider must not hold row
 * locks or pool connections. Each call is idempotent by our key, so the pattern is "ask the provider
 * (again), then record the answer once with applyOnce".
 */
export function createPaymentOperations(context: FinanceContext) {
  const { pool, provider, clock } = context;

  function markIntentCancelled(idempotencyKey: string) {
    return compensateOnce(pool, FINANCE_LOG, idempotencyKey, CREATE_INTENT, async (client, applied: CreatedIntent) => {
      await client.query(`UPDATE finance.payments SET state = 'CANCELLED', updated_at = $2 WHERE intent_id = $1 AND state <> 'CAPTURED'`, [
        applied.intentId,
        clock(),
      ]);
      return { intentId: applied.intentId, status: 'cancelled' };
    });
  }

  return {
    async createPaymentIntent(input: CreatePaymentIntentInput): Promise<CreatedIntent> {
      const request = createPaymentIntentSchema.parse(input);
      const earlier = await findOperation<CreatedIntent>(pool, FINANCE_LOG, request.idempotencyKey);
      if (earlier?.state === 'COMPENSATED') throw new AlreadyCompensatedError(request.idempotencyKey);
      if (earlier?.state === 'APPLIED' && earlier.operation === CREATE_INTENT) return earlier.result as CreatedIntent;
      const intent = await provider.createPaymentIntent(request);
      const created: CreatedIntent = { orderId: request.orderId, intentId: intent.intentId, amountFen: request.amountFen, currency: request.currency, status: intent.status };
      // The currency check, the claim of the key and the insert in one statement: nothing is claimed or
      // inserted when the order already has a payment in another currency.
      const outcome = await applyStatementOnce(pool, FINANCE_LOG, request.idempotencyKey, CREATE_INTENT, created, {
        guards: { other_currency: 'SELECT currency FROM finance.payments WHERE order_id = $1 AND currency <> $3 LIMIT 1' },
        effects: [
          `inserted AS (
             INSERT INTO finance.payments (order_id, intent_id, currency, amount_fen, state, checkout, created_at, updated_at)
             SELECT $1, $2, $3, $4, 'REQUIRES_PAYMENT', $6, $5, $5 WHERE EXISTS (SELECT 1 FROM claimed)
             ON CONFLICT (intent_id) DO NOTHING)`,
        ],
        values: [request.orderId, intent.intentId, request.currency, request.amountFen, clock(), intent.checkout ? JSON.stringify(intent.checkout) : null],
      });
      if ('refused' in outcome) throw currencyMismatch(request.orderId, String(outcome.value), request.currency);
      return outcome.result;
    },

    /**
     * Compensation of createPaymentIntent (same key): voids the intent at the provider, so a buyer
     * can no longer pay it and an authorisation is released. A captured payment is refused
     * (PAYMENT_ALREADY_CAPTURED): it must be refunded instead.
     */
    async cancelPaymentIntent(input: CancelPaymentIntentInput) {
      const { idempotencyKey } = cancelPaymentIntentSchema.parse(input);
      const earlier = await findOperation<CreatedIntent>(pool, FINANCE_LOG, idempotencyKey);
      if (earlier?.state === 'APPLIED' && earlier.result) {
        const cancelled = await provider.cancelIntent({ idempotencyKey: `${idempotencyKey}:cancel`, intentId: earlier.result.intentId }).catch((error: unknown) => {
          if (error instanceof DomainError && error.code === 'PROVIDER_INTENT_ALREADY_CAPTURED') {
            throw new DomainError('PAYMENT_ALREADY_CAPTURED', 'the payment was captured: refund it instead', { intentId: earlier.result?.intentId });
          }
          throw error;
        });
        if (cancelled.status !== 'cancelled') throw new Error(`provider left intent ${cancelled.intentId} ${cancelled.status}`);
      }
      return markIntentCancelled(idempotencyKey);
    },

    /** The bookkeeping half of cancelPaymentIntent, for an intent the provider can no longer be paid on. */
    markIntentCancelled,

    /** The provider's payment.succeeded webhook, as a signal from the workflow: the buyer authorised. */
    async recordPaymentSucceeded(input: RecordPaymentSucceededInput): Promise<Payment> {
      const request = recordPaymentSucceededSchema.parse(input);
      return applyOnce<Payment, PaymentRow>(pool, FINANCE_LOG, request.idempotencyKey, 'record-payment-succeeded', async (client, [row], _then, finishWith) => {
        const known = row && toPayment(row);
        if (!known) {
          await assertOrderCurrency(client, request.orderId, request.currency);
          const inserted = await client.query<PaymentRow>(
            `INSERT INTO finance.payments (order_id, intent_id, currency, amount_fen, state, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'AUTHORIZED', $5, $5) RETURNING *`,
            [request.orderId, request.intentId, request.currency, request.amountFen, clock()],
          );
          return toPayment(inserted.rows[0]);
        }
        if (known.orderId !== request.orderId || known.amountFen !== request.amountFen || known.currency !== request.currency) {
          throw new DomainError('PAYMENT_MISMATCH', `intent ${request.intentId} belongs to another order or amount`, { intentId: request.intentId });
        }
        // Only an unpaid intent becomes AUTHORIZED; one further along (captured, say) stays as it is. The
        // row is locked, so what the write makes of it is known here: it travels with the result and COMMIT.
        if (known.state !== 'REQUIRES_PAYMENT') return known;
        finishWith(`UPDATE finance.payments SET state = 'AUTHORIZED', updated_at = ${sqlTimestamp(clock())} WHERE id = ${sqlInteger(known.paymentId)}`);
        return { ...known, state: 'AUTHORIZED' };
      }, lockPaymentSql(request.intentId));
    },

    /** Moves the authorised money: Dr cash:provider, Cr liability:customer_prepayments. */
    async capturePayment(input: CapturePaymentInput): Promise<CapturedPayment> {
      const request = capturePaymentSchema.parse(input);
      const { earlier, payment } = await captureRecords(pool, request.idempotencyKey, request.intentId);
      if (earlier?.state === 'APPLIED' && earlier.operation === 'capture-payment') return earlier.result as CapturedPayment;
      if (!payment || payment.orderId !== request.orderId) {
        throw new DomainError('PAYMENT_NOT_FOUND', `no payment ${request.intentId} for order ${request.orderId}`, { intentId: request.intentId });
      }
      if (payment.state === 'CAPTURED') throw new DomainError('PAYMENT_ALREADY_CAPTURED', `payment ${payment.intentId} was captured before`, { intentId: payment.intentId });
      if (request.currency && request.currency !== payment.currency) {
        throw new DomainError('CURRENCY_MISMATCH', `payment ${payment.intentId} is in ${payment.currency}`, { intentId: payment.intentId });
      }
      const amountFen = request.amountFen ?? payment.amountFen;
      if (amountFen > payment.amountFen) {
        throw new DomainError('CAPTURE_EXCEEDS_AUTHORIZED', `cannot capture ${amountFen} of ${payment.amountFen}`, { intentId: payment.intentId });
      }
      // The provider, not our copy of the webhook, knows whether the buyer authorised: ask it even when
      // payment.succeeded was not recorded here (yet).
      const capture = await provider.capture({ idempotencyKey: request.idempotencyKey, intentId: request.intentId, amountFen }).catch((error: unknown) => {
        if (error instanceof DomainError && error.code === 'PROVIDER_INTENT_NOT_CAPTURABLE') {
          throw new DomainError('PAYMENT_NOT_AUTHORIZED', `payment ${payment.intentId} is not authorised at the provider`, error.details);
        }
        throw error;
      });
      return applyOnce<CapturedPayment, PaymentRow>(pool, FINANCE_LOG, request.idempotencyKey, 'capture-payment', async (client, [row], _then, finishWith) => {
        const locked = toPayment(row);
        if (locked.state === 'CAPTURED' && locked.captureId !== capture.captureId) {
          throw new DomainError('PAYMENT_ALREADY_CAPTURED', `payment ${locked.intentId} was captured before`, { intentId: locked.intentId });
        }
        // The payment row is locked: its update travels with the result and COMMIT.
        finishWith(
          `UPDATE finance.payments SET state = 'CAPTURED', captured_fen = ${sqlInteger(capture.amountFen)}, capture_id = ${sqlText(capture.captureId)},
             updated_at = ${sqlTimestamp(clock())} WHERE id = ${sqlInteger(locked.paymentId)}`,
        );
        const entry = await postEntry(client, {
          idempotencyKey: `capture:${capture.captureId}`,
          kind: 'PAYMENT_CAPTURED',
          orderId: locked.orderId,
          currency: locked.currency,
          externalRef: capture.captureId,
          at: clock(),
          lines: [debit(ACCOUNTS.cash, capture.amountFen), credit(ACCOUNTS.prepayments, capture.amountFen)],
        });
        return { orderId: locked.orderId, intentId: locked.intentId, captureId: capture.captureId, capturedFen: capture.amountFen, entryId: entry.entryId };
      }, lockPaymentSql(request.intentId));
    },
  };
}

/** A capture's earlier record under its key and the payment it captures, in one read (before the provider is asked). */
async function captureRecords(pool: Pool, key: string, intentId: string): Promise<{ earlier?: { operation: string; state: string; result: unknown }; payment?: Payment }> {
  const found = await pool.query<Partial<PaymentRow> & { op_operation: string | null; op_state: string | null; op_result: unknown }>(
    `SELECT o.operation AS op_operation, o.state AS op_state, o.result AS op_result, p.*
       FROM (SELECT 1) one
       LEFT JOIN finance.operations o ON o.key = $1
       LEFT JOIN finance.payments p ON p.intent_id = $2`,
    [key, intentId],
  );
  const { op_operation: operation, op_state: state, op_result: result, ...row } = found.rows[0];
  return {
    ...(operation !== null ? { earlier: { operation, state: state!, result } } : {}),
    ...(row.id ? { payment: toPayment(row as PaymentRow) } : {}),
  };
}

/** One currency per order, so the order's position in the journal is a single number. */
async function assertOrderCurrency(client: PoolClient, orderId: string, currency: string): Promise<void> {
  const other = await client.query<{ currency: string }>('SELECT currency FROM finance.payments WHERE order_id = $1 AND currency <> $2 LIMIT 1', [
    orderId,
    currency,
  ]);
  if (other.rows[0]) throw currencyMismatch(orderId, other.rows[0].currency, currency);
}

function currencyMismatch(orderId: string, paidIn: string, asked: string): DomainError {
  return new DomainError('CURRENCY_MISMATCH', `order ${orderId} is paid in ${paidIn}, not ${asked}`, { orderId });
}
