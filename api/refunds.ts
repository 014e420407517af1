import { createHash } from 'node:crypto';
import { WorkflowUpdateStage, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createAfterSalesService } from '../modules/after-sales';
import { createOrderProjection } from '../modules/orders/projection';
import {
  confirmReturnReceiptUpdate,
  getRefundRequestQuery,
  refundWorkflowId,
  requestRefundUpdate,
  submitReturnShipmentUpdate,
  type RefundRequestView,
} from '../workflows/after-sales/definitions';
import { createOrderAccess } from './access';
import { createAuditTrail, type AuditTrail } from './audit';
import { actorName, principalOf, requireRole } from './auth';
import { problemResponse, registry } from './openapi';
import { conflict, notFound, ProblemError, unprocessable } from './problem';
import { isError, orderHandle, readFresh, readOrder, retryTransientRefusals } from './temporal';
import { idParams, idSchema, optionalIdempotencyKey, pathId, safeText } from './validation';

const RefundLineBody = z
  .object({ lineId: idSchema.optional(), skuId: idSchema.optional(), quantity: z.number().int().min(1).max(999) })
  .strict()
  .refine((line) => Boolean(line.lineId) !== Boolean(line.skuId), { message: 'name the line by lineId or by skuId (one of them)' });
export const RefundRequestBody = registry.register(
  'RefundRequest',
  z
    .object({
      kind: z.enum(['REFUND_ONLY', 'RETURN_AND_REFUND']),
      lines: z.array(RefundLineBody).min(1).max(50),
      reason: safeText(500).trim().min(1),
    })
    .strict(),
);
const ReturnShipmentBody = registry.register(
  'ReturnShipment',
  z.object({ carrier: safeText(64).trim().min(1), trackingNumber: safeText(64).trim().min(1) }).strict(),
);
const IdempotencyKey = optionalIdempotencyKey;

export const RefundRequestSchema = registry.register(
  'RefundRequestView',
  z.object({}).passthrough().openapi({ description: 'A refund request: lines, amounts, status, decision, return, timeline' }),
);
const refundResponse = (description: string) => ({ description, content: { 'application/json': { schema: RefundRequestSchema } } });
const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKey: [] }];
registry.registerPath({
  method: 'post',
  path: '/orders/{id}/refunds',
  summary: 'Ask for a refund (refund only, or return and refund) of order lines and quantities',
  security,
  request: {
    params: idParams,
    headers: z.object({ 'Idempotency-Key': optionalIdempotencyKey }),
    body: { content: { 'application/json': { schema: RefundRequestBody } } },
  },
  responses: {
    201: refundResponse('Requested: the amount is reserved and the request waits for support (a retry with the same key answers the same request)'),
    400: problemResponse('Invalid body'),
    404: problemResponse('No such order'),
    409: problemResponse('Not possible in the order state (not paid, window closed, being cancelled)'),
    422: problemResponse('More than is left to refund, unknown or fully refunded line, part of a flash-sale order before shipment (full refund only)'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/refunds/{id}',
  summary: 'One refund request (the buyer sees their own)',
  security,
  request: { params: idParams },
  responses: { 200: refundResponse('The request'), 404: problemResponse('No such request') },
});
registry.registerPath({
  method: 'post',
  path: '/refunds/{id}/return-shipment',
  summary: 'Return and refund: the buyer shipped the goods back',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: ReturnShipmentBody } } } },
  responses: { 200: refundResponse('Return shipped'), 404: problemResponse('No such request'), 409: problemResponse('No return expected') },
});
registry.registerPath({
  method: 'post',
  path: '/warehouse/refunds/{id}/received',
  summary: 'Return and refund: the warehouse received the returned goods (the refund is paid next)',
  security,
  request: { params: idParams },
  responses: { 200: refundResponse('Received'), 404: problemResponse('No such request'), 409: problemResponse('No return expected') },
});

/** Refusals of the order's validator that are about the request's content (422), not the order's state (409). */
const UNPROCESSABLE = new Set(['REFUND_EXCEEDS_REFUNDABLE', 'LINE_ALREADY_REFUNDED', 'UNKNOWN_ORDER_LINE', 'INVALID_REFUND_REQUEST', 'PARTIAL_REFUND_NOT_ALLOWED']);

export function refundRequestId(orderId: string, idempotencyKey: string): string {
  return `${orderId}-rf-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 12)}`;
}

/** Statuses after which a refund request's workflow has ended: its projection is final. */
const FINAL_REFUND_STATUSES = new Set<string>(['REFUNDED', 'REJECTED', 'CLOSED']);

/** Fresh from the request's workflow while it runs; its projection once closed, or when the query does not answer in time. */
export async function readRefundRequest(temporal: Client, pool: Pool, requestId: string): Promise<RefundRequestView> {
  const stored = await createAfterSalesService({ pool }).getRequest(requestId);
  return readFresh(temporal, `refund request ${requestId}`, stored, (view) => FINAL_REFUND_STATUSES.has(view.status), () =>
    temporal.workflow.getHandle(refundWorkflowId(requestId)).query(getRefundRequestQuery),
  );
}

/** The buyer's and the warehouse's after-sales endpoints. */
export function refundsRouter(deps: { pool: Pool; temporal: Client }): Router {
  const router = Router();
  const projection = createOrderProjection({ pool: deps.pool });
  const access = createOrderAccess({ pool: deps.pool });
  const trail = createAuditTrail(deps);

  router.post('/orders/:id/refunds', requireRole('customer'), async (req, res) => {
    const principal = principalOf(res);
    const key = IdempotencyKey.parse(req.get('idempotency-key') || undefined);
    const body = RefundRequestBody.parse(req.body);
    const order = await readOrder(deps.temporal, projection, pathId(req.params));
    if (principal.role === 'customer' && order.customerId !== principal.subject) throw notFound(`order ${order.orderId}`);
    const requestId = key ? refundRequestId(order.orderId, key) : undefined;
    let accepted;
    try {
      accepted = await retryTransientRefusals(order, () =>
        orderHandle(deps.temporal, order.orderId).executeUpdate(requestRefundUpdate, {
          args: [{ requestId, kind: body.kind, lines: body.lines, reason: body.reason, by: actorName(principal) }],
          ...(requestId ? { updateId: `refund-request:${requestId}` } : {}),
        }),
      );
    } catch (error) {
      if (isError(error, 'WorkflowUpdateFailedError')) {
        const cause = (error as Error).cause as (Error & { type?: string }) | undefined;
        const detail = cause?.message ?? (error as Error).message;
        if (cause?.type && UNPROCESSABLE.has(cause.type)) throw unprocessable('refund-refused', detail, { orderId: order.orderId, reason: cause.type });
        throw conflict(detail, { orderId: order.orderId, orderStatus: order.status, reason: cause?.type });
      }
      if (isError(error, 'WorkflowNotFoundError')) throw conflict(`order ${order.orderId} is ${order.status}; it accepts no more refund requests`);
      throw error;
    }
    res.setHeader('Location', `/refunds/${accepted.requestId}`);
    const view = await readRefundRequest(deps.temporal, deps.pool, accepted.requestId).catch(() => undefined);
    res.status(201).json(view ?? { ...accepted, status: 'PENDING' });
  });

  router.get('/refunds/:id', requireRole('customer', 'support', 'finance'), async (req, res) => {
    const principal = principalOf(res);
    const view = await readRefundRequest(deps.temporal, deps.pool, pathId(req.params));
    if (principal.role === 'customer' && view.customerId !== principal.subject) throw notFound(`refund request ${view.requestId}`);
    res.json(view);
  });

  router.post('/refunds/:id/return-shipment', requireRole('customer'), async (req, res) => {
    const principal = principalOf(res);
    const body = ReturnShipmentBody.parse(req.body);
    const view = await readRefundRequest(deps.temporal, deps.pool, pathId(req.params));
    if (principal.role === 'customer' && view.customerId !== principal.subject) throw notFound(`refund request ${view.requestId}`);
    res.json(await runRefundUpdate(deps.temporal, view, (handle) => handle.executeUpdate(submitReturnShipmentUpdate, { args: [body] })));
  });

  router.post('/warehouse/refunds/:id/received', requireRole('warehouse'), async (req, res) => {
    const principal = principalOf(res);
    const view = await readRefundRequest(deps.temporal, deps.pool, pathId(req.params));
    await access.assertWarehouseActsFor(principal, view.orderId, `refund request ${view.requestId}`);
    res.json(await auditedRefundUpdate(deps.temporal, trail, req, res, 'refund.return-received', view, confirmReturnReceiptUpdate, { by: actorName(principal) }));
  });

  return router;
}

/** A refund update by a person or partner, audited: accepted (with the run that took it) or refused (409). */
export async function auditedRefundUpdate<Arg>(
  temporal: Client,
  trail: AuditTrail,
  req: Request,
  res: Response,
  action: string,
  view: RefundRequestView,
  update: UpdateDefinition<RefundRequestView, [Arg]>,
  arg: Arg,
): Promise<RefundRequestView> {
  const base = { action, targetType: 'refund', targetId: view.requestId, workflowId: refundWorkflowId(view.requestId), details: arg as Record<string, unknown> };
  const before = { status: view.status };
  let runId: string | undefined;
  try {
    const result = await runRefundUpdate(temporal, view, async (handle) => {
      const sent = await handle.startUpdate(update, { args: [arg], waitForStage: WorkflowUpdateStage.ACCEPTED });
      runId = sent.workflowRunId;
      return sent.result();
    });
    await trail.record(req, res, { ...base, runId, before, after: { status: result.status } });
    return result;
  } catch (error) {
    if (error instanceof ProblemError && error.status === 409) await trail.record(req, res, { ...base, outcome: 'REFUSED', before, after: { refusal: error.message } });
    throw error;
  }
}

/** An update to a request's workflow: its validator's refusal, or a finished workflow, is 409. */
export async function runRefundUpdate(
  temporal: Client,
  view: RefundRequestView,
  send: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<RefundRequestView>,
): Promise<RefundRequestView> {
  try {
    return await send(temporal.workflow.getHandle(refundWorkflowId(view.requestId)));
  } catch (error) {
    if (isError(error, 'WorkflowUpdateFailedError')) {
      throw conflict(((error as Error).cause as Error | undefined)?.message ?? (error as Error).message, { requestId: view.requestId, requestStatus: view.status });
    }
    if (isError(error, 'WorkflowNotFoundError')) {
      throw conflict(`refund request ${view.requestId} is ${view.status}; it accepts no more actions`, { requestId: view.requestId, requestStatus: view.status });
    }
    throw error;
  }
}
