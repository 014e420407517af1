import { ApplicationFailure, condition, getExternalWorkflowHandle, log, patched, setCurrentDetails, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { executeRefund } from './refund-effects';
import { OpsSignals, withoutToken } from './ops-signals';
import { localMustComplete, mustComplete } from '../shared/activities';
import { orderWorkflowId } from '../order/definitions';
import { afterMs, now } from '../shared/time';
import {
  approveRefundSignal,
  confirmReturnReceiptUpdate,
  decideRefundUpdate,
  getRefundRequestQuery,
  refundClosedSignal,
  refundCompletedSignal,
  rejectRefundSignal,
  returnReceivedSignal,
  returnShippedSignal,
  submitReturnShipmentUpdate,
  type ApproveRefund,
  type DecideRefund,
  type RefundDecision,
  type RefundRequestInput,
  type RefundRequestStatus,
  type RefundRequestView,
  type RejectRefund,
  type ReturnReceived,
  type ReturnShipped,
} from './definitions';

/**
 * One after-sales request (售后单), started by its order as a child workflow `refund-<requestId>`:
 *
 *   PENDING: wait for an agent's approveRefund (maybe a smaller amount) / rejectRefund (reason), by the
 *            support API (update decideRefund) or by ops (signals); no decision in time → auto-approved.
 *            The decision that counted is written to the audit table (who, when, what, why, run).
 *   rejected → REJECTED; the order releases the reserved amount.
 *   RETURN_AND_REFUND: AWAITING_RETURN (buyer ships back within the window, else CLOSED)
 *                      → RETURN_SHIPPED → the warehouse confirms receipt.
 *   REFUNDING: the order plans the effects, then money back through the provider (once, by key), stock
 *              back for returns, points taken back and used points returned, coupon on a full refund
 *   → REFUNDED; the order is told and updates its refunded amounts.
 */
export async function refundRequestWorkflow(input: RefundRequestInput): Promise<RefundRequestView> {
  // Issue 17, decided once at the start (versioning rule): the projection as a local activity and
  // the status in the current details instead of a memo event; runs started before keep both.
  const localRecords = patched('refund-request-local-records');
  const { workflowId } = workflowInfo();
  const view: RefundRequestView = {
    requestId: input.requestId,
    workflowId,
    orderId: input.orderId,
    customerId: input.customerId,
    kind: input.kind,
    status: 'PENDING',
    lines: input.lines,
    requestedFen: input.amountFen,
    refundedFen: 0,
    reason: input.reason,
    requestedBy: input.requestedBy,
    requestedAt: input.requestedAt,
    decisionDueAt: afterMs(input.timeouts.decisionMs),
    order: input.order,
    timeline: [{ at: now(), event: 'requested', detail: { kind: input.kind, amountFen: input.amountFen, by: input.requestedBy } }],
    version: 1,
  };
  let decision: RefundDecision | undefined;
  let decisionRecorded = false;
  let returnShipment: ReturnShipped | undefined;
  let returnReceived: ReturnReceived | undefined;

  const record = (event: string, detail?: Record<string, unknown>, status?: RefundRequestStatus) => {
    if (status) view.status = status;
    view.timeline.push({ at: now(), event, ...(detail ? { detail } : {}) });
    view.version += 1;
    if (status && localRecords) setCurrentDetails(`**${status}** · requested ${view.requestedFen} fen · refunded ${view.refundedFen} fen`);
    else if (status) upsertMemo({ status, requestedFen: view.requestedFen, refundedFen: view.refundedFen });
  };
  const project = () =>
    (localRecords ? localMustComplete : mustComplete).projectRefundRequest.executeWithOptions({ summary: `project refund request (${view.status})` }, [snapshot(view)]);

  // --- decisions: from the support API (update, answered synchronously) or ops (signals) -------------
  const approvalProblem = (approval: ApproveRefund): string | undefined => {
    if (typeof approval?.agentId !== 'string' || approval.agentId.trim() === '') return 'agentId is required';
    const amount = approval.amountFen;
    if (amount !== undefined && (!Number.isSafeInteger(amount) || amount < 1 || amount > input.amountFen)) {
      return `amountFen must be a whole number of fen from 1 to ${input.amountFen}`;
    }
    return undefined;
  };
  const rejectionProblem = (rejection: RejectRefund): string | undefined => {
    if (typeof rejection?.agentId !== 'string' || rejection.agentId.trim() === '') return 'agentId is required';
    if (typeof rejection.reason !== 'string' || rejection.reason.trim() === '') return 'a reason is required to reject';
    return undefined;
  };
  const decide = (kind: 'APPROVE' | 'REJECT', payload: ApproveRefund | RejectRefund, channel: RefundDecision['channel']) => {
    decision =
      kind === 'APPROVE'
        ? {
            decision: 'APPROVED',
            decidedBy: payload.agentId.trim(),
            channel,
            approvedFen: (payload as ApproveRefund).amountFen ?? input.amountFen,
            decidedAt: now(),
          }
        : { decision: 'REJECTED', decidedBy: payload.agentId.trim(), channel, reason: (payload as RejectRefund).reason.trim(), decidedAt: now() };
  };
  const ignore = (what: string, why: string, payload: unknown) => {
    log.warn('refund decision ignored', { what, why });
    record(`${what} ignored`, { why, payload: payload as Record<string, unknown> });
  };

  setHandler(getRefundRequestQuery, () => view);
  // Ops signals carry the sender's staff token; they are applied as the verified actor, in the process.
  const ops = new OpsSignals(
    (signal, { actor }) => {
      const payload = { ...withoutToken(signal.payload), agentId: actor };
      if (signal.name === 'returnReceived') {
        const problem = returnReceived ? 'already received' : receiptProblem();
        if (problem) return ignore('returnReceived', problem, payload);
        returnReceived = { by: actor };
        return;
      }
      if (decision) return ignore(signal.name, `already ${decision.decision.toLowerCase()} by ${decision.decidedBy}`, payload);
      const problem = signal.name === 'approveRefund' ? approvalProblem(payload as ApproveRefund) : rejectionProblem(payload as RejectRefund);
      if (problem) return ignore(signal.name, problem, payload);
      decide(signal.name === 'approveRefund' ? 'APPROVE' : 'REJECT', payload as ApproveRefund | RejectRefund, 'signal');
    },
    (signal, why) => ignore(signal.name, why, withoutToken(signal.payload)),
  );
  setHandler(approveRefundSignal, (approval) => ops.push({ name: 'approveRefund', payload: approval ?? {} }));
  setHandler(rejectRefundSignal, (rejection) => ops.push({ name: 'rejectRefund', payload: rejection ?? {} }));
  setHandler(
    decideRefundUpdate,
    async (request: DecideRefund) => {
      decide(request.decision, request, 'api');
      await condition(() => decisionRecorded);
      return snapshot(view);
    },
    {
      validator: (request: DecideRefund) => {
        if (decision) {
          throw ApplicationFailure.create({
            type: 'REFUND_ALREADY_DECIDED',
            message: `the request was already ${decision.decision.toLowerCase()} by ${decision.decidedBy} (${decision.channel})`,
            nonRetryable: true,
          });
        }
        const problem =
          request?.decision === 'APPROVE' ? approvalProblem(request) : request?.decision === 'REJECT' ? rejectionProblem(request) : 'decision must be APPROVE or REJECT';
        if (problem) throw ApplicationFailure.create({ type: 'INVALID_DECISION', message: problem, nonRetryable: true });
      },
    },
  );

  // --- the return: buyer's shipment and the warehouse's receipt --------------------------------------
  const shipmentProblem = (shipment: ReturnShipped): string | undefined => {
    if (view.status !== 'AWAITING_RETURN') return `the request is ${view.status}; no return shipment is expected`;
    if (typeof shipment?.carrier !== 'string' || !shipment.carrier.trim() || typeof shipment.trackingNumber !== 'string' || !shipment.trackingNumber.trim()) {
      return 'carrier and trackingNumber are required';
    }
    return undefined;
  };
  const receiptProblem = (): string | undefined =>
    view.status === 'AWAITING_RETURN' || view.status === 'RETURN_SHIPPED' ? undefined : `the request is ${view.status}; no return is expected`;
  setHandler(returnShippedSignal, (shipment) => {
    const problem = returnShipment ? 'already shipped' : shipmentProblem(shipment);
    if (problem) return ignore('returnShipped', problem, shipment);
    returnShipment = shipment;
  });
  setHandler(returnReceivedSignal, (receipt) => ops.push({ name: 'returnReceived', payload: receipt ?? {} }));
  setHandler(
    submitReturnShipmentUpdate,
    async (shipment) => {
      returnShipment = shipment;
      await condition(() => view.status !== 'AWAITING_RETURN');
      return snapshot(view);
    },
    {
      validator: (shipment: ReturnShipped) => {
        const problem = returnShipment ? 'the return was already shipped' : shipmentProblem(shipment);
        if (problem) throw new Error(problem);
      },
    },
  );
  setHandler(
    confirmReturnReceiptUpdate,
    async (receipt) => {
      returnReceived = receipt;
      await condition(() => view.status !== 'AWAITING_RETURN' && view.status !== 'RETURN_SHIPPED');
      return snapshot(view);
    },
    {
      validator: (_receipt: ReturnReceived) => {
        const problem = returnReceived ? 'the return was already received' : receiptProblem();
        if (problem) throw new Error(problem);
      },
    },
  );

  const order = getExternalWorkflowHandle(orderWorkflowId(input.orderId));
  const close = async (status: 'REJECTED' | 'CLOSED', reason: string) => {
    view.closedReason = reason;
    record(status === 'REJECTED' ? 'rejected' : 'closed', { reason }, status);
    await order.signal(refundClosedSignal, { requestId: input.requestId, status, reason });
    await project();
    return snapshot(view);
  };

  // --- the process -----------------------------------------------------------------------------------
  await project();
  await ops.waitUntil(() => decision !== undefined, input.timeouts.decisionMs, 'wait for a support agent (auto-approve at the deadline)');
  if (!decision) decision = { decision: 'APPROVED', decidedBy: 'system', channel: 'auto', approvedFen: input.amountFen, reason: 'no decision in time', decidedAt: now() };
  view.decision = decision;
  const { runId } = workflowInfo();
  await mustComplete.recordRefundDecision.executeWithOptions({ summary: `audit: ${decision.decision} by ${decision.decidedBy}` }, [
    { requestId: input.requestId, orderId: input.orderId, ...decision, workflowId, runId },
  ]);
  decisionRecorded = true;
  if (decision.decision === 'REJECTED') return close('REJECTED', decision.reason!);
  record('approved', { by: decision.decidedBy, channel: decision.channel, approvedFen: decision.approvedFen });

  if (input.kind === 'RETURN_AND_REFUND') {
    view.returnDueAt = afterMs(input.timeouts.returnShipmentMs);
    record('awaiting return', { returnDueAt: view.returnDueAt }, 'AWAITING_RETURN');
    await project();
    await ops.waitUntil(() => returnShipment !== undefined || returnReceived !== undefined, input.timeouts.returnShipmentMs, 'wait for the buyer to ship the goods back');
    if (!returnShipment && !returnReceived) return close('CLOSED', 'the goods were not shipped back in time');
    if (returnShipment) {
      view.returnShipment = { carrier: returnShipment.carrier.trim(), trackingNumber: returnShipment.trackingNumber.trim(), shippedAt: now() };
      record('return shipped', { carrier: view.returnShipment.carrier, trackingNumber: view.returnShipment.trackingNumber }, 'RETURN_SHIPPED');
      await project();
    }
    await ops.waitUntil(() => returnReceived !== undefined);
    view.returnReceivedAt = now();
    record('return received', { by: returnReceived!.by });
  }

  record('refunding', undefined, 'REFUNDING');
  await project();
  const plan = await mustComplete.planRefundExecution.executeWithOptions({ summary: 'ask the order what this refund carries' }, [
    { orderId: input.orderId, requestId: input.requestId, amountFen: decision.approvedFen! },
  ]);
  await executeRefund(input, plan, record);

  view.refundedFen = plan.amountFen;
  record('refunded', { amountFen: plan.amountFen }, 'REFUNDED');
  // The order first, then the projection: whoever reads REFUNDED finds the order knowing it too.
  await order.signal(refundCompletedSignal, { requestId: input.requestId, amountFen: plan.amountFen });
  await project();
  return snapshot(view);
}

function snapshot(view: RefundRequestView): RefundRequestView {
  return JSON.parse(JSON.stringify(view)) as RefundRequestView;
}
