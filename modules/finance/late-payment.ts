import { DomainError } from '../shared/errors';
import { findOperation } from '../shared/idempotency';
import type { createPaymentOperations } from './payments';
import type { createRefundOperations } from './refunds';
import { refundLatePaymentSchema, type RefundLatePaymentInput } from './schemas';
import { FINANCE_LOG, paymentByIntent, refundableFen, type FinanceContext } from './store';

export interface LatePaymentOutcome {
  intentId: string;
  /** voided: the authorisation was released; refunded: captured money went back; nothing: already settled. */
  outcome: 'voided' | 'refunded' | 'nothing';
  amountFen: number;
}

/**
 * Gives back a payment the order no longer takes. The caller must only pass intents the order does
 * not keep: this returns whatever of the intent's money is still held.
 */
export function createLatePaymentOperations(
  context: FinanceContext,
  payments: ReturnType<typeof createPaymentOperations>,
  refunds: ReturnType<typeof createRefundOperations>,
) {
  const { pool, provider, clock } = context;

  return {
    async refundLatePayment(input: RefundLatePaymentInput): Promise<LatePaymentOutcome> {
      const request = refundLatePaymentSchema.parse(input);
      const { idempotencyKey, orderId, intentId } = request;
      // A retry finishes the refund it started, with the amount it started with.
      const started = await findOperation<{ amountFen: number }>(pool, FINANCE_LOG, idempotencyKey);
      if (started?.result) {
        await refunds.refundPayment({ idempotencyKey, orderId, intentId, amountFen: started.result.amountFen, reason: 'late payment' });
        return { intentId, outcome: 'refunded', amountFen: started.result.amountFen };
      }
      await payments.recordPaymentSucceeded({ ...request, idempotencyKey: `${idempotencyKey}:record` });
      const payment = (await paymentByIntent(pool, intentId))!;
      if (payment.state === 'CAPTURED') {
        const amountFen = refundableFen(payment);
        if (amountFen === 0) return { intentId, outcome: 'nothing', amountFen: 0 };
        await refunds.refundPayment({ idempotencyKey, orderId, intentId, amountFen, reason: 'late payment' });
        return { intentId, outcome: 'refunded', amountFen };
      }
      if (payment.state === 'CANCELLED') return { intentId, outcome: 'nothing', amountFen: 0 };
      await provider.cancelIntent({ idempotencyKey: `${idempotencyKey}:void`, intentId }).catch((error: unknown) => {
        if (error instanceof DomainError && error.code === 'PROVIDER_INTENT_ALREADY_CAPTURED') {
          throw new Error(`intent ${intentId} was captured at the provider but not in the ledger: capture it first, then retry`);
        }
        throw error;
      });
      await pool.query(`UPDATE finance.payments SET state = 'CANCELLED', updated_at = $2 WHERE id = $1 AND state <> 'CAPTURED'`, [payment.paymentId, clock()]);
      return { intentId, outcome: 'voided', amountFen: payment.amountFen };
    },
  };
}
