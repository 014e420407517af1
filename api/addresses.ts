import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createOrderProjection } from '../modules/orders/projection';
import { savedAddressSchema } from '../modules/logistics';
import type { ShippingAddress } from '../workflows/order/shipping-definitions';
import { changeAddressUpdate, type OrderView } from '../workflows/order/definitions';
import { createAuditTrail } from './audit';
import { actorName, principalOf, requireRole, type Principal } from './auth';
import { createOrderAccess } from './access';
import { problemResponse, registry } from './openapi';
import { notFound } from './problem';
import { createShippingChecks, ShippingAddressBody } from './shipping';
import { readOrder, sendOrderUpdate } from './temporal';
import { idParams, idSchema } from './validation';

/**
 * Shipping addresses in the API: a member's saved addresses (`/members/me/addresses`, the buyer's
 * own only, every change audited without the address itself) and the buyer's change of an order's
 * address before shipment (`POST /orders/{id}/address`, an update the order's policy decides).
 */
const SavedAddressBody = registry.register('SavedAddress', z.object(savedAddressSchema.shape).strict());
const AddressParams = z.object({ addressId: idSchema });
const ChangeAddressBody = z.object({ address: ShippingAddressBody }).strict();
const security: Record<string, string[]>[] = [{ bearerAuth: [] }];
const listed = { description: 'Saved addresses', content: { 'application/json': { schema: z.object({ addresses: z.array(SavedAddressBody) }) } } };
const one = (description: string) => ({ description, content: { 'application/json': { schema: SavedAddressBody } } });
registry.registerPath({ method: 'get', path: '/members/me/addresses', summary: "The buyer's saved addresses", security, responses: { 200: listed } });
registry.registerPath({
  method: 'post',
  path: '/members/me/addresses',
  summary: 'Save an address (the first is the default)',
  security,
  request: { body: { content: { 'application/json': { schema: SavedAddressBody } } } },
  responses: { 201: one('Saved'), 400: problemResponse('Invalid address (field errors)'), 422: problemResponse('Too many addresses') },
});
registry.registerPath({
  method: 'put',
  path: '/members/me/addresses/{addressId}',
  summary: 'Replace a saved address',
  security,
  request: { params: AddressParams, body: { content: { 'application/json': { schema: SavedAddressBody } } } },
  responses: { 200: one('Saved'), 400: problemResponse('Invalid address'), 404: problemResponse('No such address') },
});
registry.registerPath({
  method: 'delete',
  path: '/members/me/addresses/{addressId}',
  summary: 'Delete a saved address',
  security,
  request: { params: AddressParams },
  responses: { 204: { description: 'Deleted' }, 404: problemResponse('No such address') },
});
registry.registerPath({
  method: 'post',
  path: '/orders/{id}/address',
  summary: 'Change the shipping address before shipment',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: ChangeAddressBody } } } },
  responses: {
    200: { description: 'The order with its new address', content: { 'application/json': { schema: z.object({}).passthrough() } } },
    400: problemResponse('Invalid address (field errors)'),
    404: problemResponse('No such order'),
    409: problemResponse('Shipped already (or not changeable in its state)'),
    422: problemResponse('Not delivered there, or the freight there is higher than the order paid'),
  },
});

export function addressesRouter(deps: { pool: Pool; temporal: Client }): Router {
  const router = Router();
  const shipping = createShippingChecks({ pool: deps.pool });
  const { addresses } = shipping;
  const trail = createAuditTrail(deps);
  const projection = createOrderProjection({ pool: deps.pool });
  const access = createOrderAccess({ pool: deps.pool });
  const audit = (req: Parameters<typeof trail.record>[0], res: Parameters<typeof trail.record>[1], action: string, addressId: string) =>
    trail.record(req, res, { action: `address.${action}`, targetType: 'member_address', targetId: addressId });

  router.get('/members/me/addresses', requireRole('customer'), async (_req, res) => {
    res.json({ addresses: await addresses.list(principalOf(res).subject) });
  });

  router.post('/members/me/addresses', requireRole('customer'), async (req, res) => {
    const body = savedAddressSchema.parse(req.body);
    const { isDefault: _default, ...address } = body;
    await shipping.validate(address, '');
    const saved = await addresses.create(principalOf(res).subject, body);
    await audit(req, res, 'create', saved.addressId);
    res.status(201).json(saved);
  });

  router.put('/members/me/addresses/:addressId', requireRole('customer'), async (req, res) => {
    const { addressId } = AddressParams.parse(req.params);
    const body = savedAddressSchema.parse(req.body);
    const { isDefault: _default, ...address } = body;
    await shipping.validate(address, '');
    const saved = await addresses.update(principalOf(res).subject, addressId, body);
    if (!saved) throw notFound(`address ${addressId}`);
    await audit(req, res, 'update', addressId);
    res.json(saved);
  });

  router.delete('/members/me/addresses/:addressId', requireRole('customer'), async (req, res) => {
    const { addressId } = AddressParams.parse(req.params);
    if (!(await addresses.remove(principalOf(res).subject, addressId))) throw notFound(`address ${addressId}`);
    await audit(req, res, 'delete', addressId);
    res.status(204).end();
  });

  /** The buyer (or support for them) changes where the order ships; the order's policy answers (409 after shipment). */
  router.post('/orders/:id/address', requireRole('customer', 'support'), async (req, res) => {
    const principal = principalOf(res);
    const { id } = idParams.parse(req.params);
    const { address } = ChangeAddressBody.parse(req.body);
    const order = await readOrder(deps.temporal, projection, id);
    await access.assertCanSee(principal, order);
    await shipping.assertChangeKeepsFreight(address, order);
    const change = { address, by: actorName(principal) };
    const base = { action: 'order.change-address', targetType: 'order', targetId: order.orderId, workflowId: `order-${order.orderId}`, before: { status: order.status } };
    try {
      const { view, runId } = await sendOrderUpdate(deps.temporal, order, changeAddressUpdate, change);
      await trail.record(req, res, { ...base, runId, after: { status: view.status, addressVersion: view.shipping?.addressVersion } });
    } catch (error) {
      if ((error as { status?: number }).status === 409) await trail.record(req, res, { ...base, outcome: 'REFUSED', after: { refusal: (error as Error).message } });
      throw error;
    }
    res.json(await withAddress(await readOrder(deps.temporal, projection, order.orderId), principal, addresses));
  });

  return router;
}

/** The order as a reader sees it: the buyer, the warehouse, support and admin see where it ships; finance does not. */
export async function withAddress(
  order: OrderView,
  principal: Principal,
  addresses: { orderAddress(orderId: string): Promise<ShippingAddress | undefined> },
): Promise<OrderView & { shippingAddress?: ShippingAddress }> {
  if (!['customer', 'warehouse', 'support', 'admin'].includes(principal.role)) return order;
  const shippingAddress = await addresses.orderAddress(order.orderId);
  return shippingAddress ? { ...order, shippingAddress } : order;
}
