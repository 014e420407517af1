import { allHandlersFinished, ApplicationFailure, CancellationScope, condition, isCancellation, log, patched, sleep, TemporalFailure } from '@temporalio/workflow';
import { refusalCode, refusalMessage } from '../shared/refusals';
import { afterMs, now } from '../shared/time';
import { waitUntil } from '../shared/wait';
import { mustDo, mustDoAll, type MustStep } from './attention';
import { UNDO_EXPECTED_HOLDS_PATCH, type OrderContext } from './context';
import type { OrderPhase, OrderView } from './definitions';
import { closeIfOpen, type GateName, type PaymentGate } from './payment-gate';
import { awaitParcelDeliveries, awaitParcelShipments } from './parcel-shipping';
import { canCancelRun } from './policy';
import { commitShippedStock, restockRefundedBeforeShipment } from './steps/stock';
import { capturePayment, refundLatePayments } from './steps/payment';
import { awardPoints, spendPoints } from './steps/points';
import { useCoupon } from './steps/coupon';
import { keepPlacementAddress } from './steps/shipping';
import { recognizeKept } from './steps/completion';

/**
 * The phases every order type shares, as functions over one OrderContext. An order type's workflow
 * reads as its business process by calling them (see types/standard.ts).
 */

/** Runs an order's process; a workflow cancel asks for the same cancel as a buyer; never ends FAILED for a business reason. */
export async function runOrder(order: OrderContext, process: () => Promise<void>): Promise<OrderView> {
  void cancelOnRunCancellation(order);
  try {
    await CancellationScope.nonCancellable(process);
  } catch (error) {
    if (!(error instanceof TemporalFailure) || isCancellation(error)) throw error;
    // A failure no step handled (a bug or an unforeseen refusal): a person decides, the run does not fail.
    const failure = ApplicationFailure.create({ type: refusalCode(error, 'UNEXPECTED_FAILURE'), message: refusalMessage(error), nonRetryable: true });
    let raised = false;
    await mustDo(order, 'the order process', async () => {
      if (!raised) {
        raised = true;
        throw failure;
      }
    });
  }
  if (order.latePayments.length > 0) {
    await mustDo(order, 'refund late payments', () => refundLatePayments(order));
    await order.project();
  }
  await waitUntil(allHandlersFinished);
  return order.state.snapshot();
}

/** `temporal workflow cancel`: the buyer's cancel when the policy allows it (waiting out a payment being confirmed), else recorded. */
async function cancelOnRunCancellation(order: OrderContext): Promise<void> {
  try {
    await CancellationScope.current().cancelRequested;
  } catch (error) {
    if (!isCancellation(error)) throw error;
  }
  const transient = ['PAYMENT_IN_PROGRESS', 'ORDER_PLACING'];
  await waitUntil(() => {
    const decision = canCancelRun(order.facts());
    return decision.allowed || !transient.includes(decision.code);
  });
  const decision = canCancelRun(order.facts());
  if (decision.allowed) {
    requestCancel(order, { reason: 'workflow cancelled', by: 'ops (temporal workflow cancel)' });
  } else {
    order.record('workflow cancel request: nothing undone', { reason: decision.reason });
  }
}

/** A cancel was accepted: an open payment gate closes at once, so a payment after it is late (refunded). */
export function requestCancel(order: OrderContext, request: { reason: string; by: string }): void {
  order.cancellation = request;
  for (const gate of order.gates) closeIfOpen(gate);
  syncPaymentView(order);
  order.record('cancel requested', request);
}

// --- placement -------------------------------------------------------------------------------------

/**
 * Runs the type's placement steps (price, holds, payment intent). A refusal undoes what was done and
 * the order ends REJECTED with the reason: returns false.
 */
export async function place(order: OrderContext, hold: () => Promise<void>): Promise<boolean> {
  // Local steps place within one workflow task and project the outcome; the PLACING row is for
  // placements that take several (activity tasks), so a slow one is visible meanwhile.
  if (!order.localSteps) await order.project();
  try {
    await hold();
  } catch (error) {
    // A module's or provider's refusal, a forward step that ran out of retries, or a refusal of the type's own rule.
    if (!(error instanceof TemporalFailure) || isCancellation(error)) throw error;
    const rejection = { code: refusalCode(error, 'PLACEMENT_FAILED'), message: refusalMessage(error) };
    log.info('order rejected', rejection);
    if (!(order.fewerSteps || (order.localSteps && patched(UNDO_EXPECTED_HOLDS_PATCH)))) order.saga.forgetUnreached();
    await compensate(order);
    order.view.rejection = rejection;
    order.record('rejected', { code: rejection.code }, 'REJECTED');
    order.placementDecided = true;
    await order.project();
    return false;
  }
  order.saga.forgetUnreached();
  await keepPlacementAddress(order);
  const gate = order.gates[0];
  order.view.deadlines.paymentDueAt = afterMs(order.timeouts.paymentMs);
  syncPaymentView(order);
  order.record('awaiting payment', { intentId: gate?.intentId }, 'AWAITING_PAYMENT');
  order.placementDecided = true;
  await order.project();
  return true;
}

// --- payment ---------------------------------------------------------------------------------------

/** Waits for the gate's payment until `timeoutMs`; a cancel ends the wait. The gate is CLOSED on timeout. */
export async function awaitPayment(order: OrderContext, name: GateName, timeoutMs: number, received: OrderPhase): Promise<'paid' | 'cancelled' | 'timeout'> {
  const gate = order.gate(name);
  if (!gate) return 'paid'; // nothing to pay
  await condition(() => gate.state !== 'OPEN' || order.cancellation !== undefined, Math.max(1, timeoutMs), { summary: `wait for the ${name} (timeout)` });
  if (gate.state === 'RECEIVED' || gate.state === 'CAPTURED') {
    if (order.phase !== received) order.record('payment received', { intentId: gate.intentId }, received);
    return 'paid';
  }
  closeIfOpen(gate);
  syncPaymentView(order);
  return order.cancellation ? 'cancelled' : 'timeout';
}

/**
 * Captures a received payment; then coupon used, held points spent, points awarded. Each step's undo
 * replaces the placement undo of the same thing. `shown`: `with-the-parcels` when the order opens its
 * parcels next (awaitShipment): with fewer steps, the projection that shows them shows it paid, in
 * the same workflow task, instead of one projection each.
 */
export async function takePayment(order: OrderContext, gate: PaymentGate | undefined, paid: OrderPhase = 'PAID', shown: 'now' | 'with-the-parcels' = 'now'): Promise<void> {
  if (gate) await mustDo(order, 'capture the payment', () => order.saga.run(capturePayment, { gate }));
  syncPaymentView(order);
  const paidFen = order.view.totals.paidFen;
  await settleHolds(order, { spend: true, award: paid === 'PAID' && paidFen > 0 });
  order.record('paid', { amountFen: gate?.amountFen ?? 0, paidFen }, paid);
  if (!(shown === 'with-the-parcels' && order.fewerSteps && order.parcelsEnabled)) await order.project();
}

/** The paid steps (coupon used, held points spent, points awarded) in one batch of activities, not one after the other. */
export const PAID_STEPS_TOGETHER_PATCH = 'paid-steps-together';

/**
 * After a capture: the coupon marked used, the held points spent (`spend`), points awarded for the
 * money paid (`award`). Independent of each other, so with the patch they run at once (one workflow
 * task schedules them all); runs started before it replay one after the other, as recorded.
 */
export async function settleHolds(order: OrderContext, { spend, award }: { spend: boolean; award: boolean }): Promise<void> {
  const { couponId } = order.view;
  const points = order.view.totals.pointsUsed;
  const paidFen = order.view.totals.paidFen;
  const steps: MustStep[] = [];
  if (couponId) steps.push({ step: 'mark coupon used', work: () => order.saga.run(useCoupon, { couponId }) });
  if (spend && points > 0) steps.push({ step: 'spend the held points', work: () => order.saga.run(spendPoints, { points }) });
  if (award) steps.push({ step: 'award pending points', work: () => order.saga.run(awardPoints, { paidFen }) });
  if (steps.length > 1 && order.hasPatch(PAID_STEPS_TOGETHER_PATCH)) return mustDoAll(order, steps);
  for (const { step, work } of steps) await mustDo(order, step, work);
}

/** The view's payment status mirrors the main gate (OPEN/RECEIVED → PENDING, CAPTURED → SUCCEEDED, CLOSED → CANCELLED). */
export function syncPaymentView(order: OrderContext): void {
  const gate = order.gate('payment') ?? order.gate('deposit');
  if (!gate) return;
  const status = gate.state === 'CAPTURED' ? 'SUCCEEDED' : gate.state === 'CLOSED' ? 'CANCELLED' : 'PENDING';
  order.view.payment = { ...order.view.payment, intentId: gate.intentId, amountFen: gate.amountFen, status, ...(gate.paidAt ? { paidAt: gate.paidAt } : {}) };
}

// --- shipment, delivery, completion ------------------------------------------------------------------

/** Waits for the warehouse: true when shipped (stock deducted for good), false when the order must end otherwise. */
export async function awaitShipment(order: OrderContext): Promise<boolean> {
  if (order.parcelsEnabled) return awaitParcelShipments(order);
  await condition(
    () => order.shipment !== undefined || order.shipmentFailure !== undefined || order.cancellation !== undefined || order.refundState.refundedInFull,
  );
  if (!order.shipment) return false;
  await mustDo(order, 'deduct shipped stock', () => commitShippedStock(order));
  await mustDo(order, 'restock units refunded before shipment', () => restockRefundedBeforeShipment(order));
  // Shipped goods are no longer undone by the saga: from here on, money goes back through after-sales.
  order.saga.clear();
  order.view.shipment = { ...order.shipment, shippedAt: now() };
  order.view.deadlines.autoConfirmAt = afterMs(order.timeouts.autoConfirmDeliveryMs);
  order.record('shipped', { carrier: order.shipment.carrier, trackingNumber: order.shipment.trackingNumber }, 'SHIPPED');
  await order.project();
  return true;
}

/** Delivery (confirmed or auto-confirmed), the after-sales window, then completion (or REFUNDED). */
export async function deliverAndComplete(order: OrderContext, closeWindow: () => Promise<void>): Promise<void> {
  const by = order.view.parcels ? await awaitParcelDeliveries(order) : await awaitDelivery(order);
  order.view.deliveredAt = now();
  order.view.deadlines.afterSalesEndsAt = afterMs(order.timeouts.afterSalesWindowMs);
  order.record('delivered', { by }, 'DELIVERED');
  await order.project();

  await sleep(order.timeouts.afterSalesWindowMs, { summary: 'after-sales window (7-day returns)' });
  await closeWindow();
  if (order.refundState.refundedInFull) return endRefunded(order);
  const keptFen = await recognizeKept(order);
  order.record('completed', { revenueFen: keptFen }, 'COMPLETED');
  await order.project();
}

/** One shipment for the whole order (runs from before parcels): confirmed, or auto-confirmed. */
async function awaitDelivery(order: OrderContext): Promise<string | undefined> {
  const confirmed = await condition(() => order.deliveredBy !== undefined, order.timeouts.autoConfirmDeliveryMs, {
    summary: 'wait for delivery confirmation (auto-confirm)',
  });
  return confirmed ? order.deliveredBy : 'auto-confirm';
}

/** Every unit refunded: money kept by smaller approvals is still recognised; REFUNDED. */
export async function endRefunded(order: OrderContext, giveBackHolds?: () => Promise<void>): Promise<void> {
  if (!order.shipment && giveBackHolds) await mustDo(order, 'give back the holds of a refunded order', giveBackHolds);
  const keptFen = await recognizeKept(order);
  order.record('refunded in full', { refundedFen: order.view.totals.refundedFen, keptFen }, 'REFUNDED');
  await order.project();
}

// --- cancellation --------------------------------------------------------------------------------------

/** Runs every pending undo, last first; a refused one puts the order in NEEDS_ATTENTION until ops act. */
export async function compensate(order: OrderContext): Promise<void> {
  await order.saga.compensate(async (description, undo) => {
    await mustDo(order, `compensate: ${description}`, undo);
  });
}

/** Undoes everything done so far and ends CANCELLED, with who asked and why. */
export async function cancel(order: OrderContext, reason: string, by: string): Promise<void> {
  for (const gate of order.gates) closeIfOpen(gate);
  order.record('cancelling', { reason, by }, 'CANCELLING');
  await order.project();
  await compensate(order);
  order.view.cancellation = { reason, by, at: now() };
  syncPaymentView(order);
  order.record('cancelled', { reason, by }, 'CANCELLED');
  await order.project();
}

/** Ends an order that will not ship, for the reason at hand: refunded in full, shipment failure, a cancel, or the payment timeout. */
export async function cancelForReason(order: OrderContext, giveBackHolds?: () => Promise<void>): Promise<void> {
  if (order.refundState.refundedInFull) return endRefunded(order, giveBackHolds);
  if (order.shipmentFailure) return cancel(order, `shipment failed: ${order.shipmentFailure}`, 'warehouse');
  if (order.cancellation) return cancel(order, order.cancellation.reason, order.cancellation.by);
  return cancel(order, 'payment timeout', 'system');
}
