import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../shared/db';
import { DomainError } from '../shared/errors';
import { ACCOUNTS } from './accounts';
import { credit, debit, orderPosition, postEntry } from './journal';
import type { RefundResult } from './provider';
import { refundPaymentSchema, type RefundPaymentInput } from './schemas';
import { applyWithOrderPayments, lockOrderPayments, refundableFen, type FinanceContext } from './store';

interface RefundPart {
  refundRowId: number;
  intentId: string;
  amountFen: number;
  providerKey: string;
}

interface Reservation {
  orderId: string;
  amountFen: number;
  parts: RefundPart[];
}

export interface SettledRefund {
  intentId: string;
  amountFen: number;
  /** PENDING only while a provider call is unanswered; refundPayment returns settled parts. */
  state: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  providerRefundId: string | null;
}

export interface RefundOutcome {
  orderId: string;
  amountFen: number;
  refunds: SettledRefund[];
}

/**
 * A refund in three steps, so no provider call runs inside a transaction and nothing is lost when a
 * step fails:
 *   1. reserve (once per key): under the order's lock, check the amount against what was captured and
 *      not yet refunded or forfeited, and raise payments.refunded_fen at once, so concurrent refunds
 *      cannot both pass the check (the CHECK refunded_fen <= captured_fen backs this up);
 *   2. ask the provider, with a key per payment part (a retry repeats the same request, never a new one);
 *   3. book the answer once: a success posts the journal entry, a decline releases the reservation.
 * A call that fails in step 2 leaves the part PENDING; calling again with the same key finishes it.
 * Parts are independent: when the provider declines one, the others still go through and the call
 * fails with REFUND_DECLINED carrying refundedFen / declinedFen; the remainder needs a new key.
 */
export function createRefundOperations(context: FinanceContext) {
  const { pool, provider, clock } = context;

  async function settle(reservation: Reservation, part: RefundPart): Promise<SettledRefund> {
    const current = await refundRow(pool, part.refundRowId);
    if (current.state !== 'PENDING') return current;
    const answer = await provider.refund({ idempotencyKey: part.providerKey, intentId: part.intentId, amountFen: part.amountFen });
    return withTransaction(pool, async (client) => {
      await lockOrderPayments(client, reservation.orderId);
      const locked = await refundRow(client, part.refundRowId, true);
      if (locked.state !== 'PENDING') return locked;
      await (answer.status === 'succeeded' ? book(client, reservation.orderId, part, answer) : release(client, part));
      return refundRow(client, part.refundRowId);
    });
  }

  async function book(client: PoolClient, orderId: string, part: RefundPart, answer: RefundResult): Promise<void> {
    const refundId = answer.refundId!;
    // Money not yet earned goes back out of prepayments; beyond that the sale was recognised, so it is a return.
    const { unearnedFen } = await orderPosition(client, orderId);
    const fromUnearned = Math.min(part.amountFen, Math.max(0, unearnedFen));
    const currency = await client.query<{ currency: string }>(
      'SELECT p.currency FROM finance.refunds r JOIN finance.payments p ON p.id = r.payment_id WHERE r.id = $1',
      [part.refundRowId],
    );
    await postEntry(client, {
      idempotencyKey: `refund:${refundId}`,
      kind: 'REFUND',
      orderId,
      currency: currency.rows[0].currency,
      externalRef: refundId,
      at: clock(),
      lines: [
        debit(ACCOUNTS.prepayments, fromUnearned),
        debit(ACCOUNTS.salesReturns, part.amountFen - fromUnearned),
        credit(ACCOUNTS.cash, part.amountFen),
      ],
    });
    await client.query(`UPDATE finance.refunds SET state = 'SUCCEEDED', provider_refund_id = $2, settled_at = $3 WHERE id = $1`, [
      part.refundRowId,
      refundId,
      clock(),
    ]);
  }

  async function release(client: PoolClient, part: RefundPart): Promise<void> {
    const refund = await client.query<{ payment_id: string }>(
      `UPDATE finance.refunds SET state = 'FAILED', settled_at = $2 WHERE id = $1 RETURNING payment_id`,
      [part.refundRowId, clock()],
    );
    await client.query('UPDATE finance.payments SET refunded_fen = refunded_fen - $2, updated_at = $3 WHERE id = $1', [
      refund.rows[0].payment_id,
      part.amountFen,
      clock(),
    ]);
  }

  return {
    async refundPayment(input: RefundPaymentInput): Promise<RefundOutcome> {
      const request = refundPaymentSchema.parse(input);
      const reservation = await applyWithOrderPayments(pool, request.idempotencyKey, 'refund', request.orderId, async (client, locked): Promise<Reservation> => {
        const payments = locked.filter(
          (payment) => payment.state === 'CAPTURED' && (!request.intentId || payment.intentId === request.intentId),
        );
        const availableFen = payments.reduce((sum, payment) => sum + refundableFen(payment), 0);
        if (request.amountFen > availableFen) {
          throw new DomainError('REFUND_EXCEEDS_CAPTURED', `cannot refund ${request.amountFen}: ${availableFen} captured and not refunded`, {
            orderId: request.orderId,
            requestedFen: request.amountFen,
            refundableFen: availableFen,
          });
        }
        // The latest payment first: for a presale that is the final payment, then the deposit.
        const parts: RefundPart[] = [];
        let remaining = request.amountFen;
        for (const payment of [...payments].reverse()) {
          const take = Math.min(remaining, refundableFen(payment));
          if (take === 0) continue;
          remaining -= take;
          await client.query('UPDATE finance.payments SET refunded_fen = refunded_fen + $2, updated_at = $3 WHERE id = $1', [payment.paymentId, take, clock()]);
          const providerKey = `${request.idempotencyKey}:${payment.intentId}`;
          const row = await client.query<{ id: string }>(
            `INSERT INTO finance.refunds (request_key, provider_key, payment_id, order_id, amount_fen, reason, state, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7) RETURNING id`,
            [request.idempotencyKey, providerKey, payment.paymentId, request.orderId, take, request.reason, clock()],
          );
          parts.push({ refundRowId: Number(row.rows[0].id), intentId: payment.intentId, amountFen: take, providerKey });
          if (remaining === 0) break;
        }
        return { orderId: request.orderId, amountFen: request.amountFen, parts };
      });
      if (reservation.orderId !== request.orderId || reservation.amountFen !== request.amountFen) {
        throw new DomainError('IDEMPOTENCY_KEY_REUSED', `refund key ${request.idempotencyKey} was used for another refund`, { key: request.idempotencyKey });
      }
      const refunds: SettledRefund[] = [];
      for (const part of reservation.parts) refunds.push(await settle(reservation, part));
      const declined = refunds.filter((refund) => refund.state === 'FAILED');
      if (declined.length > 0) {
        throw new DomainError('REFUND_DECLINED', 'the provider declined the refund', {
          orderId: request.orderId,
          refundedFen: request.amountFen - declined.reduce((sum, refund) => sum + refund.amountFen, 0),
          declinedFen: declined.reduce((sum, refund) => sum + refund.amountFen, 0),
        });
      }
      return { orderId: request.orderId, amountFen: request.amountFen, refunds };
    },
  };
}

async function refundRow(db: Pool | PoolClient, id: number, lock = false): Promise<SettledRefund> {
  const found = await db.query<{ intent_id: string; amount_fen: string; state: 'PENDING' | 'SUCCEEDED' | 'FAILED'; provider_refund_id: string | null }>(
    `SELECT p.intent_id, r.amount_fen, r.state, r.provider_refund_id
       FROM finance.refunds r JOIN finance.payments p ON p.id = r.payment_id WHERE r.id = $1${lock ? ' FOR UPDATE OF r' : ''}`,
    [id],
  );
  const row = found.rows[0];
  return { intentId: row.intent_id, amountFen: Number(row.amount_fen), state: row.state, providerRefundId: row.provider_refund_id };
}
