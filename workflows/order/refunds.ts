import { ApplicationFailure, ParentClosePolicy, setHandler, startChild, type ChildWorkflowHandle } from '@temporalio/workflow';
import { setUpdateHandler } from '../shared/updates';
import {
  DEFAULT_REFUND_DECISION_MS,
  DEFAULT_RETURN_SHIPMENT_MS,
  planRefundUpdate,
  refundClosedSignal,
  refundCompletedSignal,
  refundWorkflowId,
  requestRefundUpdate,
  type OrderRefundView,
  type PlanRefund,
  type RefundPlan,
  type RefundRequestAccepted,
  type RefundRequestInput,
  type RequestRefund,
} from '../after-sales/definitions';
import { everyUnitRefunded, planRefund, priceRequest, releaseReservation, reserve, type PricingTerms } from '../after-sales/refund-book';
import type { refundRequestWorkflow } from '../after-sales/refund-request';
import * as sa from '../search-attributes';
import { enforce, refusalMessage, refuse } from '../shared/refusals';
import { now } from '../shared/time';
import { shielded, waitUntil } from '../shared/wait';
import type { OrderContext } from './context';
import { canRequestRefund } from './policy';

interface RequestState {
  view: OrderRefundView;
  accepted: RefundRequestAccepted;
  plan?: RefundPlan;
}

/**
 * The order's side of after-sales (domain-rules.md): the single arbiter of what may still be
 * refunded. A request reserves its lines' amounts in the refund book (so concurrent requests never
 * refund more than was paid) and runs as a child workflow `refund-<requestId>`, which the order
 * watches: a child that fails (or cannot start) marks its request FAILED and frees its reservation.
 */
export class OrderRefunds {
  private readonly requests = new Map<string, RequestState>();
  private counter = 0;

  constructor(private readonly order: OrderContext) {
    this.registerHandlers();
  }

  /** The after-sales window closed: no new requests; wait for the open ones. */
  async closeWindow(): Promise<void> {
    this.order.afterSalesClosed = true;
    await waitUntil(() => this.order.refundState.open === 0);
  }

  private registerHandlers(): void {
    setUpdateHandler(
      this.order.answersAfterLocalSteps,
      requestRefundUpdate,
      async (request) => {
        const known = request.requestId && this.requests.get(request.requestId);
        if (known) return known.accepted;
        const accepted = this.reserveFor(request);
        await this.order.project();
        await this.start(accepted, request);
        return accepted;
      },
      { validator: (request: RequestRefund) => void this.check(request) },
    );

    setUpdateHandler(
      this.order.answersAfterLocalSteps,
      planRefundUpdate,
      (request) => {
        const state = this.requests.get(request.requestId)!;
        return (state.plan ??= this.plan(state, request));
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

    setHandler(refundCompletedSignal, async ({ requestId }) => {
      const state = this.requests.get(requestId);
      if (!state || state.view.status !== 'OPEN' || !state.plan) return;
      const { view } = this.order;
      state.view.status = 'REFUNDED';
      state.view.refundedFen = state.plan.amountFen;
      for (const line of state.plan.lines) {
        const shown = view.lines.find((candidate) => candidate.lineId === line.lineId);
        if (shown) shown.refundedFen += line.amountFen;
      }
      view.totals.refundedFen += state.plan.amountFen;
      if (state.plan.amountFen > 0) {
        view.payment.refunds.push({ refundKey: `${requestId}:refund`, amountFen: state.plan.amountFen, reason: `after-sales ${requestId}`, at: now() });
      }
      this.sync();
      this.order.record('refund paid', { requestId, amountFen: state.plan.amountFen });
      await this.order.project();
    });

    setHandler(refundClosedSignal, async ({ requestId, status, reason }) => {
      const state = this.requests.get(requestId);
      if (!state || state.view.status !== 'OPEN' || state.plan) return;
      await this.free(state, status, status === 'REJECTED' ? 'refund rejected' : 'refund request closed', reason);
    });
  }

  /** Validates a request against the order as it is now (policy, then the refund book); throws a typed refusal. */
  private check(request: RequestRefund) {
    if (request.requestId && this.requests.has(request.requestId)) return this.requests.get(request.requestId)!.accepted.lines;
    enforce(canRequestRefund(this.order.facts(), request.kind));
    if (typeof request.reason !== 'string' || request.reason.trim() === '') refuse('INVALID_REFUND_REQUEST', 'a reason is required');
    return priceRequest(this.order.book, this.pricingTerms(), request.lines);
  }

  private pricingTerms(): PricingTerms {
    const { order } = this;
    const depositOnly = order.typeFacts.depositOnlyFen !== undefined;
    return {
      ...order.refundBasis(),
      // Before the final payment only the whole deposit; before shipment a flash order only in full.
      partialAllowed: !depositOnly && (order.shipment !== undefined || order.partialRefundBeforeShipment()),
      partialRefusal: depositOnly
        ? 'before the final payment only the whole deposit can be refunded: ask for every unit'
        : `a ${order.type} order can only be refunded in full before shipment: ask for every unit, or ask again once shipped`,
    };
  }

  private reserveFor(request: RequestRefund): RefundRequestAccepted {
    const lines = this.check(request);
    this.counter += 1;
    const { order } = this;
    const requestId = request.requestId ?? `${order.orderId}-rf${this.counter}`;
    reserve(order.book, lines);
    const amountFen = lines.reduce((sum, line) => sum + line.amountFen, 0);
    const accepted: RefundRequestAccepted = { requestId, orderId: order.orderId, workflowId: refundWorkflowId(requestId), kind: request.kind, lines, amountFen };
    this.requests.set(requestId, {
      accepted,
      view: { requestId, kind: request.kind, status: 'OPEN', lines, requestedFen: amountFen, refundedFen: 0, requestedAt: now(), reason: request.reason },
    });
    this.sync();
    order.record('refund requested', { requestId, kind: request.kind, amountFen, by: request.by });
    return accepted;
  }

  /** Starts the request's workflow and watches it; a start failure gives the reservation back (the update fails). */
  private async start(accepted: RefundRequestAccepted, request: RequestRefund): Promise<void> {
    const { order } = this;
    const { input, view, timeouts } = order;
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
        type: view.type,
        status: view.status,
        currency: view.currency,
        paidFen: view.totals.paidFen,
        refundedFen: view.totals.refundedFen,
        lineCount: view.lines.length,
      },
      timeouts: { decisionMs: timeouts.refundDecisionMs ?? DEFAULT_REFUND_DECISION_MS, returnShipmentMs: timeouts.returnShipmentMs ?? DEFAULT_RETURN_SHIPMENT_MS },
    };
    const state = this.requests.get(accepted.requestId)!;
    let handle: ChildWorkflowHandle<typeof refundRequestWorkflow>;
    try {
      // ABANDON: a refund that moves money must finish even if its order's run were terminated.
      handle = await shielded(() => startChild<typeof refundRequestWorkflow>('refundRequestWorkflow', {
        workflowId: accepted.workflowId,
        args: [child],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: sa.OrderId, value: input.orderId },
          { key: sa.CustomerId, value: input.customerId },
          { key: sa.OrderType, value: view.type },
        ],
        memo: { requestId: accepted.requestId, kind: accepted.kind, amountFen: accepted.amountFen },
        staticSummary: `${accepted.kind} ${accepted.requestId} of order ${input.orderId}: ${accepted.amountFen} fen`,
      }));
    } catch (error) {
      await this.free(state, 'FAILED', 'refund request could not start', refusalMessage(error));
      throw ApplicationFailure.create({ type: 'REFUND_START_FAILED', message: `the refund request could not start: ${refusalMessage(error)}`, nonRetryable: true });
    }
    void this.watch(state, handle);
  }

  /** A child that ends without telling the order (failed, terminated, timed out) fails its request. */
  private async watch(state: RequestState, handle: ChildWorkflowHandle<typeof refundRequestWorkflow>): Promise<void> {
    try {
      await shielded(() => handle.result());
    } catch (error) {
      if (state.view.status !== 'OPEN') return;
      if (state.plan) {
        // Approved and planned: the money may have moved; the units stay counted as refunded and ops check finance.
        state.view.status = 'FAILED';
        this.sync();
        this.order.record('refund request failed after approval: check finance', { requestId: state.accepted.requestId, reason: refusalMessage(error) });
        await this.order.project();
        return;
      }
      await this.free(state, 'FAILED', 'refund request failed', refusalMessage(error));
    }
  }

  /** A request that ends without a refund: its reservation is free again. */
  private async free(state: RequestState, status: 'REJECTED' | 'CLOSED' | 'FAILED', event: string, reason: string): Promise<void> {
    releaseReservation(this.order.book, state.accepted.lines);
    state.view.status = status;
    this.sync();
    this.order.record(event, { requestId: state.accepted.requestId, reason });
    await this.order.project();
  }

  private plan(state: RequestState, request: PlanRefund): RefundPlan {
    const { order } = this;
    const plan = planRefund(order.book, {
      requestId: request.requestId,
      approvedFen: request.amountFen,
      reserved: state.accepted.lines,
      lines: order.view.lines,
      paidFen: order.view.totals.paidFen,
      pointsUsed: order.view.totals.pointsUsed,
      couponId: order.view.couponId,
      shipped: order.shipment !== undefined,
      releaseOnFullRefund: order.releaseOnFullRefund(),
    });
    this.sync();
    order.record('refund approved', { requestId: request.requestId, amountFen: request.amountFen });
    return plan;
  }

  /** Mirrors the requests and the book into the order's view and the facts the policy reads. */
  private sync(): void {
    const { order } = this;
    const requests = [...this.requests.values()];
    const open = requests.filter((request) => request.view.status === 'OPEN').length;
    const anyRefunded = requests.some((request) => request.view.status === 'REFUNDED' || (request.view.status === 'FAILED' && request.plan));
    order.refundState = { open, refundedInFull: anyRefunded && open === 0 && everyUnitRefunded(order.book, order.view.lines) };
    order.view.afterSales = {
      requests: requests.map((request) => request.view),
      lines: order.book.lines.map((line) => ({ ...line })),
      usedPointsReturned: order.book.usedPointsReturned,
    };
  }
}
