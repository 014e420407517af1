import { createHash } from 'node:crypto';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createMarketingService } from '../modules/marketing';
import { createOrderProjection, type OrderProjection } from '../modules/orders/projection';
import * as sa from '../workflows/search-attributes';
import { orderWorkflowId, placementResultUpdate, type OrderType, type OrderView } from '../workflows/order/definitions';
import type { presaleOrderWorkflow } from '../workflows/order/types/presale';
import { requestFinalPaymentUpdate, type PresaleOrderInput } from '../workflows/order/presale-definitions';
import { findCampaign } from './admin-campaigns';
import { createPlacementChecks } from './placement-checks';
import { assertChannelAllowed, channelFor, shippingFields } from './shipping';
import type { SalesChannel } from '../workflows/order/shipping-definitions';
import { principalOf, requireRole } from './auth';
import { problemResponse, registry } from './openapi';
import { assertCanSee, orderIdFor } from './orders';
import { conflict, notFound, unprocessable } from './problem';
import type { ApiSettings } from './settings';
import { isError, orderHandle, readOrder, runOrderUpdate } from './temporal';
import { campaignParams, idempotencyKeySchema, idParams, idSchema, pathId } from './validation';

export const IdempotencyKeyHeader = idempotencyKeySchema;

const PresaleOrderRequest = registry.register(
  'PresaleOrderRequest',
  z.object({ quantity: z.number().int().min(1).max(99).default(1), ...shippingFields }).strict().openapi({ description: 'Coupons apply to the final payment only' }),
);
const FinalPaymentRequestBody = registry.register(
  'FinalPaymentRequest',
  z.object({ couponId: idSchema.optional() }).strict(),
);

const OrderBody = z.object({}).passthrough().openapi({ description: 'OrderView (presale: `presale` with deposit, final payment and windows)' });
const orderResponse = (description: string) => ({ description, content: { 'application/json': { schema: OrderBody } } });
const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKey: [] }];
registry.registerPath({
  method: 'post',
  path: '/presales/{campaignId}/orders',
  summary: 'Pay a presale deposit: reserves stock and creates the deposit intent (deposit window only)',
  security,
  request: {
    params: campaignParams,
    headers: z.object({ 'Idempotency-Key': IdempotencyKeyHeader }),
    body: { content: { 'application/json': { schema: PresaleOrderRequest } } },
  },
  responses: {
    201: orderResponse('Placed: PENDING_PAYMENT with the deposit intent'),
    400: problemResponse('Invalid body or missing Idempotency-Key'),
    404: problemResponse('No such presale campaign'),
    409: problemResponse('Outside the deposit window (the body has depositStart and depositEnd)'),
    422: problemResponse('Rejected (out of stock) or the key was used with another body'),
  },
});
registry.registerPath({
  method: 'post',
  path: '/orders/{id}/final-payment',
  summary: 'Presale: open the final payment (presale price − deposit value − coupon) and get its payment intent',
  security,
  request: { params: idParams, body: { content: { 'application/json': { schema: FinalPaymentRequestBody } } } },
  responses: {
    200: orderResponse('The order with presale.finalPayment.intentId'),
    404: problemResponse('No such order'),
    409: problemResponse('Not a presale, the final window is not open, or the coupon cannot be used'),
  },
});

export interface CampaignOrderDeps {
  pool: Pool;
  temporal: Client;
  settings: ApiSettings;
}

/**
 * Reserves the Idempotency-Key for this request (scope: the customer): the same key with another
 * body is refused with 422; returns the order id derived from customer and key.
 */
export async function claimIdempotencyKey(pool: Pool, customerId: string, idempotencyKey: string, request: unknown): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ customerId, request })).digest('hex');
  await pool.query(`INSERT INTO api.idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT (scope, key) DO NOTHING`, [
    customerId,
    idempotencyKey,
    hash,
  ]);
  const stored = await pool.query<{ request_hash: string }>('SELECT request_hash FROM api.idempotency_keys WHERE scope = $1 AND key = $2', [
    customerId,
    idempotencyKey,
  ]);
  if (stored.rows[0].request_hash !== hash) {
    throw unprocessable('idempotency-key-reused', 'this Idempotency-Key was already used with a different request body');
  }
  return orderIdFor(customerId, idempotencyKey);
}

/** Waits for the placement decision of a started order; a closed workflow answers from its projection. */
export async function readPlacement(temporal: Client, projection: OrderProjection, orderId: string): Promise<OrderView> {
  try {
    const placed = await orderHandle(temporal, orderId).executeUpdate(placementResultUpdate);
    // The buyer's next read (GET /orders/{id}, from the projection) sees the placed order.
    await projection.saveUnlessCurrent(placed);
    return placed;
  } catch (error) {
    const closed = await projection.get(orderId);
    if (closed) return closed;
    if (isError(error, 'WorkflowNotFoundError')) throw conflict(`order ${orderId} is no longer running`);
    throw error;
  }
}

export function orderSearchAttributes(orderId: string, customerId: string, type: OrderType, campaignId: string, channel?: SalesChannel): SearchAttributePair[] {
  return [
    ...(channel ? [{ key: sa.SalesChannel, value: channel.kind }] : []),
    { key: sa.OrderId, value: orderId },
    { key: sa.CustomerId, value: customerId },
    { key: sa.OrderType, value: type },
    { key: sa.OrderStatus, value: 'PLACING' },
    { key: sa.OrderPhase, value: 'PLACING' },
    { key: sa.CampaignId, value: campaignId },
  ];
}

export function presalesRouter(deps: CampaignOrderDeps): Router {
  const router = Router();
  const projection = createOrderProjection({ pool: deps.pool });
  const marketing = createMarketingService({ pool: deps.pool });
  const checks = createPlacementChecks({ pool: deps.pool });

  router.post('/presales/:campaignId/orders', requireRole('customer'), async (req, res) => {
    const customerId = principalOf(res).subject;
    const idempotencyKey = IdempotencyKeyHeader.parse(req.get('idempotency-key'));
    const body = PresaleOrderRequest.parse(req.body ?? {});
    const campaignId = campaignParams.parse(req.params).campaignId;
    const campaign = await findCampaign(marketing, campaignId);
    if (!campaign || campaign.kind !== 'PRESALE') throw notFound(`presale campaign ${campaignId}`);
    // Member, address, freight template and unpaid orders in one statement; refusals in this order.
    const read = await checks.read({ customerId, shipping: body, unpaid: { orderId: orderIdFor(customerId, idempotencyKey), cap: deps.settings.limits?.unpaidOrdersPerCustomer } });
    read.assertMember();
    const channel = channelFor(principalOf(res), body.channel);
    assertChannelAllowed(campaign, channel);
    const shippingAddress = await read.shippingAddress();
    read.assertUnpaidBelowCap();
    const orderId = await claimIdempotencyKey(deps.pool, customerId, idempotencyKey, { campaignId, ...body });

    // A retry of a deposit placed in the window finds its order even after the window closed.
    const known = await projection.get(orderId);
    if (!known) {
      const at = new Date();
      if (at < campaign.depositStart || at > campaign.depositEnd) {
        throw conflict(`deposits for presale ${campaignId} are taken from ${campaign.depositStart.toISOString()} to ${campaign.depositEnd.toISOString()}`, {
          campaignId,
          depositStart: campaign.depositStart.toISOString(),
          depositEnd: campaign.depositEnd.toISOString(),
        });
      }
    }

    const input: PresaleOrderInput = {
      orderId,
      customerId,
      lines: [{ skuId: campaign.skuId, quantity: body.quantity }],
      currency: 'CNY',
      shippingAddress,
      channel,
      placedAt: new Date().toISOString(),
      presale: {
        campaignId,
        skuId: campaign.skuId,
        presalePriceFen: campaign.presalePriceFen,
        depositFen: campaign.depositFen,
        depositValueFen: campaign.depositValueFen ?? campaign.depositFen,
        depositRefundable: campaign.depositRefundable,
        depositStart: campaign.depositStart.toISOString(),
        depositEnd: campaign.depositEnd.toISOString(),
        finalStart: campaign.finalStart.toISOString(),
        finalEnd: campaign.finalEnd.toISOString(),
      },
    };
    await deps.temporal.workflow
      .start<typeof presaleOrderWorkflow>('presaleOrderWorkflow', {
        taskQueue: deps.settings.taskQueue,
        workflowId: orderWorkflowId(orderId),
        // An order id is used once: a retried key after the run closed finds that run, never starts a second.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        args: [input, deps.settings.orderTimeouts],
        typedSearchAttributes: orderSearchAttributes(orderId, customerId, 'PRESALE', campaignId, channel),
        memo: { customerId, campaignId },
        staticSummary: `Presale order ${orderId} for ${customerId} (campaign ${campaignId})`,
      })
      .catch((error) => {
        if (!isError(error, 'WorkflowExecutionAlreadyStartedError')) throw error;
      });

    const order = await readPlacement(deps.temporal, projection, orderId);
    res.setHeader('Location', `/orders/${orderId}`);
    if (order.status === 'REJECTED') {
      throw unprocessable('order-rejected', order.rejection?.message ?? 'the order was rejected', { orderId, reason: order.rejection?.code });
    }
    res.status(201).json(order);
  });

  router.post('/orders/:id/final-payment', requireRole('customer'), async (req, res) => {
    const body = FinalPaymentRequestBody.parse(req.body ?? {});
    const order = await readOrder(deps.temporal, projection, pathId(req.params));
    assertCanSee(principalOf(res), order);
    if (order.type !== 'PRESALE') throw conflict(`order ${order.orderId} is a ${order.type} order; only presale orders have a final payment`);
    res.json(await runOrderUpdate(deps.temporal, order, requestFinalPaymentUpdate, body));
  });

  return router;
}
