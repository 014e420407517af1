import { mustComplete } from '../shared/activities';

export interface LatePayment {
  eventId: string;
  orderId: string;
  intentId: string;
  amountFen: number;
  currency: string;
}

/**
 * A payment whose order workflow had already finished (cancelled, say) when the provider's callback
 * came: the money is refunded, never kept and never lost. Started by the webhook with the id
 * `late-payment-<eventId>`, so a replayed callback cannot refund twice.
 */
export async function latePaymentRefundWorkflow(payment: LatePayment): Promise<void> {
  await mustComplete.refundLatePayment.executeWithOptions({ summary: `refund late payment of ${payment.orderId}` }, [
    {
      idempotencyKey: `${payment.orderId}:late-payment:${payment.eventId}`,
      orderId: payment.orderId,
      intentId: payment.intentId,
      amountFen: payment.amountFen,
      currency: payment.currency,
    },
  ]);
}
