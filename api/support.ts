import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createAfterSalesService } from '../modules/after-sales';
import { decideRefundUpdate, type RefundRequestView } from '../workflows/after-sales/definitions';
import { principalOf, requireRole } from './auth';
import { problemResponse, registry } from './openapi';
import { unprocessable } from './problem';
import { createAuditTrail } from './audit';
import { auditedRefundUpdate, readRefundRequest, RefundRequestSchema } from './refunds';
import { idParams, pathId, safeText } from './validation';

const ListQuery = z
  .object({
    status: z.enum(['PENDING', 'AWAITING_RETURN', 'RETURN_SHIPPED', 'REFUNDING', 'REFUNDED', 'REJECTED', 'CLOSED']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
const ApproveBody = registry.register('ApproveRefund', z.object({ amountFen: z.number().int().min(1).optional() }).strict());
const RejectBody = registry.register('RejectRefund', z.object({ reason: safeText(1000).trim().min(1) }).strict());

const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];
const viewResponse = (description: string) => ({ description, content: { 'application/json': { schema: RefundRequestSchema } } });
registry.registerPath({
  method: 'get',
  path: '/support/refunds',
  summary: 'Refund requests for support agents, oldest first, with the order summary and the time left before auto-approval',
  security,
  request: { query: ListQuery },
  responses: {
    200: { description: 'Requests', content: { 'application/json': { schema: z.object({ requests: z.array(RefundRequestSchema) }) } } },
    403: problemResponse('Not a support agent'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/support/refunds/{id}',
  summary: 'One refund request with its decision audit',
  security,
  request: { params: idParams },
  responses: { 200: viewResponse('The request'), 403: problemResponse('Not a support agent'), 404: problemResponse('No such request') },
});
registry.registerPath({
  method: 'post',
  path: '/support/refunds/{id}/approve',
  summary: 'Approve a pending request (optionally a smaller amount)',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: ApproveBody } } } },
  responses: {
    200: viewResponse('Approved'),
    403: problemResponse('Not a support agent'),
    404: problemResponse('No such request'),
    409: problemResponse('No longer pending (already decided, auto-approved)'),
    422: problemResponse('More than requested'),
  },
});
registry.registerPath({
  method: 'post',
  path: '/support/refunds/{id}/reject',
  summary: 'Reject a pending request with a reason',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: RejectBody } } } },
  responses: {
    200: viewResponse('Rejected'),
    400: problemResponse('No reason'),
    403: problemResponse('Not a support agent'),
    404: problemResponse('No such request'),
    409: problemResponse('No longer pending (already decided, auto-approved)'),
  },
});

/** What an agent sees of a request: its state plus how long before it is approved automatically. */
function forAgent(view: RefundRequestView, nowMs = Date.now()) {
  const pending = view.status === 'PENDING';
  return { ...view, timeLeftMs: pending ? Math.max(0, Date.parse(view.decisionDueAt) - nowMs) : null };
}

/** Support agents (role support; admin too): list requests from PostgreSQL, decide through the workflow. */
export function supportRouter(deps: { pool: Pool; temporal: Client }): Router {
  const router = Router();
  const afterSales = createAfterSalesService({ pool: deps.pool });
  const trail = createAuditTrail(deps);
  router.use('/support/refunds', requireRole('support'));

  router.get('/support/refunds', async (req, res) => {
    const query = ListQuery.parse(req.query);
    const requests = await afterSales.listRequests({ status: query.status, limit: query.limit });
    const nowMs = Date.now();
    res.json({ requests: requests.map((view) => forAgent(view, nowMs)) });
  });

  router.get('/support/refunds/:id', async (req, res) => {
    const requestId = pathId(req.params);
    const view = await readRefundRequest(deps.temporal, deps.pool, requestId);
    res.json({ ...forAgent(view), audit: await afterSales.decisions({ requestId }) });
  });

  router.post('/support/refunds/:id/approve', async (req, res) => {
    const body = ApproveBody.parse(req.body ?? {});
    const view = await known(pathId(req.params));
    if (body.amountFen !== undefined && body.amountFen > view.requestedFen) {
      throw unprocessable('approval-exceeds-request', `at most ${view.requestedFen} fen was requested`, { requestId: view.requestId });
    }
    const agentId = principalOf(res).subject;
    const decision = { decision: 'APPROVE' as const, agentId, amountFen: body.amountFen };
    res.json(forAgent(await auditedRefundUpdate(deps.temporal, trail, req, res, 'refund.approve', view, decideRefundUpdate, decision)));
  });

  router.post('/support/refunds/:id/reject', async (req, res) => {
    const body = RejectBody.parse(req.body ?? {});
    const view = await known(pathId(req.params));
    const agentId = principalOf(res).subject;
    const decision = { decision: 'REJECT' as const, agentId, reason: body.reason };
    res.json(forAgent(await auditedRefundUpdate(deps.temporal, trail, req, res, 'refund.reject', view, decideRefundUpdate, decision)));
  });

  async function known(requestId: string): Promise<RefundRequestView> {
    // The workflow answers first (its projection may lag a moment behind a request just made).
    return readRefundRequest(deps.temporal, deps.pool, requestId);
  }

  return router;
}
