import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createCatalogService, upsertProductSchema, upsertSkuSchema } from '../modules/catalog';
import { createInventoryService } from '../modules/inventory';
import { adjustStockSchema, transferStockSchema } from '../modules/inventory/adjustments';
import { createMarketingService } from '../modules/marketing';
import { DomainError } from '../modules/shared/errors';
import { createAuditService } from '../modules/audit';
import { requestIdOf } from './audit';
import { principalOf, requireRole } from './auth';
import { ProblemError } from './problem';

/**
 * Back-office routes over the modules' own services: catalog (products, SKUs and their prices),
 * stock (receive, adjust with a reason, transfer), coupons (templates, issue to members) and
 * low-stock alerts. Every change needs an Idempotency-Key and is written to the audit trail
 * (audit.events, action `back-office.<change>`, once per key) with the authenticated actor and the
 * request id; a refusal of the module is 409, a bad body 400 (nothing written).
 */
const idempotencyKey = z.string().trim().min(8).max(200);
const ReceiveBody = z.strictObject({ skuId: z.string(), warehouseId: z.string(), quantity: z.number() });
const AdjustBody = z.strictObject({ skuId: z.string(), warehouseId: z.string(), delta: z.number(), reason: z.string() });
const TransferBody = z.strictObject({ skuId: z.string(), fromWarehouseId: z.string(), toWarehouseId: z.string(), quantity: z.number() });
const IssueBody = z.strictObject({ templateId: z.string().min(1).max(200), memberIds: z.array(z.string().min(1).max(200)).min(1).max(1_000) });

export function backOfficeAdminRouter(deps: { pool: Pool }): Router {
  const router = Router();
  const catalog = createCatalogService({ pool: deps.pool });
  const inventory = createInventoryService({ pool: deps.pool });
  const marketing = createMarketingService({ pool: deps.pool });
  const audit = createAuditService({ pool: deps.pool });
  const staff = requireRole('merchant');

  /** Runs a change once per Idempotency-Key and audits it; a module's refusal is 409. */
  async function change(req: Request, res: Response, action: string, target: [type: string, id: string], details: unknown, run: (key: string) => Promise<unknown>) {
    const key = idempotencyKey.parse(req.get('idempotency-key'), { error: () => 'send an Idempotency-Key header (8-200 characters)' });
    const principal = principalOf(res);
    let result: unknown;
    try {
      result = await run(`back-office:${action}:${key}`);
    } catch (error) {
      if (error instanceof DomainError) throw new ProblemError(409, 'refused', 'Refused', error.message, { code: error.code });
      throw error;
    }
    await audit.record({
      actor: principal.subject,
      actorRole: principal.role,
      action: `back-office.${action}`,
      targetType: target[0],
      targetId: target[1],
      details: typeof details === 'object' && details !== null && !Array.isArray(details) ? (details as Record<string, unknown>) : { value: details },
      requestId: requestIdOf(req, res),
      idempotencyKey: `back-office:${action}:${key}`,
    });
    res.json(result);
  }

  router.get('/admin/catalog/products', staff, async (_req, res) => res.json({ products: await catalog.listProducts() }));
  router.put('/admin/catalog/products/:id', staff, (req, res) => {
    const input = upsertProductSchema.parse({ ...req.body, id: req.params.id });
    return change(req, res, 'upsert-product', ['product', String(input.id)], input, () => catalog.upsertProduct(input));
  });
  router.put('/admin/catalog/skus/:id', staff, (req, res) => {
    const input = upsertSkuSchema.parse({ ...req.body, id: req.params.id });
    return change(req, res, 'upsert-sku', ['sku', String(input.id)], input, () => catalog.upsertSku(input));
  });

  router.get('/admin/stock/:skuId', staff, async (req, res) => res.json(await inventory.getStock(String(req.params.skuId))));
  router.post('/admin/stock/receive', staff, (req, res) => {
    const body = ReceiveBody.parse(req.body);
    return change(req, res, 'receive-stock', ['sku', String(body.skuId)], body, (key) => inventory.receiveStock({ ...body, idempotencyKey: key }));
  });
  router.post('/admin/stock/adjust', staff, (req, res) => {
    const body = adjustStockSchema.omit({ idempotencyKey: true }).parse(AdjustBody.parse(req.body));
    return change(req, res, 'adjust-stock', ['sku', String(body.skuId)], body, (key) => inventory.adjustStock({ ...body, idempotencyKey: key }));
  });
  router.post('/admin/stock/transfer', staff, (req, res) => {
    const body = TransferBody.parse(req.body);
    transferStockSchema.parse({ ...body, idempotencyKey: 'check' });
    return change(req, res, 'transfer-stock', ['sku', String(body.skuId)], body, (key) => inventory.transferStock({ ...body, idempotencyKey: key }));
  });

  router.post('/admin/coupons/templates', staff, (req, res) =>
    change(req, res, 'create-coupon-template', ['coupon-template', String(req.body?.id)], req.body, () => marketing.createCouponTemplate(req.body)));
  router.post('/admin/coupons/issue', staff, (req, res) => {
    const body = IssueBody.parse(req.body);
    return change(req, res, 'issue-coupons', ['coupon-template', String(body.templateId)], body, async (key) => ({
      coupons: await Promise.all(body.memberIds.map((memberId) => marketing.issueCoupon({ idempotencyKey: `${key}:${memberId}`, templateId: body.templateId, memberId }))),
    }));
  });

  router.get('/admin/alerts/low-stock', staff, async (req, res) => {
    const includeAcknowledged = z.enum(['true', 'false']).optional().parse(req.query.includeAcknowledged) === 'true';
    res.json({ alerts: await inventory.listLowStockAlerts({ includeAcknowledged }) });
  });
  router.post('/admin/alerts/low-stock/:id/acknowledge', staff, (req, res) =>
    change(req, res, 'acknowledge-alert', ['low-stock-alert', String(req.params.id)], {}, () => inventory.acknowledgeAlert(String(req.params.id))));

  return router;
}
