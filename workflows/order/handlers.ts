import { setHandler } from '@temporalio/workflow';
import { setUpdateHandler } from '../shared/updates';
import { waitUntil } from '../shared/wait';
import { enforce, refuse } from '../shared/refusals';
import { now } from '../shared/time';
import type { OrderContext } from './context';
import {
  cancelOrderUpdate,
  changeAddressUpdate,
  confirmDeliveryUpdate,
  getAttentionQuery,
  getOrderQuery,
  paymentFailedSignal,
  paymentSucceededSignal,
  placementResultUpdate,
  resolveManuallyUpdate,
  retryCompensationUpdate,
  shipmentFailedUpdate,
  shipOrderUpdate,
  type AttentionAction,
  type CancelRequest,
  type DeliveryConfirmed,
  type PaymentSucceeded,
  type ShipmentDispatched,
  type ShipmentFailed,
} from './definitions';
import { isTerminal } from './phase';
import { judgePayment, moveGate } from './payment-gate';
import { onlyParcel, refuseIfSeveralParcels, registerParcelHandlers } from './parcel-handlers';
import { failParcel, shipParcel } from './parcel-shipping';
import { canAttend, canCancel, canChangeAddress, canConfirmDelivery, canReportShipmentFailure, canShip } from './policy';
import type { ChangeAddress } from './shipping-definitions';
import { keepAddress } from './steps/shipping';
import { requestCancel, syncPaymentView } from './spine';

/**
 * The messages every order takes. Each validator asks the policy (so a refusal is a 409 with the
 * reason before anything changes) and each handler only records what was asked; the process acts.
 */
export function registerOrderHandlers(order: OrderContext): void {
  setHandler(getOrderQuery, () => order.view);
  registerParcelHandlers(order);
  setHandler(getAttentionQuery, () => order.view.attention ?? null);
  setUpdateHandler(order.answersAfterLocalSteps, placementResultUpdate, async () => {
    await waitUntil(() => order.placementDecided);
    return order.state.snapshot();
  });

  setHandler(paymentSucceededSignal, (payment) => receivePayment(order, payment));
  setHandler(paymentFailedSignal, (failure) => {
    if (order.seenPaymentEvents.has(failure.eventId)) return;
    order.seenPaymentEvents.add(failure.eventId);
    // The buyer may try again with the same intent until the payment deadline.
    order.record('payment failed', { eventId: failure.eventId, reason: failure.reason });
  });

  /** A cancel or a shipment failure answers once the order is cancelled, or waits for ops. */
  const settled = () => isTerminal(order.phase) || order.phase === 'NEEDS_ATTENTION';
  setUpdateHandler(
    order.answersAfterLocalSteps,
    cancelOrderUpdate,
    async (request) => {
      requestCancel(order, request);
      await waitUntil(settled);
      return order.state.snapshot();
    },
    { validator: (_request: CancelRequest) => enforce(canCancel(order.facts())) },
  );
  setUpdateHandler(
    order.answersAfterLocalSteps,
    shipOrderUpdate,
    async (dispatched) => {
      if (order.parcelsEnabled) await shipParcel(order, { parcelId: await onlyParcel(order), ...dispatched });
      else order.shipment = dispatched;
      await waitUntil(() => order.phase !== 'PAID');
      return order.state.snapshot();
    },
    {
      validator: (_dispatched: ShipmentDispatched) => {
        enforce(canShip(order.facts()));
        refuseIfSeveralParcels(order);
      },
    },
  );
  setUpdateHandler(
    order.answersAfterLocalSteps,
    shipmentFailedUpdate,
    async ({ reason }) => {
      if (order.parcelsEnabled) {
        await failParcel(order, await onlyParcel(order), reason);
      } else {
        order.shipmentFailure = reason;
        order.record('shipment failed', { reason });
      }
      await waitUntil(settled);
      return order.state.snapshot();
    },
    {
      validator: (_failure: ShipmentFailed) => {
        enforce(canReportShipmentFailure(order.facts()));
        refuseIfSeveralParcels(order);
      },
    },
  );
  setUpdateHandler(
    order.answersAfterLocalSteps,
    confirmDeliveryUpdate,
    async ({ by }) => {
      order.deliveredBy = by;
      await waitUntil(() => order.phase !== 'SHIPPED');
      return order.state.snapshot();
    },
    { validator: (_confirmation: DeliveryConfirmed) => enforce(canConfirmDelivery(order.facts())) },
  );

  // The API validated the address (regions, mobile, freight not higher); the policy decides whether it may still change.
  setUpdateHandler(
    order.answersAfterLocalSteps,
    changeAddressUpdate,
    async ({ address, by }) => {
      await keepAddress(order, address);
      order.record('shipping address changed', { version: order.addressVersion, by });
      await order.project();
      return order.state.snapshot();
    },
    {
      validator: (request: ChangeAddress) => {
        enforce(canChangeAddress(order.facts()));
        if (typeof request?.address?.districtCode !== 'string' || typeof request.by !== 'string') refuse('INVALID_ADDRESS', 'an address and who changes it are required');
      },
    },
  );

  const attend = (action: 'retry' | 'resolve') => async (request: AttentionAction) => {
    order.attentionRequest = { action, by: request.by.trim(), reason: request.reason.trim() };
    await waitUntil(() => order.attentionRequest === undefined);
    return order.state.snapshot();
  };
  const attentionValidator = (request: AttentionAction) => {
    enforce(canAttend(order.facts()));
    if (order.attentionRequest) refuse('ALREADY_ANSWERED', 'ops already answered; the order is acting on it');
    if (typeof request?.by !== 'string' || request.by.trim() === '') refuse('INVALID_ATTENTION_ACTION', 'by (who acts) is required');
    if (typeof request.reason !== 'string' || request.reason.trim() === '') refuse('INVALID_ATTENTION_ACTION', 'a reason is required');
  };
  setUpdateHandler(order.answersAfterLocalSteps, retryCompensationUpdate, attend('retry'), { validator: attentionValidator });
  setUpdateHandler(order.answersAfterLocalSteps, resolveManuallyUpdate, attend('resolve'), { validator: attentionValidator });
}

/**
 * A provider's payment event, judged by the order's payment gates: taken by an OPEN gate (phase
 * PAYMENT_RECEIVED until captured), a duplicate, late (gate CLOSED: refunded automatically), or
 * refused (amount, currency or intent do not match: recorded for ops, never applied).
 */
function receivePayment(order: OrderContext, payment: PaymentSucceeded): void {
  if (order.seenPaymentEvents.has(payment.eventId)) return; // a replayed webhook: nothing twice
  order.seenPaymentEvents.add(payment.eventId);
  const verdict = judgePayment(order.gates, payment);
  const detail = { eventId: payment.eventId, intentId: payment.intentId, amountFen: payment.amountFen };
  switch (verdict.kind) {
    case 'accept': {
      const { gate } = verdict;
      moveGate(gate, 'RECEIVED');
      gate.paidAt = payment.paidAt;
      syncPaymentView(order);
      const awaiting = gate.name === 'final' ? 'AWAITING_FINAL_PAYMENT' : 'AWAITING_PAYMENT';
      const received = gate.name === 'final' ? 'FINAL_PAYMENT_RECEIVED' : 'PAYMENT_RECEIVED';
      // During placement the phase moves once the order awaits payment (spine.awaitPayment).
      if (order.phase === awaiting) order.record('payment received', detail, received);
      else order.record('payment received', detail);
      return;
    }
    case 'duplicate':
      return;
    case 'late':
      order.latePayments.push({ eventId: payment.eventId, intentId: payment.intentId, amountFen: payment.amountFen });
      order.record('late payment received, to be refunded', detail);
      return;
    case 'refused':
      (order.view.refusedPaymentEvents ??= []).push({ ...detail, currency: payment.currency, reason: verdict.reason, at: now() });
      order.record('payment event refused', { ...detail, reason: verdict.reason });
      return;
  }
}
