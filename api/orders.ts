import { createHash } from 'node:crypto';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createOrderProjection } from '../modules/orders/projection';
import * as sa from '../workflows/search-attributes';
import {
  cancelOrderUpdate,
  confirmDeliveryUpdate,
  orderWorkflowId,
  placementResultUpdate,
  type OrderView,
  type PlaceOrderInput,
} from '../workflows/order/definitions';
import type { standardOrderWorkflow } from '../workflows/order/types/standard';
import { createOrderAccess } from './access';
import { createAuditTrail } from './audit';
import { actorName, principalOf, requireRole, type Principal } from './auth';
import { problemResponse, registry } from './openapi';
import { conflict, notFound, ProblemError, unprocessable } from './problem';
import type { ApiSettings } from './settings';
import { isError, orderHandle, readOrder, runOrderUpdate } from './temporal';
import { idempotencyKeySchema, idParams, idSchema, pathId, safeText } from './validation';
import { createPlacementChecks } from './placement-checks';
import { channelFor, createShippingChecks, shippingFields } from './shipping';
import { withAddress } from './addresses';

const OrderLineRequest = z.object({
  skuId: idSchema,
  quantity: z.number().int().min(1).max(999),
});

export const PlaceOrderRequest = registry.register(
  'PlaceOrderRequest',
  z
    .object({
      /** Only admins place orders for someone else; a customer's orders are always their own. */
      customerId: idSchema.optional(),
      lines: z
        .array(OrderLineRequest)
        .min(1)
        .max(50)
        .refine((lines) => new Set(lines.map((line) => line.skuId)).size === lines.length, {
          message: 'each SKU may appear once; combine the quantities',
        }),
      couponId: idSchema.optional(),
      pointsToRedeem: z.number().int().min(0).max(10_000_000).optional(),
      ...shippingFields,
    })
    .strict(),
);

const CancelRequestBody = z.object({ reason: safeText(500).trim().min(1).default('cancelled by the buyer') }).strict();
const ListQuery = z
  .object({
    customerId: idSchema.optional(),
    status: idSchema.max(32).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();
const IdempotencyKeyHeader = idempotencyKeySchema;

const OrderSchema = registry.register('Order', z.object({}).passthrough().openapi({ description: 'OrderView: state, lines with price breakdown, payment, timeline' }));
const orderResponse = (description: string) => ({ description, content: { 'application/json': { schema: OrderSchema } } });
const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKey: [] }];
registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
registry.registerPath({
  method: 'post',
  path: '/orders',
  summary: 'Place a standard order (prices it, reserves stock, locks the coupon, holds points, creates the payment intent)',
  security,
  request: {
    headers: z.object({ 'Idempotency-Key': IdempotencyKeyHeader }),
    body: { content: { 'application/json': { schema: PlaceOrderRequest } } },
  },
  responses: {
    201: orderResponse('Placed: PENDING_PAYMENT with the payment intent (a retry with the same key answers the same order)'),
    400: problemResponse('Invalid body or missing Idempotency-Key'),
    401: problemResponse('Not authenticated'),
    422: problemResponse('Rejected (out of stock, coupon not usable, too many points...) or the key was used with another body'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/orders/{id}',
  summary: 'One order with lines, price breakdown, payment and timeline',
  security,
  request: { params: idParams },
  responses: { 200: orderResponse('The order'), 404: problemResponse('No such order (or not yours)') },
});
registry.registerPath({
  method: 'get',
  path: '/orders',
  summary: "A customer's orders, newest first",
  security,
  request: { query: ListQuery },
  responses: { 200: { description: 'Orders', content: { 'application/json': { schema: z.object({ orders: z.array(OrderSchema) }) } } } },
});
registry.registerPath({
  method: 'post',
  path: '/orders/{id}/cancel',
  summary: 'Cancel before shipment: refund if paid, release stock, return coupon and points',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: CancelRequestBody } } } },
  responses: { 200: orderResponse('Cancelled'), 404: problemResponse('No such order'), 409: problemResponse('Not cancellable in its state') },
});
registry.registerPath({
  method: 'post',
  path: '/orders/{id}/confirm-delivery',
  summary: 'The buyer confirms delivery',
  security,
  request: { params: idParams },
  responses: { 200: orderResponse('Delivered'), 404: problemResponse('No such order'), 409: problemResponse('Not shipped') },
});

export interface OrdersDeps {
  pool: Pool;
  temporal: Client;
  settings: ApiSettings;
}

/** The order id is derived from the customer and the Idempotency-Key: a retry finds the same workflow. */
export function orderIdFor(customerId: string, idempotencyKey: string): string {
  return 'ord_' + createHash('sha256').update(`${customerId}\n${idempotencyKey}`).digest('hex').slice(0, 24);
}

function requestHash(customerId: string, body: unknown): string {
  return createHash('sha256').update(JSON.stringify({ customerId, body })).digest('hex');
}

/** A customer may only see their own orders; others get 404 so order ids are not probed. */
export function assertCanSee(principal: Principal, order: OrderView): void {
  if (principal.role === 'customer' && order.customerId !== principal.subject) throw notFound(`order ${order.orderId}`);
}

export function ordersRouter(deps: OrdersDeps): Router {
  const router = Router();
  const projection = createOrderProjection({ pool: deps.pool });
  const checks = createPlacementChecks({ pool: deps.pool });
  const shipping = createShippingChecks({ pool: deps.pool });
  const access = createOrderAccess({ pool: deps.pool });
  const trail = createAuditTrail(deps);

  router.post('/orders', requireRole('customer'), async (req, res) => {
    const principal = principalOf(res);
    const idempotencyKey = IdempotencyKeyHeader.parse(req.get('idempotency-key'));
    const body = PlaceOrderRequest.parse(req.body);
    const customerId = principal.role === 'admin' && body.customerId ? body.customerId : principal.subject;
    if (principal.role === 'customer' && body.customerId && body.customerId !== principal.subject) {
      throw new ProblemError(403, 'forbidden', 'Forbidden', 'customers place orders for themselves only');
    }
    const channel = channelFor(principal, body.channel);
    // Refusals the workflow would only meet after money moved, before the key or anything else is
    // written: all read in one statement; the first refusal in this order answers.
    const read = await checks.read({
      customerId,
      skuIds: body.lines.map((line) => line.skuId),
      shipping: body,
      unpaid: { orderId: orderIdFor(customerId, idempotencyKey), cap: deps.settings.limits?.unpaidOrdersPerCustomer },
    });
    read.assertMember();
    read.assertSkus();
    const shippingAddress = await read.shippingAddress();
    read.assertUnpaidBelowCap();

    // Same key, different request: refuse rather than silently answering with another order.
    const hash = requestHash(customerId, { ...body, customerId: undefined });
    if ((await claimIdempotencyKey(deps.pool, customerId, idempotencyKey, hash)) !== hash) {
      throw unprocessable('idempotency-key-reused', 'this Idempotency-Key was already used with a different request body');
    }

    const orderId = orderIdFor(customerId, idempotencyKey);
    const input: PlaceOrderInput = {
      orderId,
      customerId,
      lines: body.lines,
      couponId: body.couponId,
      pointsToRedeem: body.pointsToRedeem,
      currency: 'CNY',
      shippingAddress,
      channel,
      placedAt: new Date().toISOString(),
    };
    // The workflow id is the order id: a concurrent or repeated start finds the running workflow.
    // Update-with-start: the start and the wait for the placement decision are one call to Temporal.
    const start = new WithStartWorkflowOperation<typeof standardOrderWorkflow>('standardOrderWorkflow', {
      taskQueue: deps.settings.taskQueue,
      workflowId: orderWorkflowId(orderId),
      // An order id is used once: a retried key after the run closed finds that run, never starts a second.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      args: [input, deps.settings.orderTimeouts],
      typedSearchAttributes: [
        { key: sa.OrderId, value: orderId },
        { key: sa.CustomerId, value: customerId },
        { key: sa.OrderType, value: 'STANDARD' },
        { key: sa.OrderStatus, value: 'PLACING' },
        { key: sa.OrderPhase, value: 'PLACING' },
        { key: sa.SalesChannel, value: channel.kind },
      ],
      memo: { customerId, lineCount: body.lines.length },
      staticSummary: `Standard order ${orderId} for ${customerId}`,
    });
    const order = await placeWithStart(deps, start, orderId, projection);
    const handle = await start.workflowHandle().catch(() => deps.temporal.workflow.getHandle(orderWorkflowId(orderId)));
    if (principal.role === 'admin') {
      await trail.record(req, res, {
        action: 'order.place-for-customer',
        targetType: 'order',
        targetId: orderId,
        outcome: order.status === 'REJECTED' ? 'REFUSED' : 'ACCEPTED',
        after: { status: order.status },
        details: { lines: body.lines, couponId: body.couponId, pointsToRedeem: body.pointsToRedeem, channel, customerId },
        workflowId: handle.workflowId,
        runId: (handle as { firstExecutionRunId?: string }).firstExecutionRunId,
      });
    }
    res.setHeader('Location', `/orders/${orderId}`);
    if (order.status === 'REJECTED') {
      throw unprocessable('order-rejected', order.rejection?.message ?? 'the order was rejected', {
        orderId,
        reason: order.rejection?.code,
      });
    }
    res.status(201).json(order);
  });

  router.get('/orders/:id', requireRole('customer', 'support', 'finance', 'warehouse'), async (req, res) => {
    const orderId = pathId(req.params);
    // The projection holds the view and its address as of the same save: one statement reads both.
    const stored = await projection.getWithAddress(orderId);
    const order = stored?.view ?? (await readOrder(deps.temporal, projection, orderId));
    await access.assertCanSee(principalOf(res), order);
    res.json(await withAddress(order, principalOf(res), stored ? { orderAddress: async () => stored.shippingAddress } : shipping.addresses));
  });

  router.get('/orders', requireRole('customer', 'support', 'finance'), async (req, res) => {
    const principal = principalOf(res);
    const query = ListQuery.parse(req.query);
    const customerId = query.customerId ?? (principal.role === 'customer' ? principal.subject : undefined);
    if (!customerId) throw new ProblemError(400, 'validation', 'Invalid request', 'customerId is required');
    if (principal.role === 'customer' && customerId !== principal.subject) {
      throw new ProblemError(403, 'forbidden', 'Forbidden', 'customers list their own orders only');
    }
    res.json({ orders: await projection.listByCustomer(customerId, { limit: query.limit, status: query.status }) });
  });

  router.post('/orders/:id/cancel', requireRole('customer', 'support'), async (req, res) => {
    const principal = principalOf(res);
    const body = CancelRequestBody.parse(req.body ?? {});
    const order = await readOrder(deps.temporal, projection, pathId(req.params));
    assertCanSee(principal, order);
    const cancel = { reason: body.reason, by: actorName(principal) };
    // The buyer's own cancel is the order's timeline; staff cancelling someone's order is audited.
    if (principal.role === 'customer') res.json(await runOrderUpdate(deps.temporal, order, cancelOrderUpdate, cancel));
    else res.json(await trail.orderUpdate(req, res, 'order.cancel', order, cancelOrderUpdate, cancel));
  });

  router.post('/orders/:id/confirm-delivery', requireRole('customer'), async (req, res) => {
    const order = await readOrder(deps.temporal, projection, pathId(req.params));
    assertCanSee(principalOf(res), order);
    res.json(await runOrderUpdate(deps.temporal, order, confirmDeliveryUpdate, { by: 'buyer' }));
  });

  return router;
}


/**
 * Starts the order's workflow (or finds it running) and waits for its placement decision in one call;
 * an order whose workflow already closed (e.g. rejected earlier) answers from its projection.
 */
async function placeWithStart(
  deps: OrdersDeps,
  start: WithStartWorkflowOperation<typeof standardOrderWorkflow>,
  orderId: string,
  projection: ReturnType<typeof createOrderProjection>,
): Promise<OrderView> {
  try {
    const placed = await deps.temporal.workflow.executeUpdateWithStart(placementResultUpdate, { startWorkflowOperation: start });
    // The buyer's next read (GET /orders/{id}, from the projection) sees the placed order.
    await projection.saveUnlessCurrent(placed);
    return placed;
  } catch (error) {
    if (!isError(error, 'WorkflowExecutionAlreadyStartedError')) throw error;
    return readPlacement(deps, orderWorkflowId(orderId), orderId, projection);
  }
}

/** Waits for placement to be decided; for a workflow already closed, its last state answers. */
async function readPlacement(
  deps: OrdersDeps,
  workflowId: string,
  orderId: string,
  projection: ReturnType<typeof createOrderProjection>,
): Promise<OrderView> {
  try {
    const placed = await orderHandle(deps.temporal, orderId).executeUpdate(placementResultUpdate);
    // The buyer's next read (GET /orders/{id}, from the projection) sees the placed order.
    await projection.saveUnlessCurrent(placed);
    return placed;
  } catch (error) {
    const closed = await projection.get(orderId);
    if (closed) return closed;
    if (isError(error, 'WorkflowNotFoundError')) throw conflict(`order ${orderId} (${workflowId}) is no longer running`);
    throw error;
  }
}

/**
 * Records the key with this request's hash unless it is already there; answers the hash it has, in
 * one statement (a row committed by a concurrent request after the statement's snapshot is read anew).
 */
async function claimIdempotencyKey(pool: Pool, scope: string, key: string, hash: string): Promise<string> {
  const claimed = await pool.query<{ request_hash: string }>(
    `WITH inserted AS (
       INSERT INTO api.idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT (scope, key) DO NOTHING
       RETURNING request_hash)
     SELECT request_hash FROM inserted
     UNION ALL SELECT request_hash FROM api.idempotency_keys WHERE scope = $1 AND key = $2
     LIMIT 1`,
    [scope, key, hash],
  );
  if (claimed.rows[0]) return claimed.rows[0].request_hash;
  const stored = await pool.query<{ request_hash: string }>('SELECT request_hash FROM api.idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
  return stored.rows[0].request_hash;
}
