import type { RefundKind } from '../after-sales/definitions';
import type { OrderPhase, OrderType } from '../shared/kinds';
import { ALLOWED, denied, type Decision } from '../shared/refusals';
import type { ParcelStatus } from './parcel-definitions';
import { isOnTheWay } from './parcels';

/**
 * What an order allows now, decided from its phase and a few facts (pure; unit-tested as a table for
 * every phase × action × order type in test/workflows/policy.test.ts). Every update validator and
 * handler asks here; nothing else decides from loose flags.
 */
export interface OrderFacts {
  type: OrderType;
  phase: OrderPhase;
  /** A cancel (buyer, support, ops, group failure) was accepted and not yet carried out. */
  cancelRequested: boolean;
  /** The warehouse reported shipment or its failure. */
  shipmentReported: boolean;
  deliveryConfirmed: boolean;
  openRefundRequests: number;
  refundedInFull: boolean;
  paidFen: number;
  /** Group-buy: the group's outcome. */
  groupOutcome?: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  /** Presale: whether the deposit may be refunded before the final payment. */
  depositRefundable?: boolean;
  /** Presale: the final payment was asked for (its intent exists or is being made). */
  finalPaymentRequested?: boolean;
  /** The after-sales window closed (or its end passed). */
  afterSalesClosed: boolean;
  /** The order has a shipping address (orders placed before addresses existed have none). */
  hasShippingAddress?: boolean;
}

export type OrderAction = 'cancel' | 'ship' | 'reportShipmentFailure' | 'confirmDelivery' | 'requestRefund' | 'payFinal' | 'attend' | 'changeAddress';

const needsAttention = denied('ORDER_NEEDS_ATTENTION', 'the order waits for ops (NEEDS_ATTENTION); nothing else can be done to it until then');
const paymentInProgress = denied('PAYMENT_IN_PROGRESS', 'the payment is being confirmed; try again in a moment');

export function canCancel(f: OrderFacts): Decision {
  if (f.phase === 'NEEDS_ATTENTION') return needsAttention;
  if (f.cancelRequested || f.phase === 'CANCELLING') return denied('ALREADY_CANCELLING', 'the order is already being cancelled');
  if (f.phase === 'PAYMENT_RECEIVED' || f.phase === 'FINAL_PAYMENT_RECEIVED') return paymentInProgress;
  if (f.phase === 'PLACING') return denied('ORDER_PLACING', 'the order is being placed; try again in a moment');
  if (f.openRefundRequests > 0) return denied('REFUND_IN_PROGRESS', 'a refund request on this order is open; it can be cancelled once that is decided');
  if (f.refundedInFull) return denied('ALREADY_REFUNDED', 'the order was refunded in full');
  if (f.shipmentReported) return denied('WAREHOUSE_HANDLING', 'the warehouse is already handling the order');
  switch (f.phase) {
    case 'AWAITING_PAYMENT':
      return ALLOWED;
    case 'DEPOSIT_PAID':
    case 'AWAITING_FINAL_PAYMENT':
      return f.depositRefundable
        ? ALLOWED
        : denied('DEPOSIT_NOT_REFUNDABLE', 'the deposit is not refundable: the order cannot be cancelled before the final payment (a missed final payment forfeits the deposit)');
    case 'PAID':
      if (f.type === 'GROUP_BUY' && f.groupOutcome === 'PENDING') {
        return denied('GROUP_FORMING', 'the group is forming: a paid member cannot leave it (if it fails, the order is refunded in full)');
      }
      return ALLOWED;
    default:
      return denied('NOT_CANCELLABLE', `the order is ${f.phase}; only orders not yet shipped can be cancelled`);
  }
}

/** Shipping and reporting a shipment failure: a paid order the warehouse has not reported on. */
export function canShip(f: OrderFacts): Decision {
  if (f.phase === 'NEEDS_ATTENTION') return needsAttention;
  // "A moment", not "not paid": a warehouse that read PAID from a projection ahead of a retried
  // workflow task gets its shipment taken once the payment is confirmed again (waitsOutRefusal).
  if (f.phase === 'PAYMENT_RECEIVED' || f.phase === 'FINAL_PAYMENT_RECEIVED') return paymentInProgress;
  if (f.phase !== 'PAID') return denied('NOT_SHIPPABLE', `the order is ${f.phase}; only paid orders can be shipped`);
  if (f.cancelRequested) return denied('ALREADY_CANCELLING', 'the order is being cancelled');
  if (f.shipmentReported) return denied('ALREADY_REPORTED', 'the shipment was already reported');
  if (f.type === 'GROUP_BUY' && f.groupOutcome !== 'SUCCEEDED') {
    return denied('GROUP_NOT_SUCCEEDED', 'the group has not succeeded yet; nothing ships before it does');
  }
  if (f.openRefundRequests > 0) return denied('REFUND_IN_PROGRESS', 'a refund request on this order is open; ship once it is decided');
  if (f.refundedInFull) return denied('ALREADY_REFUNDED', 'the order was refunded in full');
  return ALLOWED;
}

export const canReportShipmentFailure = canShip;

/** A parcel as the parcel policy reads it (issue 13). */
export interface ParcelFacts {
  parcelId: string;
  status: ParcelStatus;
}

/**
 * Shipping one parcel, or reporting that its warehouse cannot: the order is paid (or partly shipped)
 * and may ship, and this parcel is still with its warehouse. The same rules as canShip otherwise.
 */
export function canShipParcel(f: OrderFacts, parcel: ParcelFacts): Decision {
  if (f.phase === 'NEEDS_ATTENTION') return needsAttention;
  if (f.phase !== 'PAID' && f.phase !== 'PARTIALLY_SHIPPED') return denied('NOT_SHIPPABLE', `the order is ${f.phase}; only paid orders can be shipped`);
  if (f.cancelRequested) return denied('ALREADY_CANCELLING', 'the order is being cancelled');
  if (f.type === 'GROUP_BUY' && f.groupOutcome !== 'SUCCEEDED') {
    return denied('GROUP_NOT_SUCCEEDED', 'the group has not succeeded yet; nothing ships before it does');
  }
  if (f.openRefundRequests > 0) return denied('REFUND_IN_PROGRESS', 'a refund request on this order is open; ship once it is decided');
  if (f.refundedInFull) return denied('ALREADY_REFUNDED', 'the order was refunded in full');
  if (parcel.status !== 'PENDING') return denied('PARCEL_ALREADY_REPORTED', `parcel ${parcel.parcelId} is ${parcel.status}; its shipment was already reported`);
  return ALLOWED;
}

export const canReportParcelFailure = canShipParcel;

/** A parcel is delivered (carrier, buyer, auto-confirm) only while it is on its way. */
export function canDeliverParcel(f: OrderFacts, parcel: ParcelFacts): Decision {
  if (f.phase !== 'SHIPPED' && f.phase !== 'PARTIALLY_SHIPPED' && f.phase !== 'NEEDS_ATTENTION') {
    return denied('NOT_DELIVERABLE', `the order is ${f.phase}; only shipped orders can be delivered`);
  }
  if (!isOnTheWay(parcel.status)) return denied('PARCEL_NOT_ON_ITS_WAY', `parcel ${parcel.parcelId} is ${parcel.status}`);
  return ALLOWED;
}

/** A carrier event is taken for a parcel the carrier has (shipped); whether it moves the parcel is parcels.ts's. */
export function canRecordCarrierEvent(_f: OrderFacts, parcel: ParcelFacts): Decision {
  if (parcel.status === 'PENDING' || parcel.status === 'FAILED') {
    return denied('PARCEL_NOT_SHIPPED', `parcel ${parcel.parcelId} is ${parcel.status}: the warehouse has not shipped it`);
  }
  return ALLOWED;
}

export function canConfirmDelivery(f: OrderFacts): Decision {
  if (f.phase === 'PARTIALLY_SHIPPED') return denied('NOT_DELIVERABLE', 'some parcels are still with their warehouses; confirm once every parcel shipped');
  if (f.phase !== 'SHIPPED' || f.deliveryConfirmed) return denied('NOT_DELIVERABLE', `the order is ${f.phase}; only shipped orders can be delivered`);
  return ALLOWED;
}

/** The state part of a refund request (amounts and lines are the refund book's). */
export function canRequestRefund(f: OrderFacts, kind: RefundKind): Decision {
  if (f.phase === 'NEEDS_ATTENTION') return needsAttention;
  if (kind !== 'REFUND_ONLY' && kind !== 'RETURN_AND_REFUND') return denied('INVALID_REFUND_REQUEST', 'kind must be REFUND_ONLY or RETURN_AND_REFUND');
  if (f.phase === 'PAYMENT_RECEIVED' || f.phase === 'FINAL_PAYMENT_RECEIVED') return paymentInProgress;
  if (f.paidFen <= 0) return denied('REFUND_NOT_ALLOWED', `the order is ${f.phase} and nothing was paid`);
  switch (f.phase) {
    case 'PAID':
      if (f.cancelRequested) return denied('REFUND_NOT_ALLOWED', 'the order is being cancelled');
      if (f.shipmentReported) return denied('REFUND_NOT_ALLOWED', 'the warehouse is handling the order; ask again once it is shipped');
      if (kind !== 'REFUND_ONLY') return denied('REFUND_NOT_ALLOWED', 'before shipment only a refund without return is possible');
      if (f.type === 'GROUP_BUY' && f.groupOutcome === 'PENDING') {
        return denied('REFUND_NOT_ALLOWED', 'the group is forming: a paid member cannot ask for a refund (if it fails, the order is refunded in full)');
      }
      return ALLOWED;
    case 'SHIPPED':
      return kind === 'REFUND_ONLY' ? ALLOWED : denied('REFUND_NOT_ALLOWED', 'goods not delivered yet: ask for a refund only (goods not received)');
    case 'PARTIALLY_SHIPPED':
      return denied('PARCELS_PENDING', 'some parcels are still with their warehouses; ask again once every parcel shipped');
    case 'DELIVERED':
      return f.afterSalesClosed ? denied('REFUND_WINDOW_CLOSED', 'the after-sales window is closed') : ALLOWED;
    case 'DEPOSIT_PAID':
    case 'AWAITING_FINAL_PAYMENT':
      if (!f.depositRefundable) {
        return denied('DEPOSIT_NOT_REFUNDABLE', 'the deposit is not refundable: nothing can be refunded before the final payment (a missed final payment forfeits the deposit)');
      }
      if (f.cancelRequested) return denied('REFUND_NOT_ALLOWED', 'the order is being cancelled');
      if (f.finalPaymentRequested) return denied('REFUND_NOT_ALLOWED', 'the final payment is open: pay it (then refunds cover both payments) or let it lapse');
      if (kind !== 'REFUND_ONLY') return denied('REFUND_NOT_ALLOWED', 'before the final payment only the deposit can be refunded (REFUND_ONLY)');
      return ALLOWED;
    default:
      return denied('REFUND_NOT_ALLOWED', `the order is ${f.phase}; refunds are possible once paid and until the after-sales window closes`);
  }
}

/** Presale: opening the final payment. */
export function canPayFinal(f: OrderFacts, windows: { finalStart: string; finalEnd: string }): Decision {
  if (f.phase === 'NEEDS_ATTENTION') return needsAttention;
  if (f.phase === 'AWAITING_PAYMENT' || f.phase === 'PAYMENT_RECEIVED' || f.phase === 'DEPOSIT_PAID') {
    return denied('FINAL_WINDOW_NOT_OPEN', `the final-payment window opens at ${windows.finalStart} (and closes at ${windows.finalEnd})`);
  }
  if (f.phase !== 'AWAITING_FINAL_PAYMENT' || f.cancelRequested) {
    return denied('NOT_AWAITING_FINAL_PAYMENT', `the order is ${f.phase}; the final payment can be made only while it is awaited`);
  }
  if (f.openRefundRequests > 0 || f.refundedInFull) {
    return denied('DEPOSIT_BEING_REFUNDED', 'the deposit is being refunded (after-sales request); the final payment can no longer be opened');
  }
  return ALLOWED;
}

/** The buyer changes the shipping address: from placement until the warehouse reports on it (ships or fails). */
export function canChangeAddress(f: OrderFacts): Decision {
  if (f.phase === 'NEEDS_ATTENTION') return needsAttention;
  if (!f.hasShippingAddress) return denied('NO_SHIPPING_ADDRESS', 'the order has no shipping address to change');
  if (f.phase === 'PLACING') return denied('ORDER_PLACING', 'the order is being placed; try again in a moment');
  if (f.cancelRequested || f.phase === 'CANCELLING') return denied('ALREADY_CANCELLING', 'the order is being cancelled');
  if (f.shipmentReported) return denied('ALREADY_SHIPPED', 'the warehouse already shipped (or reported on) the order; the address can no longer change');
  if (f.refundedInFull) return denied('ALREADY_REFUNDED', 'the order was refunded in full');
  switch (f.phase) {
    case 'AWAITING_PAYMENT':
    case 'PAYMENT_RECEIVED':
    case 'PAID':
    case 'DEPOSIT_PAID':
    case 'AWAITING_FINAL_PAYMENT':
    case 'FINAL_PAYMENT_RECEIVED':
      return ALLOWED;
    // One address for all parcels: once the first parcel left, the rest follow it there.
    case 'PARTIALLY_SHIPPED':
    case 'SHIPPED':
    case 'DELIVERED':
      return denied('ALREADY_SHIPPED', `the order is ${f.phase}; the address can change only before shipment`);
    default:
      return denied('NOT_CHANGEABLE', `the order is ${f.phase}; it will not ship`);
  }
}

/** Ops' retry and manual resolution: only for an order waiting for them. */
export function canAttend(f: OrderFacts): Decision {
  return f.phase === 'NEEDS_ATTENTION' ? ALLOWED : denied('NOT_NEEDING_ATTENTION', `the order is ${f.phase}; it does not need attention`);
}

/** Workflow cancellation (`temporal workflow cancel`): a cancel when one is allowed; after shipment nothing is undone. */
export function canCancelRun(f: OrderFacts): Decision {
  return canCancel(f);
}

/** The phases before an order's payment is settled: a "payment being confirmed" refusal is news there. */
const PAYMENT_UNSETTLED: readonly OrderPhase[] = ['PLACING', 'AWAITING_PAYMENT', 'PAYMENT_RECEIVED', 'AWAITING_FINAL_PAYMENT', 'FINAL_PAYMENT_RECEIVED'];

/**
 * Whether a refusal that only says "a moment" (PAYMENT_IN_PROGRESS, ORDER_PLACING) is waited out
 * before the caller hears it, given the phase of the view the caller acted on. Only when that view is
 * already past the refused step: the projection ran ahead of the workflow (a local activity wrote it,
 * and the workflow task that ran it was retried after a worker died), and the workflow gets back
 * there within seconds. A caller who saw the step still under way hears the refusal at once (issue 9:
 * a cancel while the payment is being confirmed is 409, and the order proceeds as paid).
 */
export function waitsOutRefusal(phaseSeen: OrderPhase, refusalCode: string): boolean {
  if (refusalCode === 'PAYMENT_IN_PROGRESS') return !PAYMENT_UNSETTLED.includes(phaseSeen);
  if (refusalCode === 'ORDER_PLACING') return phaseSeen !== 'PLACING';
  return false;
}
