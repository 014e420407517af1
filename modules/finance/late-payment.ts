import { DomainError } from '../shared/errors';
import { findOperation } from '../shared/idempotency';
import type { createPaymentOperations } from './payments';
import type { createRefundOperations } from './refunds';
import type { CreatedIntent } from './payments';
import { cancelPaymentIntentSchema, refundLatePaymentSchema, type CancelPaymentIntentInput, type RefundLatePaymentInput } from './schemas';
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
      let payment = (await paymentByIntent(pool, intentId))!;
      if (payment.state !== 'CAPTURED' && payment.state !== 'CANCELLED') {
        const voided = await provider.cancelIntent({ idempotencyKey: `${idempotencyKey}:void`, intentId }).catch((error: unknown) => {
          if (error instanceof DomainError && error.code === 'PROVIDER_INTENT_ALREADY_CAPTURED') return undefined;
          throw error;
        });
        if (voided) {
          await pool.query(`UPDATE finance.payments SET state = 'CANCELLED', updated_at = $2 WHERE id = $1 AND state <> 'CAPTURED'`, [payment.paymentId, clock()]);
          return { intentId, outcome: 'voided', amountFen: payment.amountFen };
        }
        // The provider took the money when the buyer paid (Alipay, WeChat Pay): book it, then refund it below.
        await payments.capturePayment({ idempotencyKey: `${idempotencyKey}:capture`, orderId, intentId });
        payment = (await paymentByIntent(pool, intentId))!;
      }
      if (payment.state === 'CAPTURED') {
        const amountFen = refundableFen(payment);
        if (amountFen === 0) return { intentId, outcome: 'nothing', amountFen: 0 };
        await refunds.refundPayment({ idempotencyKey, orderId, intentId, amountFen, reason: 'late payment' });
        return { intentId, outcome: 'refunded', amountFen };
      }
      return { intentId, outcome: 'nothing', amountFen: 0 };
    },

    /**
     * cancelPaymentIntent, for providers that take the money when the buyer pays: when the buyer paid
     * just before the order gave up (the notification still on its way), the provider cannot void the
     * intent. The payment is then booked and refunded in full, so the ledger and the provider agree,
     * and the intent counts as cancelled. An intent the order itself captured is still refused
     * (PAYMENT_ALREADY_CAPTURED): the order refunds it.
     */
    async cancelPaymentIntent(input: CancelPaymentIntentInput) {
      const request = cancelPaymentIntentSchema.parse(input);
      try {
        return await payments.cancelPaymentIntent(request);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'PAYMENT_ALREADY_CAPTURED')) throw error;
        const created = await findOperation<CreatedIntent>(pool, FINANCE_LOG, request.idempotencyKey);
        const intentId = created?.result?.intentId;
        const payment = intentId ? await paymentByIntent(pool, intentId) : undefined;
        const refundKey = `${request.idempotencyKey}:paid-after-cancel`;
        const oursToRefund = (await findOperation(pool, FINANCE_LOG, `${refundKey}:capture`))?.state === 'APPLIED';
        if (!intentId || !payment || (payment.state === 'CAPTURED' && !oursToRefund)) throw error;
        const captured = await payments.capturePayment({ idempotencyKey: `${refundKey}:capture`, orderId: payment.orderId, intentId });
        await refunds.refundPayment({
          idempotencyKey: refundKey,
          orderId: payment.orderId,
          intentId,
          amountFen: captured.capturedFen,
          reason: 'paid at the provider after the order stopped taking payment',
        });
        return payments.markIntentCancelled(request.idempotencyKey);
      }
    },
  };
}
