import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderAfterSalesView } from '../after-sales/definitions';
import type { OrderPhase, OrderStatus, OrderType } from '../shared/kinds';
import type { CarrierEvent, ParcelShipmentFailed, ParcelView, ShipParcel } from './parcel-definitions';
import type { ChangeAddress, SalesChannel, ShippingAddress, ShippingView } from './shipping-definitions';

export type { OrderPhase, OrderStatus, OrderType } from '../shared/kinds';

/**
 * The contract between an order workflow and everyone who talks to it: the storefront API, the
 * payment webhook, the warehouse, support agents and ops (who can send the same signals from the
 * Temporal UI or CLI). Shared by workflow and API code; only definitions and types here.
 */

export const orderWorkflowId = (orderId: string) => `order-${orderId}`;

export interface OrderLineInput {
  skuId: string;
  quantity: number;
}

export interface PlaceOrderInput {
  orderId: string;
  customerId: string;
  lines: OrderLineInput[];
  couponId?: string;
  pointsToRedeem?: number;
  currency: string;
  /** Where a physical order ships (the API requires it for new orders; older histories have none). */
  shippingAddress?: ShippingAddress;
  /** Where it was sold (from the credential that placed it, or the body). */
  channel?: SalesChannel;
  /** When the API accepted the order (ISO); the workflow's own clock drives everything after. */
  placedAt: string;
}

/** Durations in milliseconds; production defaults from domain-rules.md, tests use seconds. */
export interface OrderTimeouts {
  paymentMs: number;
  autoConfirmDeliveryMs: number;
  afterSalesWindowMs: number;
  /** After-sales (optional: domain-rules defaults): no agent decision within this → auto-approved. */
  refundDecisionMs?: number;
  /** After-sales: the buyer ships a return back within this after approval, else the request closes. */
  returnShipmentMs?: number;
}

export interface OrderLineView {
  lineId: string;
  skuId: string;
  quantity: number;
  unitPriceFen: number;
  listFen: number;
  promotionDiscountFen: number;
  couponDiscountFen: number;
  pointsDiscountFen: number;
  payableFen: number;
  refundedFen: number;
}

export interface OrderTotalsView {
  listFen: number;
  promotionDiscountFen: number;
  couponDiscountFen: number;
  pointsDiscountFen: number;
  payableFen: number;
  pointsUsed: number;
  paidFen: number;
  refundedFen: number;
  /** Freight (运费), included in payableFen; absent on orders placed before freight existed. */
  freightFen?: number;
}

export interface PaymentView {
  intentId?: string;
  /** PENDING: the intent is open; SUCCEEDED: received and captured; CANCELLED: closed unpaid. */
  status: 'NONE' | 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  amountFen: number;
  paidAt?: string;
  refunds: { refundKey: string; amountFen: number; reason: string; at: string }[];
}

/** Why the order waits for a person (phase NEEDS_ATTENTION): the step that could not be done by itself. */
export interface AttentionView {
  step: string;
  reason: string;
  code: string;
  since: string;
  /** The phase the order was in and returns to once ops retried or resolved the step. */
  fromPhase: OrderPhase;
}

export interface TimelineEntry {
  at: string;
  event: string;
  status?: OrderStatus;
  phase?: OrderPhase;
  detail?: Record<string, unknown>;
}

export interface OrderView {
  orderId: string;
  customerId: string;
  type: OrderType;
  status: OrderStatus;
  /** What is in flight (workflows/order/phase.ts); `status` is what the buyer sees. */
  phase: OrderPhase;
  /** Present while phase is NEEDS_ATTENTION. */
  attention?: AttentionView;
  /** Payment events that did not match an intent of the order (amount, currency, intent): never applied. */
  refusedPaymentEvents?: { eventId: string; intentId: string; amountFen: number; currency?: string; reason: string; at: string }[];
  currency: string;
  /** Where the order was sold (search attribute SalesChannel = its kind). */
  channel?: SalesChannel;
  /** Address version and freight (the address itself is kept by the logistics module, not here). */
  shipping?: ShippingView;
  couponId?: string;
  lines: OrderLineView[];
  totals: OrderTotalsView;
  payment: PaymentView;
  shipment?: { carrier: string; trackingNumber: string; shippedAt: string };
  /** One per warehouse of the stock allocation (orders paid since parcels exist; older orders have `shipment` only). */
  parcels?: ParcelView[];
  deliveredAt?: string;
  rejection?: { code: string; message: string };
  cancellation?: { reason: string; by: string; at: string };
  deadlines: { paymentDueAt?: string; autoConfirmAt?: string; afterSalesEndsAt?: string };
  timeline: TimelineEntry[];
  /** Presale orders: the deposit, the final payment and the campaign's windows. */
  presale?: PresaleOrderView;
  /** Group-buy orders: the group joined and its outcome. */
  group?: GroupMembershipView;
  /** After-sales: refund requests and what each line has refunded or reserved (once a request exists). */
  afterSales?: OrderAfterSalesView;
  /** Increases with every change; the PostgreSQL projection keeps only the newest. */
  version: number;
}

export interface PresaleOrderView {
  campaignId: string;
  depositFen: number;
  /** 定金膨胀: what the deposit counts for against the price (>= depositFen). */
  depositValueFen: number;
  depositRefundable: boolean;
  finalStart: string;
  finalEnd: string;
  /** Presale price minus the deposit's value, before any coupon. */
  finalBeforeCouponFen: number;
  finalPayment: PaymentView;
  remindedAt?: string;
  /** What became of the deposit when the final payment was missed or the order cancelled before it. */
  depositOutcome?: 'FORFEITED' | 'REFUNDED';
}

export interface GroupMembershipView {
  campaignId: string;
  groupId: string;
  leader: boolean;
  outcome: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  decidedAt?: string;
}

// --- what comes in ---------------------------------------------------------------------------------

/** From the payment provider's webhook (signature checked by the API). */
export interface PaymentSucceeded {
  eventId: string;
  intentId: string;
  amountFen: number;
  /** Checked against the intent's currency when given (providers always say it). */
  currency?: string;
  paidAt: string;
}
export interface PaymentFailed {
  eventId: string;
  intentId: string;
  reason: string;
}
export const paymentSucceededSignal = defineSignal<[PaymentSucceeded]>('paymentSucceeded');
export const paymentFailedSignal = defineSignal<[PaymentFailed]>('paymentFailed');

/** Buyer, support or ops cancel; allowed before shipment. The update answers whether it was accepted. */
export interface CancelRequest {
  reason: string;
  by: string;
}
export const cancelOrderUpdate = defineUpdate<OrderView, [CancelRequest]>('cancelOrder');

/** The warehouse shipped the order (carrier and tracking number) or could not ship it. */
export interface ShipmentDispatched {
  carrier: string;
  trackingNumber: string;
}
export interface ShipmentFailed {
  reason: string;
}
export const shipOrderUpdate = defineUpdate<OrderView, [ShipmentDispatched]>('shipOrder');
export const shipmentFailedUpdate = defineUpdate<OrderView, [ShipmentFailed]>('shipmentFailed');

/** The carrier or the buyer confirms delivery (otherwise auto-confirmed after the configured time). */
export interface DeliveryConfirmed {
  by: 'carrier' | 'buyer';
}
export const confirmDeliveryUpdate = defineUpdate<OrderView, [DeliveryConfirmed]>('confirmDelivery');

/** Parcels (parcel-definitions.ts): the warehouse ships one parcel or reports it cannot; the carrier's tracking events. */
export const shipParcelUpdate = defineUpdate<OrderView, [ShipParcel]>('shipParcel');
export const parcelShipmentFailedUpdate = defineUpdate<OrderView, [ParcelShipmentFailed]>('parcelShipmentFailed');
export const carrierEventUpdate = defineUpdate<OrderView, [CarrierEvent]>('carrierEvent');
/** The buyer changes the shipping address before shipment (the API validated it; the policy decides: canChangeAddress). */
export const changeAddressUpdate = defineUpdate<OrderView, [ChangeAddress]>('changeAddress');

/**
 * Resolves once placement is decided: PENDING_PAYMENT (with the payment intent) or REJECTED with the
 * reason. The API calls it right after starting the workflow, to answer POST /orders synchronously.
 */
export const placementResultUpdate = defineUpdate<OrderView>('placementResult');

/**
 * Ops, for an order in NEEDS_ATTENTION: try the step again (after fixing its cause), or record that it
 * was done by hand and go on. `by` is the person; both are audited (orders.attention_actions).
 */
export interface AttentionAction {
  by: string;
  reason: string;
}
export const retryCompensationUpdate = defineUpdate<OrderView, [AttentionAction]>('retryCompensation');
export const resolveManuallyUpdate = defineUpdate<OrderView, [AttentionAction]>('resolveManually');

// --- what goes out ---------------------------------------------------------------------------------

export const getOrderQuery = defineQuery<OrderView>('getOrder');
/** Why the order needs a person, or null. */
export const getAttentionQuery = defineQuery<AttentionView | null>('getAttention');
