import { Router } from 'express';
import type { Pool } from 'pg';
import { orderSearchSchema, refundSearchSchema, searchOrders, searchRefunds } from '../modules/back-office';
import { requireRole } from './auth';
import { sendCsv, toCsv, wantsCsv } from './csv';
import { problemResponse, registry } from './openapi';

/**
 * Back office: find orders and refund requests by any of their filters, a page at a time (keyset:
 * `nextCursor` of a page → `cursor` of the next), or the same as a CSV export of that page. No
 * payment secrets or addresses in the rows: ids, amounts, states.
 */
const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];
registry.registerPath({
  method: 'get',
  path: '/admin/orders',
  summary: 'Search orders: status, phase, type, customer, SKU, campaign, placed from/to, amount range; keyset pages; CSV',
  security,
  request: { query: orderSearchSchema },
  responses: { 200: { description: '{ orders, nextCursor } or CSV' }, 400: problemResponse('Bad filter or cursor'), 403: problemResponse('Not support, merchant or admin') },
});
registry.registerPath({
  method: 'get',
  path: '/admin/refunds',
  summary: 'Search refund requests: status, kind, order, customer, SKU, requested from/to, amount range; keyset pages; CSV',
  security,
  request: { query: refundSearchSchema },
  responses: { 200: { description: '{ refunds, nextCursor } or CSV' }, 400: problemResponse('Bad filter or cursor'), 403: problemResponse('Not support, merchant or admin') },
});

export function backOfficeSearchRouter(deps: { pool: Pool; timeZone?: string }): Router {
  const router = Router();
  router.get('/admin/orders', requireRole('support', 'merchant'), async (req, res) => {
    const search = orderSearchSchema.parse(req.query);
    const page = await searchOrders(deps.pool, search, deps.timeZone);
    if (!wantsCsv(req, search.format)) return void res.json(page);
    if (page.nextCursor) res.setHeader('X-Next-Cursor', page.nextCursor);
    sendCsv(res, 'orders.csv', toCsv(
      ['order_id', 'customer_id', 'type', 'channel', 'status', 'phase', 'payable_fen', 'refunded_fen', 'created_at', 'campaign_id', 'skus'],
      page.orders.map((row) => [row.orderId, row.customerId, row.type, row.channel, row.status, row.phase, row.payableFen, row.refundedFen, row.createdAt, row.campaignId, row.skus.join(' ')]),
    ));
  });
  router.get('/admin/refunds', requireRole('support', 'merchant'), async (req, res) => {
    const search = refundSearchSchema.parse(req.query);
    const page = await searchRefunds(deps.pool, search, deps.timeZone);
    if (!wantsCsv(req, search.format)) return void res.json(page);
    if (page.nextCursor) res.setHeader('X-Next-Cursor', page.nextCursor);
    sendCsv(res, 'refunds.csv', toCsv(
      ['request_id', 'order_id', 'customer_id', 'kind', 'status', 'reason', 'requested_fen', 'refunded_fen', 'requested_at', 'decision_due_at'],
      page.refunds.map((row) => [row.requestId, row.orderId, row.customerId, row.kind, row.status, row.reason, row.requestedFen, row.refundedFen, row.requestedAt, row.decisionDueAt]),
    ));
  });
  return router;
}
