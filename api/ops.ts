import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createOrderProjection } from '../modules/orders/projection';
import { resolveManuallyUpdate, retryCompensationUpdate } from '../workflows/order/definitions';
import { actorName, principalOf, requireRole } from './auth';
import { problemResponse, registry } from './openapi';
import { createAuditTrail } from './audit';
import { readOrder } from './temporal';
import { idParams, pathId, safeText } from './validation';

const AttentionBody = registry.register('AttentionAction', z.object({ reason: safeText(2000).trim().min(1) }).strict());

const orderOk = { description: 'The order after the action', content: { 'application/json': { schema: z.object({}).passthrough() } } };
const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];
for (const [path, summary] of [
  ['/admin/orders/{id}/retry-compensation', 'Ops: try the step an order in NEEDS_ATTENTION is stuck on again (after fixing its cause)'],
  ['/admin/orders/{id}/resolve', 'Ops: record that the stuck step was done by hand; the order goes on'],
] as const) {
  registry.registerPath({
    method: 'post',
    path,
    summary,
    security,
    request: { params: idParams, body: { content: { 'application/json': { schema: AttentionBody } } } },
    responses: { 200: orderOk, 404: problemResponse('No such order'), 409: problemResponse('The order does not need attention') },
  });
}

/**
 * Ops' answers to an order in NEEDS_ATTENTION (role admin). The actor is the authenticated principal,
 * never a name in the body; the workflow audits it in orders.attention_actions.
 */
export function opsRouter(deps: { pool: Pool; temporal: Client }): Router {
  const router = Router();
  const projection = createOrderProjection({ pool: deps.pool });
  const trail = createAuditTrail(deps);
  const act = (update: typeof retryCompensationUpdate) =>
    async (req: import('express').Request, res: import('express').Response) => {
      const body = AttentionBody.parse(req.body);
      const principal = principalOf(res);
      const order = await readOrder(deps.temporal, projection, pathId(req.params));
      res.json(await trail.orderUpdate(req, res, `order.${update.name}`, order, update, { by: actorName(principal), reason: body.reason }));
    };
  router.post('/admin/orders/:id/retry-compensation', requireRole('admin'), act(retryCompensationUpdate));
  router.post('/admin/orders/:id/resolve', requireRole('admin'), act(resolveManuallyUpdate));
  return router;
}
