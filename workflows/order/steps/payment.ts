import { interactive, mustComplete } from '../../shared/activities';
import { applicationCause } from '../../shared/refusals';
import { now } from '../../shared/time';
import type { Step } from '../../saga';
import { noteCompensatedFen, unrefundedFen } from '../../after-sales/refund-book';
import type { OrderContext } from '../context';
import { closeIfOpen, moveGate, type GateName, type PaymentGate } from '../payment-gate';

/**
 * A cancel's refund is projected as soon as the money is back, not only when every undo is done (a
 * release that waits on a lock or a retrying module can take long, and the buyer's order said
 * refunded 0 meanwhile). Asked only when a cancel refunds money, so other runs record no marker.
 */
export const PROJECT_CANCEL_REFUND_PATCH = 'cancel-projects-its-refund';

const keys: Record<GateName, { intent: string; record: string; capture: string }> = {
  payment: { intent: 'payment-intent', record: 'record-payment', capture: 'capture' },
  deposit: { intent: 'payment-intent', record: 'record-payment', capture: 'capture' },
  final: { intent: 'final-payment-intent', record: 'record-final-payment', capture: 'capture-final' },
};

function intentKey(name: GateName, attempt?: number): string {
  return attempt ? `${keys[name].intent}:${attempt}` : keys[name].intent;
}

/**
 * A payment intent at the provider, with its gate OPEN. Undo: the gate closes and the intent is
 * cancelled; a provider that captured on payment refuses that, and the money is then given back as
 * a late payment (once: finance refunds at most what the intent still holds).
 */
/** `attempt`: a later try after a refused one (the presale's final payment) gets keys of its own. */
export const openPayment: Step<OrderContext, { gate: GateName; amountFen: number; interactive?: boolean; attempt?: number }, PaymentGate> = {
  thing: 'payment',
  summary: 'create payment intent',
  undoSummary: 'cancel payment intent',
  async run(order, { gate: name, amountFen, interactive: waited, attempt }) {
    const intent = await (waited ? interactive : order.placing).createPaymentIntent.executeWithOptions({ summary: `create the ${name} intent` }, [
      { idempotencyKey: order.key(intentKey(name, attempt)), orderId: order.orderId, amountFen, currency: order.input.currency },
    ]);
    const gate: PaymentGate = { name, intentId: intent.intentId, amountFen, currency: order.input.currency, state: 'OPEN' };
    order.gates.push(gate);
    return gate;
  },
  async undo(order, { gate: name, attempt }, opened) {
    const gate = opened ?? order.gate(name);
    closeIfOpen(gate);
    if (!gate || gate.state === 'RECEIVED' || gate.state === 'CAPTURED') return; // the capture's undo refunds it
    try {
      await mustComplete.cancelPaymentIntent.executeWithOptions({ summary: `compensate: cancel the ${name} intent` }, [
        { idempotencyKey: order.key(intentKey(name, attempt)), intentId: gate.intentId },
      ]);
    } catch (error) {
      if (applicationCause(error)?.type !== 'PROVIDER_INTENT_ALREADY_CAPTURED') throw error;
      order.latePayments.push({ eventId: `intent:${gate.intentId}`, intentId: gate.intentId, amountFen: gate.amountFen });
      order.record('payment captured at the provider after the gate closed: refunded as late', { intentId: gate.intentId });
    }
  },
};

/** Payment received (gate RECEIVED): recorded and captured (CAPTURED). Undo: refund what refunds left. */
export const capturePayment: Step<OrderContext, { gate: PaymentGate }, void> = {
  thing: 'payment',
  summary: 'capture the payment',
  undoSummary: 'refund the payment',
  async run(order, { gate }) {
    const k = keys[gate.name];
    const payment = { orderId: order.orderId, intentId: gate.intentId, amountFen: gate.amountFen, currency: gate.currency };
    if (order.localSteps) {
      await mustComplete.settlePayment.executeWithOptions({ summary: `record and capture the ${gate.name}` }, [
        { record: { idempotencyKey: order.key(k.record), ...payment }, capture: { idempotencyKey: order.key(k.capture), ...payment } },
      ]);
    } else {
      await mustComplete.recordPaymentSucceeded.executeWithOptions({ summary: `record the authorised ${gate.name}` }, [
        { idempotencyKey: order.key(k.record), ...payment },
      ]);
      await mustComplete.capturePayment.executeWithOptions({ summary: `capture the ${gate.name}` }, [{ idempotencyKey: order.key(k.capture), ...payment }]);
    }
    moveGate(gate, 'CAPTURED');
    order.view.totals.paidFen += gate.amountFen;
  },
  async undo(order) {
    const refundedFen = await refundRemainder(order, 'order cancelled');
    // The buyer's order shows the money back now, while the undos after this one still run.
    if (refundedFen > 0 && order.hasPatch(PROJECT_CANCEL_REFUND_PATCH)) await order.project();
  },
};

/** Gives back the money of the order that no refund request took: the undo of every capture. */
export async function refundRemainder(order: OrderContext, reason: string): Promise<number> {
  const amountFen = unrefundedFen(order.book, order.view.totals.paidFen);
  if (amountFen === 0) return 0;
  // A provider's explicit decline moved nothing (or only part): what is left is asked again under a new key.
  const refundKey = order.key(order.declinedRefunds === 0 ? 'refund-on-cancel' : `refund-on-cancel:retry-${order.declinedRefunds}`);
  try {
    await mustComplete.refundPayment.executeWithOptions({ summary: `compensate: refund ${amountFen} fen` }, [
      { idempotencyKey: refundKey, orderId: order.orderId, amountFen, reason },
    ]);
  } catch (error) {
    const cause = applicationCause(error);
    if (cause?.type === 'REFUND_DECLINED') {
      order.declinedRefunds += 1;
      const refundedFen = (cause.details?.[0] as { refundedFen?: number } | undefined)?.refundedFen ?? 0;
      if (refundedFen > 0) noteRefunded(order, refundKey, refundedFen, reason);
    }
    throw error;
  }
  noteRefunded(order, refundKey, amountFen, reason);
  return amountFen;
}

function noteRefunded(order: OrderContext, refundKey: string, amountFen: number, reason: string): void {
  noteCompensatedFen(order.book, amountFen);
  order.view.totals.refundedFen += amountFen;
  order.view.payment.refunds.push({ refundKey, amountFen, reason, at: now() });
  order.record('refunded', { amountFen, reason });
}

/** A payment that reached the order when its gate was closed: refunded, never kept and never lost. */
export async function refundLatePayments(order: OrderContext): Promise<void> {
  while (order.latePayments.length > 0) {
    const payment = order.latePayments[0];
    const refundKey = order.key(`late-payment:${payment.intentId}`);
    await mustComplete.refundLatePayment.executeWithOptions({ summary: 'refund a late payment' }, [
      { idempotencyKey: refundKey, orderId: order.orderId, intentId: payment.intentId, amountFen: payment.amountFen, currency: order.input.currency },
    ]);
    order.latePayments.shift();
    if (order.view.payment.refunds.some((refund) => refund.refundKey === refundKey)) continue; // the same intent again
    order.view.payment.refunds.push({ refundKey, amountFen: payment.amountFen, reason: 'late payment', at: now() });
    order.record('late payment refunded', { eventId: payment.eventId, amountFen: payment.amountFen });
  }
}
