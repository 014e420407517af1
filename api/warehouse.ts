import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createOrderProjection } from '../modules/orders/projection';
import { confirmDeliveryUpdate, shipmentFailedUpdate, shipOrderUpdate } from '../workflows/order/definitions';
import { createOrderAccess } from './access';
import { principalOf, requireRole } from './auth';
import { problemResponse, registry } from './openapi';
import { createAuditTrail } from './audit';
import { readOrder, repeatableUpdateId } from './temporal';
import { idParams, pathId, safeText } from './validation';

const ShipBody = registry.register(
  'ShipmentDispatched',
  z.object({ carrier: safeText(64).trim().min(1), trackingNumber: safeText(64).trim().min(1) }).strict(),
);
const ShipmentFailedBody = registry.register('ShipmentFailed', z.object({ reason: safeText(500).trim().min(1) }).strict());

const orderOk = { description: 'The order after the change', content: { 'application/json': { schema: z.object({}).passthrough() } } };
const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];
registry.registerPath({
  method: 'post',
  path: '/warehouse/orders/{id}/ship',
  summary: 'The warehouse shipped a paid order (stock is deducted for good)',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: ShipBody } } } },
  responses: { 200: orderOk, 404: problemResponse('No such order'), 409: problemResponse('Not paid, or already shipped') },
});
registry.registerPath({
  method: 'post',
  path: '/warehouse/orders/{id}/shipment-failed',
  summary: 'The warehouse cannot ship (no stock after all, carrier refused): refund and compensate',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: ShipmentFailedBody } } } },
  responses: { 200: orderOk, 404: problemResponse('No such order'), 409: problemResponse('Not paid, or already shipped') },
});
registry.registerPath({
  method: 'post',
  path: '/carrier/orders/{id}/delivered',
  summary: 'The carrier confirms delivery',
  security,
  request: { params: idParams },
  responses: { 200: orderOk, 404: problemResponse('No such order'), 409: problemResponse('Not shipped') },
});

/** Endpoints for the warehouse (role warehouse, scoped to its warehouses) and the carrier (role carrier: delivery only). */
export function warehouseRouter(deps: { pool: Pool; temporal: Client }): Router {
  const router = Router();
  const projection = createOrderProjection({ pool: deps.pool });
  const access = createOrderAccess({ pool: deps.pool });
  const trail = createAuditTrail(deps);

  router.post('/warehouse/orders/:id/ship', requireRole('warehouse'), async (req, res) => {
    const body = ShipBody.parse(req.body);
    const order = await readOrder(deps.temporal, projection, pathId(req.params));
    await access.assertWarehouseActsFor(principalOf(res), order.orderId);
    // A repeat of the same shipment (a retry after a timeout) answers with the order it shipped.
    res.json(await trail.orderUpdate(req, res, 'order.ship', order, shipOrderUpdate, body, { updateId: repeatableUpdateId('ship', 'order', body.carrier, body.trackingNumber) }));
  });

  router.post('/warehouse/orders/:id/shipment-failed', requireRole('warehouse'), async (req, res) => {
    const body = ShipmentFailedBody.parse(req.body);
    const order = await readOrder(deps.temporal, projection, pathId(req.params));
    await access.assertWarehouseActsFor(principalOf(res), order.orderId);
    res.json(await trail.orderUpdate(req, res, 'order.shipment-failed', order, shipmentFailedUpdate, body, { updateId: repeatableUpdateId('shipment-failed', 'order', body.reason) }));
  });

  router.post('/carrier/orders/:id/delivered', requireRole('carrier'), async (req, res) => {
    const order = await readOrder(deps.temporal, projection, pathId(req.params));
    res.json(await trail.orderUpdate(req, res, 'order.delivered', order, confirmDeliveryUpdate, { by: 'carrier' }, { updateId: repeatableUpdateId('delivered', 'order', 'carrier') }));
  });

  return router;
}
