import type { QueryResultRow } from 'pg';
import { DomainError } from '../shared/errors';
import { ACCOUNTS } from './accounts';
import { credit, debit, orderPositionSql, positionOf, postEntry } from './journal';
import { forfeitDepositSchema, recognizeRevenueSchema, type ForfeitDepositInput, type RecognizeRevenueInput } from './schemas';
import { applyWithOrderPayments, pendingRefundsOf, pendingRefundsSql, refundableFen, type FinanceContext, type Payment } from './store';

export interface Booking {
  orderId: string;
  amountFen: number;
  /** Null when there was nothing to book (no unearned money left). */
  entryId: number | null;
}

/** Read after the order's payments are locked, with the claim: its position and its refunds in flight. */
const earnableReads = (orderId: string) => [orderPositionSql(orderId), pendingRefundsSql(orderId)];

/** Unearned money of the order that is not promised back to the buyer by a refund in flight (from earnableReads' rows). */
function earnableFen([position, pending]: QueryResultRow[][]): number {
  return Math.max(0, positionOf(position).unearnedFen - pendingRefundsOf(pending));
}

function orderCurrency(payments: Payment[], orderId: string): string {
  if (payments.length === 0) throw new DomainError('ORDER_HAS_NO_PAYMENTS', `order ${orderId} has no payments`, { orderId });
  return payments[0].currency;
}

export function createRecognitionOperations(context: FinanceContext) {
  const { pool, clock } = context;

  return {
    /** At completion: Dr liability:customer_prepayments, Cr revenue:sales (all unearned money by default). */
    async recognizeRevenue(input: RecognizeRevenueInput): Promise<Booking> {
      const request = recognizeRevenueSchema.parse(input);
      return applyWithOrderPayments(pool, request.idempotencyKey, 'recognize-revenue', request.orderId, async (client, payments, reads) => {
        const currency = orderCurrency(payments, request.orderId);
        if (request.currency && request.currency !== currency) {
          throw new DomainError('CURRENCY_MISMATCH', `order ${request.orderId} is paid in ${currency}`, { orderId: request.orderId });
        }
        const availableFen = earnableFen(reads);
        const amountFen = request.amountFen ?? availableFen;
        if (amountFen > availableFen) {
          throw new DomainError('REVENUE_EXCEEDS_UNEARNED', `cannot recognise ${amountFen}: ${availableFen} unearned`, {
            orderId: request.orderId,
            requestedFen: amountFen,
            unearnedFen: availableFen,
          });
        }
        if (amountFen === 0) return { orderId: request.orderId, amountFen: 0, entryId: null };
        const entry = await postEntry(client, {
          idempotencyKey: `revenue:${request.idempotencyKey}`,
          kind: 'REVENUE_RECOGNISED',
          orderId: request.orderId,
          currency,
          at: clock(),
          lines: [debit(ACCOUNTS.prepayments, amountFen), credit(ACCOUNTS.revenue, amountFen)],
        });
        return { orderId: request.orderId, amountFen, entryId: entry.entryId };
      }, earnableReads(request.orderId));
    },

    /**
     * Presale final payment missed: the deposit is kept. Dr liability:customer_prepayments, Cr
     * income:forfeited_deposits; the payments' forfeited amounts rise so it can no longer be refunded.
     */
    async forfeitDeposit(input: ForfeitDepositInput): Promise<Booking> {
      const request = forfeitDepositSchema.parse(input);
      return applyWithOrderPayments(pool, request.idempotencyKey, 'forfeit-deposit', request.orderId, async (client, payments, reads) => {
        const currency = orderCurrency(payments, request.orderId);
        const eligible = payments.filter((payment) => payment.state === 'CAPTURED' && (!request.intentId || payment.intentId === request.intentId));
        const keepableFen = Math.min(
          eligible.reduce((sum, payment) => sum + refundableFen(payment), 0),
          earnableFen(reads),
        );
        if (request.amountFen > keepableFen) {
          throw new DomainError('FORFEIT_EXCEEDS_UNEARNED', `cannot forfeit ${request.amountFen}: ${keepableFen} unearned`, {
            orderId: request.orderId,
            requestedFen: request.amountFen,
            unearnedFen: keepableFen,
          });
        }
        let remaining = request.amountFen;
        for (const payment of eligible) {
          const take = Math.min(remaining, refundableFen(payment));
          if (take === 0) continue;
          remaining -= take;
          await client.query('UPDATE finance.payments SET forfeited_fen = forfeited_fen + $2, updated_at = $3 WHERE id = $1', [payment.paymentId, take, clock()]);
          if (remaining === 0) break;
        }
        const entry = await postEntry(client, {
          idempotencyKey: `forfeit:${request.idempotencyKey}`,
          kind: 'DEPOSIT_FORFEITED',
          orderId: request.orderId,
          currency,
          at: clock(),
          lines: [debit(ACCOUNTS.prepayments, request.amountFen), credit(ACCOUNTS.forfeitedDeposits, request.amountFen)],
        });
        return { orderId: request.orderId, amountFen: request.amountFen, entryId: entry.entryId };
      }, earnableReads(request.orderId));
    },
  };
}
