import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderStatus, OrderType } from '../shared/kinds';

/**
 * After-sales (售后) contract: what the order workflow accepts about refunds, and what a refund
 * request workflow (`refund-<requestId>`, a child of the order) accepts from the buyer, support agents,
 * the warehouse and ops (who send the same signals from the Temporal UI or CLI). Definitions and types only.
 */

export type RefundKind = 'REFUND_ONLY' | 'RETURN_AND_REFUND';

/** PENDING: waiting for an agent (auto-approved at the deadline). */
export type RefundRequestStatus =
  | 'PENDING'
  | 'AWAITING_RETURN'
  | 'RETURN_SHIPPED'
  | 'REFUNDING'
  | 'REFUNDED'
  | 'REJECTED'
  | 'CLOSED';

export const refundWorkflowId = (requestId: string) => `refund-${requestId}`;

/** Production defaults (domain-rules.md); configurable with REFUND_DECISION_TIMEOUT / RETURN_SHIPMENT_WINDOW. */
export const DEFAULT_REFUND_DECISION_MS = 48 * 3_600_000;
export const DEFAULT_RETURN_SHIPMENT_MS = 7 * 86_400_000;

// --- the order's side ------------------------------------------------------------------------------

export interface RefundLineRequest {
  /** `L1`, `L2`... as in the order's lines; or the SKU of the line. */
  lineId?: string;
  skuId?: string;
  quantity: number;
}

export interface RequestRefund {
  /** Derived by the API from the order and the Idempotency-Key; the order numbers it when absent. */
  requestId?: string;
  kind: RefundKind;
  lines: RefundLineRequest[];
  reason: string;
  /** `customer:<id>`, `support:<id>`... */
  by: string;
}

export interface RefundLine {
  lineId: string;
  skuId: string;
  quantity: number;
  /** Includes `freightFen` when this line's request gives the order's freight back. */
  amountFen: number;
  /** The freight a full refund before shipment gives back, carried by the request's last line. */
  freightFen?: number;
}

/** What the order reserved for the request (and the refund workflow it started). */
export interface RefundRequestAccepted {
  requestId: string;
  orderId: string;
  workflowId: string;
  kind: RefundKind;
  lines: RefundLine[];
  amountFen: number;
}

/**
 * Asks the order to refund a request's lines: its validator checks the state, the window and the
 * refundable amounts and the handler reserves them, so concurrent requests can never exceed what was
 * paid. Starts the request's workflow and answers with what was reserved.
 */
export const requestRefundUpdate = defineUpdate<RefundRequestAccepted, [RequestRefund]>('requestRefund');

/** Sent by the refund workflow once approved (and the goods are back): which effects this refund carries. */
export interface PlanRefund {
  requestId: string;
  /** Approved amount: at most what was reserved. */
  amountFen: number;
}
export interface RefundPlan {
  requestId: string;
  amountFen: number;
  lines: RefundLine[];
  /** Basis for taking back the points awarded for payment (the whole paid amount on the last refund). */
  pointsReversalFen: number;
  /** Redeemed points to give back, pro rata of the refunded money. */
  usedPointsToReturn: number;
  /** The whole order is refunded and it used a coupon. */
  returnCouponId?: string;
  /** Not shipped and every unit refunded: the stock reservation is released. */
  releaseReservationKey?: string;
  /** Flash sale, not shipped and every unit refunded: the campaign pool's reservation is released... */
  releaseCampaignStockKey?: string;
  /** ...then the admission, so the unit goes back on sale and the buyer's limit is restored. */
  releaseAdmission?: { idempotencyKey: string; reason: string };
}

/** What a full refund before shipment gives back of the order's placement holds (OrderRun.releaseOnFullRefund). */
export type HeldStockRelease = Pick<RefundPlan, 'releaseReservationKey' | 'releaseCampaignStockKey' | 'releaseAdmission'>;
export const planRefundUpdate = defineUpdate<RefundPlan, [PlanRefund]>('planRefund');

export interface RefundCompleted {
  requestId: string;
  amountFen: number;
}
export const refundCompletedSignal = defineSignal<[RefundCompleted]>('refundCompleted');

export interface RefundClosed {
  requestId: string;
  status: 'REJECTED' | 'CLOSED';
  reason: string;
}
export const refundClosedSignal = defineSignal<[RefundClosed]>('refundClosed');

/** What the order shows about its refunds (OrderView.afterSales). */
export interface OrderRefundView {
  requestId: string;
  kind: RefundKind;
  /** FAILED: its workflow failed or could not start; what it reserved is free again. */
  status: 'OPEN' | 'REFUNDED' | 'REJECTED' | 'CLOSED' | 'FAILED';
  lines: RefundLine[];
  requestedFen: number;
  refundedFen: number;
  requestedAt: string;
  reason: string;
}
export interface OrderAfterSalesView {
  requests: OrderRefundView[];
  /** Per line: units refunded (or being refunded) and reserved by open requests. */
  lines: { lineId: string; refundedQuantity: number; reservedQuantity: number; reservedFen: number; committedFen: number }[];
  usedPointsReturned: number;
}

// --- the refund request workflow -------------------------------------------------------------------

export interface RefundTimeouts {
  decisionMs: number;
  returnShipmentMs: number;
}

export interface RefundOrderSummary {
  orderId: string;
  customerId: string;
  type: OrderType;
  status: OrderStatus;
  currency: string;
  paidFen: number;
  refundedFen: number;
  lineCount: number;
}

export interface RefundRequestInput {
  requestId: string;
  orderId: string;
  customerId: string;
  kind: RefundKind;
  lines: RefundLine[];
  amountFen: number;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  order: RefundOrderSummary;
  timeouts: RefundTimeouts;
}

export interface RefundDecision {
  decision: 'APPROVED' | 'REJECTED';
  /** Agent id, `system` for the automatic approval, or who ops named in the signal. */
  decidedBy: string;
  channel: 'api' | 'signal' | 'auto';
  approvedFen?: number;
  reason?: string;
  decidedAt: string;
}

export interface RefundRequestView {
  requestId: string;
  workflowId: string;
  orderId: string;
  customerId: string;
  kind: RefundKind;
  status: RefundRequestStatus;
  lines: RefundLine[];
  requestedFen: number;
  refundedFen: number;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  decisionDueAt: string;
  decision?: RefundDecision;
  returnShipment?: { carrier: string; trackingNumber: string; shippedAt: string };
  returnDueAt?: string;
  returnReceivedAt?: string;
  closedReason?: string;
  order: RefundOrderSummary;
  timeline: { at: string; event: string; detail?: Record<string, unknown> }[];
  version: number;
}

/**
 * Agents and ops: approve (optionally a smaller amount) or reject with a reason. As signals (Temporal
 * UI or CLI) they carry `actorToken`, the sender's staff JWT; the decision is recorded under the actor
 * it proves, never under a name typed into `agentId`.
 */
export interface ApproveRefund {
  agentId: string;
  amountFen?: number;
  actorToken?: string;
}
export interface RejectRefund {
  agentId: string;
  reason: string;
  actorToken?: string;
}
export const approveRefundSignal = defineSignal<[ApproveRefund]>('approveRefund');
export const rejectRefundSignal = defineSignal<[RejectRefund]>('rejectRefund');

/** The same decision as an update, so the support API learns synchronously whether it still counted. */
export type DecideRefund = ({ decision: 'APPROVE' } & ApproveRefund) | ({ decision: 'REJECT' } & RejectRefund);
export const decideRefundUpdate = defineUpdate<RefundRequestView, [DecideRefund]>('decideRefund');

/** Return and refund: the buyer shipped the goods back; the warehouse received them. */
export interface ReturnShipped {
  carrier: string;
  trackingNumber: string;
}
export interface ReturnReceived {
  by: string;
  /** As a signal: the warehouse's staff JWT (see ApproveRefund). */
  actorToken?: string;
}
export const returnShippedSignal = defineSignal<[ReturnShipped]>('returnShipped');
export const returnReceivedSignal = defineSignal<[ReturnReceived]>('returnReceived');
export const submitReturnShipmentUpdate = defineUpdate<RefundRequestView, [ReturnShipped]>('submitReturnShipment');
export const confirmReturnReceiptUpdate = defineUpdate<RefundRequestView, [ReturnReceived]>('confirmReturnReceipt');

export const getRefundRequestQuery = defineQuery<RefundRequestView>('getRefundRequest');
