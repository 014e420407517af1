import type { Client } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createParcelService, type ParcelRow } from '../modules/logistics';
import { createOrderProjection } from '../modules/orders/projection';
import { carrierEventUpdate, parcelShipmentFailedUpdate, shipParcelUpdate } from '../workflows/order/definitions';
import { CARRIER_EVENT_CODES } from '../workflows/order/parcel-definitions';
import { parcelStatuses } from '../workflows/order/parcels';
import { createAuditTrail } from './audit';
import { ALL_WAREHOUSES, principalOf, requireRole, type Principal } from './auth';
import { problemResponse, registry } from './openapi';
import { notFound } from './problem';
import { readOrder, repeatableUpdateId } from './temporal';
import { idParams, idSchema, pathId, safeText } from './validation';

/**
 * Parcels (issue 13): a warehouse lists and ships (or fails) its own parcels, the carrier reports
 * tracking events, support lists parcels by status (EXCEPTION: the carrier reported a problem).
 * A warehouse scoped to some warehouses sees only their parcels; others are 404, so ids cannot be probed.
 */
const ParcelShipBody = registry.register(
  'ParcelShipment',
  z.object({ carrier: safeText(64).trim().min(1), trackingNumber: safeText(64).trim().min(1) }).strict(),
);
const ParcelFailedBody = registry.register('ParcelShipmentFailed', z.object({ reason: safeText(500).trim().min(1) }).strict());
const CarrierEventBody = registry.register(
  'CarrierEvent',
  z
    .object({
      eventId: idSchema,
      code: z.enum(CARRIER_EVENT_CODES),
      occurredAt: z.string().datetime({ offset: true }),
      location: safeText(200).optional(),
      description: safeText(500).optional(),
    })
    .strict(),
);
const ParcelListQuery = z.object({ status: z.enum(parcelStatuses as [string, ...string[]]).optional(), limit: z.coerce.number().int().min(1).max(500).optional() }).strict();

const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];
const orderOk = { description: 'The order after the change (its parcels in `parcels`)', content: { 'application/json': { schema: z.object({}).passthrough() } } };
const listOk = { description: 'Parcels, newest change first', content: { 'application/json': { schema: z.object({ parcels: z.array(z.object({}).passthrough()) }) } } };
registry.registerPath({ method: 'get', path: '/warehouse/parcels', summary: "The caller's warehouses' parcels, by status", security, request: { query: ParcelListQuery }, responses: { 200: listOk } });
registry.registerPath({
  method: 'post',
  path: '/warehouse/parcels/{id}/ship',
  summary: 'The warehouse shipped one parcel (its stock is deducted for good; the order is SHIPPED from the first parcel)',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: ParcelShipBody } } } },
  responses: { 200: orderOk, 404: problemResponse('No such parcel (or not one of your warehouses)'), 409: problemResponse('Order not paid, or parcel already reported') },
});
registry.registerPath({
  method: 'post',
  path: '/warehouse/parcels/{id}/shipment-failed',
  summary: "The warehouse cannot ship one parcel: its lines and freight share are refunded, its stock released (the order's last parcel: the order is cancelled)",
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: ParcelFailedBody } } } },
  responses: { 200: orderOk, 404: problemResponse('No such parcel (or not one of your warehouses)'), 409: problemResponse('Order not paid, or parcel already reported') },
});
registry.registerPath({
  method: 'post',
  path: '/carrier/parcels/{id}/events',
  summary: 'A carrier tracking event (idempotent by eventId; never moves a parcel backwards; DELIVERED delivers it)',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: CarrierEventBody } } } },
  responses: { 200: orderOk, 404: problemResponse('No such parcel'), 409: problemResponse('Parcel not shipped, or the order takes no more events') },
});
registry.registerPath({ method: 'get', path: '/support/parcels', summary: 'Parcels by status (EXCEPTION: the carrier reported a problem)', security, request: { query: ParcelListQuery }, responses: { 200: listOk } });

/** What a list shows of a parcel. */
function listed(row: ParcelRow) {
  const { parcel } = row;
  return { ...parcel, orderId: row.orderId, updatedAt: row.updatedAt };
}

function scopeOf(principal: Principal): readonly string[] | 'all' {
  if (principal.role !== 'warehouse') return 'all';
  const scope = principal.warehouseIds ?? [];
  return scope.includes(ALL_WAREHOUSES) ? 'all' : scope;
}

export function parcelsRouter(deps: { pool: Pool; temporal: Client }): Router {
  const router = Router();
  const parcels = createParcelService({ pool: deps.pool });
  const projection = createOrderProjection({ pool: deps.pool });
  const trail = createAuditTrail(deps);

  /** The parcel of the path, for this caller: 404 when it does not exist or is not one of a scoped warehouse's. */
  async function parcelFor(req: Request, res: Response): Promise<ParcelRow> {
    const parcelId = pathId(req.params);
    const row = await parcels.get(parcelId);
    const scope = scopeOf(principalOf(res));
    if (!row || (scope !== 'all' && (row.warehouseId === null || !scope.includes(row.warehouseId)))) throw notFound(`parcel ${parcelId}`);
    return row;
  }

  router.get('/warehouse/parcels', requireRole('warehouse'), async (req, res) => {
    const query = ParcelListQuery.parse(req.query);
    const rows = await parcels.list({ warehouseIds: scopeOf(principalOf(res)), status: query.status as ParcelRow['status'] | undefined, limit: query.limit });
    res.json({ parcels: rows.map(listed) });
  });

  router.post('/warehouse/parcels/:id/ship', requireRole('warehouse'), async (req, res) => {
    const body = ParcelShipBody.parse(req.body);
    const row = await parcelFor(req, res);
    const order = await readOrder(deps.temporal, projection, row.orderId);
    res.json(await trail.orderUpdate(req, res, 'parcel.ship', order, shipParcelUpdate, { parcelId: row.parcelId, ...body }, { updateId: repeatableUpdateId('ship', row.parcelId, body.carrier, body.trackingNumber) }));
  });

  router.post('/warehouse/parcels/:id/shipment-failed', requireRole('warehouse'), async (req, res) => {
    const body = ParcelFailedBody.parse(req.body);
    const row = await parcelFor(req, res);
    const order = await readOrder(deps.temporal, projection, row.orderId);
    res.json(await trail.orderUpdate(req, res, 'parcel.shipment-failed', order, parcelShipmentFailedUpdate, { parcelId: row.parcelId, ...body }, { updateId: repeatableUpdateId('shipment-failed', row.parcelId, body.reason) }));
  });

  router.post('/carrier/parcels/:id/events', requireRole('carrier'), async (req, res) => {
    const body = CarrierEventBody.parse(req.body);
    const row = await parcelFor(req, res);
    const order = await readOrder(deps.temporal, projection, row.orderId);
    res.json(await trail.orderUpdate(req, res, 'parcel.carrier-event', order, carrierEventUpdate, { parcelId: row.parcelId, ...body }));
  });

  router.get('/support/parcels', requireRole('support'), async (req, res) => {
    const query = ParcelListQuery.parse(req.query);
    const rows = await parcels.list({ warehouseIds: 'all', status: query.status as ParcelRow['status'] | undefined, limit: query.limit });
    res.json({ parcels: rows.map(listed) });
  });

  return router;
}
