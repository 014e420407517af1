import { ApplicationFailure, condition, ParentClosePolicy, setHandler, startChild } from '@temporalio/workflow';
import { allocateProRata } from '../../modules/shared/money';
import { mustComplete } from '../order/activities';
import type { OrderLineView } from '../order/definitions';
import type { OrderRun } from '../order/order-run';
import { now } from '../order/state';
import * as sa from '../search-attributes';
import {
  DEFAULT_REFUND_DECISION_MS,
  DEFAULT_RETURN_SHIPMENT_MS,
  planRefundUpdate,
  refundClosedSignal,
  refundCompletedSignal,
  refundWorkflowId,
  requestRefundUpdate,
  type OrderAfterSalesView,
  type OrderRefundView,
  type PlanRefund,
  type RefundLine,
  type RefundPlan,
  type HeldStockRelease,
  type RefundRequestAccepted,
  type RefundRequestInput,
  type RequestRefund,
} from './definitions';
import type { refundRequestWorkflow } from './refund-request';

interface LineState {
  lineId: string;
  refundedQuantity: number;
  reservedQuantity: number;
  reservedFen: number;
  committedFen: number;
}

interface RequestState {
  view: OrderRefundView;
  accepted: RefundRequestAccepted;
  plan?: RefundPlan;
}

/** A refusal the API maps to 409 (state, window) or 422 (amounts, lines): non-retryable, typed. */
export function refuse(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * The order's side of after-sales (domain-rules.md): it is the single arbiter of what may still be
 * refunded. A request reserves its lines' amounts here (so concurrent requests never refund more than
 * was paid), and each request runs as its own child workflow `refund-<requestId>` that waits for the
 * agent's decision, the return, and then pays the refund. That workflow asks this class for the plan
 * of its effects (coupon, used points, stock) when it executes, and reports back when done.
 *
 * The order keeps running while any request is open: completion waits for them; a fully refunded
 * order ends REFUNDED; a partly refunded one completes with the refunded amounts shown.
 */
export class OrderAfterSales {
  private readonly requests = new Map<string, RequestState>();
  private readonly lines = new Map<string, LineState>();
  private usedPointsReturned = 0;
  private committedFen = 0;
  private couponReturned = false;
  private windowClosed = false;
  private counter = 0;
  /** Units refunded before shipment: shipped with the reservation, restocked right after. */
  private readonly restockAfterShipment: { skuId: string; quantity: number }[] = [];

  constructor(private readonly run: OrderRun) {
    this.registerHandlers();
  }

  get openRequests(): number {
    return [...this.requests.values()].filter((request) => request.view.status === 'OPEN').length;
  }

  /** Every unit refunded (or being refunded) and no request left open. */
  get refundedInFull(): boolean {
    const { lines } = this.run.order.view;
    return (
      this.requests.size > 0 &&
      this.openRequests === 0 &&
      lines.length > 0 &&
      lines.every((line) => (this.lines.get(line.lineId)?.refundedQuantity ?? 0) >= line.quantity)
    );
  }

  // --- hooks of the order's phases ---------------------------------------------------------------

  /** Cancel is the buyer's full refund before shipment; once after-sales started it would refund twice. */
  assertCancellable(): void {
    if (this.requests.size > 0) throw new Error('the order has refund requests; it can no longer be cancelled');
  }

  /** The warehouse waits while a refund before shipment is undecided, and ships nothing fully refunded. */
  assertShippable(): void {
    if (this.openRequests > 0) throw new Error('a refund request on this order is open; ship once it is decided');
    if (this.refundedInFull) throw new Error('the order was refunded in full');
  }

  /** Right after the stock was committed at shipment: units refunded before shipment go back on hand. */
  async afterShipment(): Promise<void> {
    if (this.restockAfterShipment.length === 0) return;
    await mustComplete.restockReturn.executeWithOptions({ summary: 'restock units refunded before shipment' }, [
      { idempotencyKey: this.run.key('restock-refunded-before-shipment'), orderId: this.run.input.orderId, lines: [...this.restockAfterShipment] },
    ]);
  }

  /** The after-sales window closed: no new requests; wait for the open ones. */
  async closeWindow(): Promise<void> {
    this.windowClosed = true;
    if (this.openRequests > 0) {
      await condition(() => this.openRequests === 0);
    }
  }

  /** Ends a fully refunded order: money kept by smaller approvals is still recognised; REFUNDED. */
  async endRefunded(): Promise<void> {
    const { input, order } = this.run;
    const keptFen = order.view.totals.paidFen - order.view.totals.refundedFen;
    if (keptFen > 0) {
      await mustComplete.completeOrderPoints.executeWithOptions({ summary: 'pending points of the kept amount become available' }, [
        { idempotencyKey: this.run.key('complete-points'), memberId: input.customerId, orderId: input.orderId, completedSpendFen: keptFen },
      ]);
      await mustComplete.recognizeRevenue.executeWithOptions({ summary: 'recognise the kept amount as revenue' }, [
        { idempotencyKey: this.run.key('recognize-revenue'), orderId: input.orderId, currency: input.currency },
      ]);
    }
    order.record('refunded in full', { refundedFen: order.view.totals.refundedFen, keptFen }, 'REFUNDED');
    await this.run.project();
  }

  // --- messages ------------------------------------------------------------------------------------

  private registerHandlers(): void {
    setHandler(
      requestRefundUpdate,
      async (request) => {
        const known = request.requestId ? this.requests.get(request.requestId) : undefined;
        if (known) return known.accepted;
        const accepted = this.reserve(request);
        await this.run.project();
        await this.startRequestWorkflow(accepted, request);
        return accepted;
      },
      { validator: (request: RequestRefund) => void this.check(request) },
    );

    setHandler(
      planRefundUpdate,
      (request) => {
        const state = this.requests.get(request.requestId)!;
        state.plan ??= this.plan(state, request);
        return state.plan;
      },
      {
        validator: ({ requestId, amountFen }: PlanRefund) => {
          const state = this.requests.get(requestId);
          if (!state) refuse('REFUND_REQUEST_NOT_FOUND', `no refund request ${requestId} on this order`);
          if (state.plan) return; // asked again: the same plan
          if (state.view.status !== 'OPEN') refuse('REFUND_REQUEST_CLOSED', `refund request ${requestId} is ${state.view.status}`);
          if (!Number.isSafeInteger(amountFen) || amountFen < 0 || amountFen > state.accepted.amountFen) {
            refuse('REFUND_EXCEEDS_REQUESTED', `approved ${amountFen} but ${state.accepted.amountFen} was requested`);
          }
        },
      },
    );

    setHandler(refundCompletedSignal, async ({ requestId, amountFen }) => {
      const state = this.requests.get(requestId);
      if (!state || state.view.status !== 'OPEN' || !state.plan) return;
      const { order } = this.run;
      state.view.status = 'REFUNDED';
      state.view.refundedFen = state.plan.amountFen;
      for (const line of state.plan.lines) {
        const view = order.view.lines.find((candidate) => candidate.lineId === line.lineId);
        if (view) view.refundedFen += line.amountFen;
      }
      order.view.totals.refundedFen += state.plan.amountFen;
      if (state.plan.amountFen > 0) {
        order.view.payment.refunds.push({ refundKey: `${requestId}:refund`, amountFen: state.plan.amountFen, reason: `after-sales ${requestId}`, at: now() });
      }
      this.sync();
      order.record('refund paid', { requestId, amountFen: amountFen });
      await this.run.project();
    });

    setHandler(refundClosedSignal, async ({ requestId, status, reason }) => {
      const state = this.requests.get(requestId);
      if (!state || state.view.status !== 'OPEN' || state.plan) return;
      for (const line of state.accepted.lines) {
        const held = this.lines.get(line.lineId)!;
        held.reservedQuantity -= line.quantity;
        held.reservedFen -= line.amountFen;
      }
      state.view.status = status;
      this.sync();
      this.run.order.record(status === 'REJECTED' ? 'refund rejected' : 'refund request closed', { requestId, reason });
      await this.run.project();
    });
  }

  // --- reservation -----------------------------------------------------------------------------------

  /** Validates a request against the order as it is now and prices its lines; throws a typed refusal. */
  private check(request: RequestRefund): RefundLine[] {
    if (request.requestId && this.requests.has(request.requestId)) return this.requests.get(request.requestId)!.accepted.lines;
    const { order } = this.run;
    const status = order.status;
    if (request.kind !== 'REFUND_ONLY' && request.kind !== 'RETURN_AND_REFUND') refuse('INVALID_REFUND_REQUEST', 'kind must be REFUND_ONLY or RETURN_AND_REFUND');
    if (typeof request.reason !== 'string' || request.reason.trim() === '') refuse('INVALID_REFUND_REQUEST', 'a reason is required');
    if (order.view.totals.paidFen <= 0) refuse('REFUND_NOT_ALLOWED', `the order is ${status} and nothing was paid`);
    if (status === 'PAID') {
      if (this.run.cancellation) refuse('REFUND_NOT_ALLOWED', 'the order is being cancelled');
      if (this.run.shipment || this.run.shipmentFailure) refuse('REFUND_NOT_ALLOWED', 'the warehouse is handling the order; ask again once it is shipped');
      if (request.kind !== 'REFUND_ONLY') refuse('REFUND_NOT_ALLOWED', 'before shipment only a refund without return is possible');
      // A paid group-buy member stays in a forming group, as for cancel (the group counts the seat as
      // paid; if it fails, the order is refunded in full by its saga).
      if (order.view.group?.outcome === 'PENDING') {
        refuse('REFUND_NOT_ALLOWED', `the group ${order.view.group.groupId} is forming: a paid member cannot ask for a refund (if it fails, the order is refunded in full)`);
      }
    } else if (status === 'SHIPPED') {
      if (request.kind !== 'REFUND_ONLY') refuse('REFUND_NOT_ALLOWED', 'goods not delivered yet: ask for a refund only (goods not received)');
    } else if (status === 'DELIVERED') {
      const endsAt = order.view.deadlines.afterSalesEndsAt;
      if (this.windowClosed || (endsAt && Date.now() >= Date.parse(endsAt))) refuse('REFUND_WINDOW_CLOSED', 'the after-sales window is closed');
    } else {
      this.run.checkRefundIn(status, request); // the order type's rule (presale deposit), else refused
    }
    if (!Array.isArray(request.lines) || request.lines.length === 0) refuse('INVALID_REFUND_REQUEST', 'name at least one line');
    const priced: RefundLine[] = [];
    for (const wanted of request.lines) {
      const line = order.view.lines.find((candidate) => (wanted.lineId ? candidate.lineId === wanted.lineId : candidate.skuId === wanted.skuId));
      if (!line) refuse('UNKNOWN_ORDER_LINE', `the order has no line ${wanted.lineId ?? wanted.skuId}`);
      if (priced.some((other) => other.lineId === line.lineId)) refuse('INVALID_REFUND_REQUEST', `line ${line.lineId} is named twice`);
      if (!Number.isSafeInteger(wanted.quantity) || wanted.quantity < 1) refuse('INVALID_REFUND_REQUEST', 'quantities are whole numbers from 1');
      const held = this.lineState(line.lineId);
      const left = line.quantity - held.refundedQuantity - held.reservedQuantity;
      if (left <= 0) refuse('LINE_ALREADY_REFUNDED', `line ${line.lineId} is already refunded (or being refunded) in full`);
      if (wanted.quantity > left) {
        refuse('REFUND_EXCEEDS_REFUNDABLE', `line ${line.lineId}: ${wanted.quantity} units asked, ${left} left to refund`);
      }
      priced.push({ lineId: line.lineId, skuId: line.skuId, quantity: wanted.quantity, amountFen: this.amountOf(line, held, wanted.quantity) });
    }
    if (status === 'PAID' && !this.run.allowsPartialRefundBeforeShipment()) {
      // Every unit not yet refunded must be in this request (or in one still open): full refund only.
      const partial = order.view.lines.some((line) => {
        const held = this.lines.get(line.lineId); // read only: this runs in the update's validator
        const asked = priced.find((candidate) => candidate.lineId === line.lineId)?.quantity ?? 0;
        return (held?.refundedQuantity ?? 0) + (held?.reservedQuantity ?? 0) + asked < line.quantity;
      });
      if (partial) {
        refuse('PARTIAL_REFUND_NOT_ALLOWED', `a ${order.view.type} order can only be refunded in full before shipment: ask for every unit, or ask again once shipped`);
      }
    }
    const amountFen = priced.reduce((sum, line) => sum + line.amountFen, 0);
    const refundableFen = order.view.totals.paidFen - this.committedFen - [...this.lines.values()].reduce((sum, held) => sum + held.reservedFen, 0);
    if (amountFen > refundableFen) refuse('REFUND_EXCEEDS_REFUNDABLE', `${amountFen} asked, ${refundableFen} left to refund on the order`);
    return priced;
  }

  /**
   * What `quantity` more units of a line refund: what the buyer paid for the line (its payableFen, with
   * discounts allocated pro rata) split over its units, for the next units not yet refunded or reserved,
   * never more than the line has left.
   */
  private amountOf(line: OrderLineView, held: LineState, quantity: number): number {
    const paidFen = this.run.refundableFenOf(line);
    const units = allocateProRata(paidFen, new Array<number>(line.quantity).fill(1));
    const from = held.refundedQuantity + held.reservedQuantity;
    const amount = units.slice(from, from + quantity).reduce((sum, unit) => sum + unit, 0);
    return Math.max(0, Math.min(amount, paidFen - held.committedFen - held.reservedFen));
  }

  private reserve(request: RequestRefund): RefundRequestAccepted {
    const lines = this.check(request); // again in the handler: the state is the validator's, but be sure
    this.counter += 1;
    const requestId = request.requestId ?? `${this.run.input.orderId}-rf${this.counter}`;
    for (const line of lines) {
      const held = this.lineState(line.lineId);
      held.reservedQuantity += line.quantity;
      held.reservedFen += line.amountFen;
    }
    const amountFen = lines.reduce((sum, line) => sum + line.amountFen, 0);
    const accepted: RefundRequestAccepted = {
      requestId,
      orderId: this.run.input.orderId,
      workflowId: refundWorkflowId(requestId),
      kind: request.kind,
      lines,
      amountFen,
    };
    this.requests.set(requestId, {
      accepted,
      view: { requestId, kind: request.kind, status: 'OPEN', lines, requestedFen: amountFen, refundedFen: 0, requestedAt: now(), reason: request.reason },
    });
    this.sync();
    this.run.order.record('refund requested', { requestId, kind: request.kind, amountFen, by: request.by });
    return accepted;
  }

  private async startRequestWorkflow(accepted: RefundRequestAccepted, request: RequestRefund): Promise<void> {
    const { order, input, timeouts } = this.run;
    const child: RefundRequestInput = {
      requestId: accepted.requestId,
      orderId: input.orderId,
      customerId: input.customerId,
      kind: accepted.kind,
      lines: accepted.lines,
      amountFen: accepted.amountFen,
      reason: request.reason.trim(),
      requestedBy: request.by,
      requestedAt: now(),
      order: {
        orderId: input.orderId,
        customerId: input.customerId,
        type: order.view.type,
        status: order.status,
        currency: order.view.currency,
        paidFen: order.view.totals.paidFen,
        refundedFen: order.view.totals.refundedFen,
        lineCount: order.view.lines.length,
      },
      timeouts: {
        decisionMs: timeouts.refundDecisionMs ?? DEFAULT_REFUND_DECISION_MS,
        returnShipmentMs: timeouts.returnShipmentMs ?? DEFAULT_RETURN_SHIPMENT_MS,
      },
    };
    // ABANDON: a refund that moves money must finish even if its order's run were terminated.
    await startChild<typeof refundRequestWorkflow>('refundRequestWorkflow', {
      workflowId: accepted.workflowId,
      args: [child],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: sa.OrderId, value: input.orderId },
        { key: sa.CustomerId, value: input.customerId },
        { key: sa.OrderType, value: order.view.type },
      ],
      memo: { requestId: accepted.requestId, kind: accepted.kind, amountFen: accepted.amountFen },
      staticSummary: `${accepted.kind} ${accepted.requestId} of order ${input.orderId}: ${accepted.amountFen} fen`,
    });
  }

  // --- execution plan --------------------------------------------------------------------------------

  private plan(state: RequestState, request: PlanRefund): RefundPlan {
    const { order, input } = this.run;
    const reserved = state.accepted.lines;
    const amounts =
      request.amountFen === state.accepted.amountFen
        ? reserved.map((line) => line.amountFen)
        : allocateProRata(request.amountFen, reserved.map((line) => line.amountFen));
    const lines = reserved.map((line, index) => ({ ...line, amountFen: amounts[index] }));
    for (const [index, line] of reserved.entries()) {
      const held = this.lineState(line.lineId);
      held.reservedQuantity -= line.quantity;
      held.reservedFen -= line.amountFen;
      held.refundedQuantity += line.quantity;
      held.committedFen += amounts[index];
    }
    this.committedFen += request.amountFen;
    const paidFen = order.view.totals.paidFen;
    const everyUnit = order.view.lines.every((line) => this.lineState(line.lineId).refundedQuantity >= line.quantity);
    const allMoney = this.committedFen >= paidFen;

    const pointsUsed = order.view.totals.pointsUsed;
    const pointsTarget = everyUnit ? pointsUsed : Math.floor((pointsUsed * Math.min(this.committedFen, paidFen)) / paidFen);
    const usedPointsToReturn = Math.max(0, pointsTarget - this.usedPointsReturned);
    this.usedPointsReturned += usedPointsToReturn;

    const shipped = order.view.shipment !== undefined;
    let release: HeldStockRelease = {};
    if (!shipped) {
      // Nothing left to ship: the whole reservation goes back (it holds the earlier refunded units too).
      if (everyUnit) {
        release = this.run.releaseOnFullRefund();
        this.restockAfterShipment.length = 0;
      } else {
        for (const line of lines) this.restockAfterShipment.push({ skuId: line.skuId, quantity: line.quantity });
      }
    }
    let returnCouponId: string | undefined;
    if (everyUnit && input.couponId && !this.couponReturned) {
      returnCouponId = input.couponId;
      this.couponReturned = true;
    }
    this.sync();
    order.record('refund approved', { requestId: request.requestId, amountFen: request.amountFen });
    return {
      requestId: request.requestId,
      amountFen: request.amountFen,
      lines,
      pointsReversalFen: allMoney ? paidFen : request.amountFen,
      usedPointsToReturn,
      returnCouponId,
      ...release,
    };
  }

  private lineState(lineId: string): LineState {
    let held = this.lines.get(lineId);
    if (!held) {
      held = { lineId, refundedQuantity: 0, reservedQuantity: 0, reservedFen: 0, committedFen: 0 };
      this.lines.set(lineId, held);
    }
    return held;
  }

  /** Mirrors the after-sales state into the order's view (queries, projection). */
  private sync(): void {
    const view: OrderAfterSalesView = {
      requests: [...this.requests.values()].map((request) => request.view),
      lines: [...this.lines.values()].map((line) => ({ ...line })),
      usedPointsReturned: this.usedPointsReturned,
    };
    this.run.order.view.afterSales = view;
  }
}
