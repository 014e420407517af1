import { rootLogger, type Logger } from '../infra/logger';
import { randomUUID } from 'node:crypto';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { decodeJwt } from 'jose';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createFlashSaleService, type Admission, type AdmissionResult, type FlashSaleService } from '../modules/flash-sale';
import { createInventoryService } from '../modules/inventory';
import { createMarketingService } from '../modules/marketing';
import { createOrderProjection } from '../modules/orders/projection';
import { createPlacementChannels } from '../modules/orders/placement-channels';
import { createAddressService } from '../modules/logistics';
import type { SalesChannel, ShippingAddress } from '../workflows/order/shipping-definitions';
import { DomainError } from '../modules/shared/errors';
import { orderWorkflowId, placementResultUpdate, type OrderTimeouts, type OrderView } from '../workflows/order/definitions';
import type { FlashSaleOrderInput, flashSaleOrderWorkflow } from '../workflows/order/types/flash-sale';
import * as sa from '../workflows/search-attributes';
import { createAuditTrail } from './audit';
import { createPlacementChecks } from './placement-checks';
import { assertChannelAllowed, channelFor, shippingFields } from './shipping';
import { createCredentialsCheck, principalOf, requireRole, type AuthSettings, type Principal } from './auth';
import { problemResponse, registry } from './openapi';
import { notFound, sendProblem, unprocessable } from './problem';
import type { ApiSettings } from './settings';
import { isError, orderHandle } from './temporal';
import { campaignParams, idSchema, optionalIdempotencyKey } from './validation';

/*
 * Flash sales (秒杀) in the API:
 *
 *   POST /flash-sales/:campaignId/orders   admission (one PostgreSQL statement, modules/flash-sale),
 *                                          then the order workflow `order-<orderId>` is started from
 *                                          the admission record → 201 with the order (PENDING_PAYMENT)
 *                                          or 409 {reason: SOLD_OUT | LIMIT_REACHED | OUTSIDE_WINDOW};
 *                                          losers never start a workflow.
 *   GET  /flash-sales/:campaignId          admission state (cap, taken, remaining, window)
 *   POST /flash-sales/:campaignId/open     admin: open the sale from marketing's definition (also done
 *                                          by the first attempt)
 *
 * Every admitted buyer gets exactly one order: the start uses the order id as workflow id with
 * REJECT_DUPLICATE (a closed order is never started again) and USE_EXISTING (a running one is found),
 * and when the start fails the admission stays "without workflow" until the sweeper of some API
 * process starts it (FLASH_SALE_SWEEP_INTERVAL). An order never exists without an admission: only
 * admission records start workflows, and the workflow's first step checks its admission.
 */

const DEFAULT_PAYMENT_MS = 5 * 60_000;
/** The `type` prefix of every problem of this API (api/problem.ts). */
const PROBLEM_TYPE_BASE = 'https://order-engine.dev/problems/';

const AdmissionRequest = registry.register(
  'FlashSaleAdmissionRequest',
  z
    .object({
      /** Optional: when given it must be the campaign's SKU. */
      skuId: idSchema.optional(),
      quantity: z.number().int().min(1).max(999).default(1),
      ...shippingFields,
    })
    .strict(),
);
const CampaignParams = campaignParams;
const IdempotencyKeyHeader = optionalIdempotencyKey;

const FlashSaleState = registry.register(
  'FlashSaleState',
  z.object({
    campaignId: z.string(),
    skuId: z.string(),
    flashPriceFen: z.number().int(),
    cap: z.number().int(),
    taken: z.number().int(),
    remaining: z.number().int(),
    perUserLimit: z.number().int(),
    limitUnit: z.enum(['UNITS', 'ORDERS']),
    startsAt: z.string(),
    endsAt: z.string(),
  }),
);
const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKey: [] }];
registry.registerPath({
  method: 'post',
  path: '/flash-sales/{campaignId}/orders',
  summary: 'Flash-sale attempt: atomic admission (campaign unit + per-user limit), then the order at the flash price',
  security,
  request: {
    params: CampaignParams,
    headers: z.object({ 'Idempotency-Key': IdempotencyKeyHeader }),
    body: { content: { 'application/json': { schema: AdmissionRequest } } },
  },
  responses: {
    201: { description: 'Admitted: the order, PENDING_PAYMENT with its payment intent', content: { 'application/json': { schema: z.object({}).passthrough() } } },
    202: { description: 'Admitted; the order is being created (retrieve it at the Location)', content: { 'application/json': { schema: z.object({}).passthrough() } } },
    400: problemResponse('Invalid body'),
    401: problemResponse('Not authenticated'),
    404: problemResponse('No such flash sale'),
    409: problemResponse('Refused: reason SOLD_OUT, LIMIT_REACHED or OUTSIDE_WINDOW (with the window)'),
    422: problemResponse('The SKU is not the campaign’s, or the order was rejected'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/flash-sales/{campaignId}',
  summary: 'Admission state of a flash sale: cap, units taken, remaining, window, limit',
  security,
  request: { params: CampaignParams },
  responses: { 200: { description: 'State', content: { 'application/json': { schema: FlashSaleState } } }, 404: problemResponse('Not open') },
});
registry.registerPath({
  method: 'post',
  path: '/flash-sales/{campaignId}/open',
  summary: "Admin: open a flash sale from marketing's campaign (admission cap = stockCap; campaign stock pool allocated)",
  security,
  request: { params: CampaignParams },
  responses: { 200: { description: 'Opened (idempotent)', content: { 'application/json': { schema: FlashSaleState } } }, 404: problemResponse('No such flash-sale campaign') },
});

export interface FlashSaleDeps {
  pool: Pool;
  temporal: Client;
  settings: ApiSettings;
  logger?: Logger;
}

/**
 * The flash-sale side of an API process: the admission service (with its in-process sold-out mark),
 * opening a campaign, starting an admission's order and the sweeper that retries failed starts.
 */
export function createFlashSaleOrders(deps: FlashSaleDeps & { flashSale?: FlashSaleService }) {
  const logger = deps.logger ?? rootLogger();
  const flashSale = deps.flashSale ?? createFlashSaleService({ pool: deps.pool });
  const marketing = createMarketingService({ pool: deps.pool });
  const inventory = createInventoryService({ pool: deps.pool });
  const timeouts: OrderTimeouts = { ...deps.settings.orderTimeouts, paymentMs: deps.settings.flashSale?.paymentMs ?? DEFAULT_PAYMENT_MS };
  const opening = new Map<string, Promise<void>>();
  const placementChannels = createPlacementChannels({ pool: deps.pool });
  const addresses = createAddressService({ pool: deps.pool });
  /** Campaign channel rules (channel-only sales) by campaign: a campaign's definition does not change. */
  const channelRules = new Map<string, Promise<string[] | undefined>>();

  /**
   * Opens the sale from marketing's definition: the inventory pool (cap = stockCap, the units the
   * order workflows reserve and ship) and the admission counter with the same cap. Idempotent.
   */
  async function open(campaignId: string): Promise<void> {
    let campaign;
    try {
      campaign = await marketing.getCampaign(campaignId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'CAMPAIGN_NOT_FOUND') throw notFound(`flash sale ${campaignId}`);
      throw error;
    }
    if (campaign.kind !== 'FLASH_SALE') throw notFound(`flash sale ${campaignId}`);
    await inventory.allocateCampaignStock({ idempotencyKey: `${campaignId}:flash-sale-pool`, campaignId, skuId: campaign.skuId, cap: campaign.stockCap });
    await flashSale.openCampaign({
      campaignId,
      skuId: campaign.skuId,
      flashPriceFen: campaign.flashPriceFen,
      cap: campaign.stockCap,
      perUserLimit: campaign.perUserLimit,
      limitUnit: campaign.perUserLimitUnit,
      startsAt: campaign.startsAt,
      endsAt: campaign.endsAt,
    });
  }

  /** One opening per campaign at a time in this process (the first burst of attempts shares it). */
  function ensureOpen(campaignId: string): Promise<void> {
    let pending = opening.get(campaignId);
    if (!pending) {
      pending = open(campaignId).finally(() => opening.delete(campaignId));
      opening.set(campaignId, pending);
    }
    return pending;
  }

  /** The channels a flash sale is sold through (undefined: every channel). */
  function channelRuleOf(campaignId: string): Promise<string[] | undefined> {
    let rule = channelRules.get(campaignId);
    if (!rule) {
      rule = marketing.getCampaign(campaignId).then(
        (campaign) => campaign.channels,
        (error) => {
          channelRules.delete(campaignId);
          // No definition in marketing: no channel rule (the admission answers whether the sale exists).
          if (error instanceof DomainError && error.code === 'CAMPAIGN_NOT_FOUND') return undefined;
          throw error;
        },
      );
      channelRules.set(campaignId, rule);
    }
    return rule;
  }

  /** Address and channel go with the admission, so a start by the sweeper (another process, later) has them too. */
  async function rememberPlacement(orderId: string, placement: { shippingAddress: ShippingAddress; channel: SalesChannel }): Promise<void> {
    await placementChannels.remember(orderId, placement.channel);
    await addresses.saveOrderAddress({ orderId, version: 1, address: placement.shippingAddress });
  }

  /** Starts the admission's order workflow (or finds it) and records that it exists. */
  async function startOrder(admission: Admission, placement?: { shippingAddress: ShippingAddress; channel: SalesChannel }): Promise<void> {
    const channel = placement?.channel ?? (await placementChannels.channelOf(admission.orderId)) ?? { kind: 'app' as const };
    const shippingAddress =
      placement?.shippingAddress ?? (await addresses.orderAddress(admission.orderId)) ?? stripSaved(await addresses.defaultFor(admission.customerId));
    const input: FlashSaleOrderInput = {
      orderId: admission.orderId,
      customerId: admission.customerId,
      lines: [{ skuId: admission.skuId, quantity: admission.quantity }],
      currency: 'CNY',
      shippingAddress,
      channel,
      placedAt: admission.admittedAt,
      campaignId: admission.campaignId,
      admissionId: admission.admissionId,
    };
    await deps.temporal.workflow
      .start<typeof flashSaleOrderWorkflow>('flashSaleOrderWorkflow', {
        taskQueue: deps.settings.taskQueue,
        workflowId: orderWorkflowId(admission.orderId),
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        args: [input, timeouts],
        typedSearchAttributes: [
          { key: sa.OrderId, value: admission.orderId },
          { key: sa.CustomerId, value: admission.customerId },
          { key: sa.OrderType, value: 'FLASH_SALE' },
          { key: sa.OrderStatus, value: 'PLACING' },
          { key: sa.OrderPhase, value: 'PLACING' },
          { key: sa.CampaignId, value: admission.campaignId },
          { key: sa.SalesChannel, value: channel.kind },
        ],
        memo: { customerId: admission.customerId, admissionId: admission.admissionId },
        staticSummary: `Flash-sale order ${admission.orderId} for ${admission.customerId} (campaign ${admission.campaignId})`,
      })
      .catch((error) => {
        // Started before and already closed: that is its one order.
        if (!isError(error, 'WorkflowExecutionAlreadyStartedError')) throw error;
      });
    await flashSale.markWorkflowStarted(admission.admissionId);
  }

  /** Starts the orders of admissions left without one (a failed or interrupted start); returns how many. */
  async function sweepOnce(options: { minAgeMs?: number } = {}): Promise<number> {
    const pending = await flashSale.admissionsWithoutWorkflow({ minAgeMs: options.minAgeMs ?? 2_000, limit: 200 });
    let started = 0;
    for (const admission of pending) {
      try {
        await startOrder(admission);
        started += 1;
      } catch (error) {
        logger.warn({ err: error, orderId: admission.orderId, admissionId: admission.admissionId }, 'flash sale: starting an order failed, retried later');
      }
    }
    return started;
  }

  let sweeping = false;
  /** Runs the sweeper every `intervalMs` in the background (unref'd: it never keeps the process alive). */
  function startSweeper(intervalMs: number): () => void {
    const timer = setInterval(() => {
      // The process is shutting down (its pool has ended): nothing left to sweep with.
      if (deps.pool.ending) return clearInterval(timer);
      if (sweeping) return;
      sweeping = true;
      sweepOnce()
        .catch((error) => logger.error({ err: error }, 'flash sale: sweep failed'))
        .finally(() => {
          sweeping = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Admission, opening the sale on the first attempt. */
  async function admit(campaignId: string, customerId: string, quantity: number, requestId: string): Promise<AdmissionResult> {
    const result = await flashSale.admit({ campaignId, customerId, quantity, requestId });
    if (result.admitted || result.reason !== 'NOT_OPEN') return result;
    await ensureOpen(campaignId);
    return flashSale.admit({ campaignId, customerId, quantity, requestId });
  }

  /** The sale's terms (opening it if needed). */
  async function termsOf(campaignId: string) {
    let terms = await flashSale.getTerms(campaignId);
    if (!terms) {
      await ensureOpen(campaignId);
      terms = await flashSale.getTerms(campaignId);
    }
    if (!terms) throw notFound(`flash sale ${campaignId}`);
    return terms;
  }

  return { flashSale, admit, ensureOpen, termsOf, startOrder, sweepOnce, startSweeper, timeouts, channelRuleOf, rememberPlacement };
}

const REFUSAL_TITLES: Record<string, string> = {
  SOLD_OUT: 'Sold out',
  LIMIT_REACHED: 'Per-buyer limit reached',
  OUTSIDE_WINDOW: 'Outside the flash sale',
  NOT_OPEN: 'Flash sale not open',
};

/**
 * A refusal as a 409 problem, sent directly rather than thrown: refusals are the hot path of a flash
 * sale (thousands per unit sold) and an exception per refusal costs more than the answer itself.
 */
function sendRefusal(req: Request, res: Response, result: Extract<AdmissionResult, { admitted: false }>): void {
  const { reason, message, remaining, window, perUserLimit, limitUnit } = result;
  sendProblem(res, {
    reason,
    ...(remaining !== undefined ? { remaining } : {}),
    ...(window ? { window } : {}),
    ...(perUserLimit !== undefined ? { perUserLimit, limitUnit } : {}),
    type: `${PROBLEM_TYPE_BASE}flash-sale-${reason.toLowerCase().replace('_', '-')}`,
    title: REFUSAL_TITLES[reason],
    status: 409,
    detail: message,
    instance: req.originalUrl,
  });
}

const SOLD_OUT_PATH = /^\/flash-sales\/([^/]+)\/orders\/?$/;

/**
 * The flash-sale endpoints, and the sold-out fast path that the app mounts before body parsing and
 * authentication: once this process knows a campaign is sold out, an attempt is answered 409 from
 * memory, without reading its body or verifying its token (that a sale is sold out is public), which
 * keeps a rush of losers as cheap as the cheapest endpoint.
 */
export function flashSaleRoutes(deps: FlashSaleDeps): { router: Router; soldOutFastPath: RequestHandler } {
  const orders = createFlashSaleOrders(deps);
  const soldOutBodies = new Map<string, string>();
  const soldOutFastPath: RequestHandler = (req, res, next) => {
    const match = req.method === 'POST' ? SOLD_OUT_PATH.exec(req.path) : null;
    if (!match || !orders.flashSale.isKnownSoldOut(match[1])) return next();
    const campaignId = match[1];
    let body = soldOutBodies.get(campaignId);
    if (body === undefined) {
      body = JSON.stringify({
        reason: 'SOLD_OUT',
        remaining: 0,
        type: `${PROBLEM_TYPE_BASE}flash-sale-sold-out`,
        title: REFUSAL_TITLES.SOLD_OUT,
        status: 409,
        detail: `flash sale ${campaignId} is sold out`,
        instance: `/flash-sales/${campaignId}/orders`,
      });
      soldOutBodies.set(campaignId, body);
    }
    // Plain node response: no content negotiation or ETag for a body that is always the same.
    res.writeHead(409, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  return { router: flashSalesRouter(deps, orders), soldOutFastPath };
}

function flashSalesRouter(deps: FlashSaleDeps, orders: ReturnType<typeof createFlashSaleOrders>): Router {
  const router = Router();
  const projection = createOrderProjection({ pool: deps.pool });
  const checks = createPlacementChecks({ pool: deps.pool });
  const trail = createAuditTrail(deps);
  const startWorkflows = deps.settings.flashSale?.startWorkflows ?? true;
  const sweepIntervalMs = deps.settings.flashSale?.sweepIntervalMs ?? 0;
  if (sweepIntervalMs > 0) orders.startSweeper(sweepIntervalMs);

  router.use('/flash-sales', cachedAuthenticate(deps.settings.auth));

  router.post('/flash-sales/:campaignId/orders', requireRole('customer'), async (req, res) => {
    const { campaignId } = CampaignParams.parse(req.params);
    const body = AdmissionRequest.parse(req.body ?? {});
    const requestId = IdempotencyKeyHeader.parse(req.get('idempotency-key')) ?? randomUUID();
    const customerId = principalOf(res).subject;

    if (body.skuId !== undefined) {
      const terms = await orders.termsOf(campaignId);
      if (body.skuId !== terms.skuId) {
        throw unprocessable('flash-sale-wrong-sku', `flash sale ${campaignId} sells SKU ${terms.skuId}, not ${body.skuId}`, { skuId: terms.skuId });
      }
    }
    // Member, address and freight template in one statement. Channel rule, address and delivery
    // before the admission: a refusal takes no unit.
    const read = await checks.read({ customerId, shipping: body });
    read.assertMember();
    const channel = channelFor(principalOf(res), body.channel);
    assertChannelAllowed({ id: campaignId, channels: await orders.channelRuleOf(campaignId) }, channel);
    const shippingAddress = await read.shippingAddress();
    const result = await orders.admit(campaignId, customerId, body.quantity, requestId);
    if (!result.admitted) return sendRefusal(req, res, result);
    const { admission } = result;
    const placement = { shippingAddress, channel };
    if (!result.repeated) await orders.rememberPlacement(admission.orderId, placement);
    res.setHeader('Location', `/orders/${admission.orderId}`);
    const accepted = () => res.status(202).json({ admission, orderId: admission.orderId, status: 'ADMITTED' });
    if (!startWorkflows) return accepted();
    try {
      await orders.startOrder(admission, result.repeated ? undefined : placement);
    } catch (error) {
      // The buyer keeps the unit: the sweeper starts the order. Tell them where it will be.
      req.log.warn({ err: error, orderId: admission.orderId }, 'flash sale: start of the order failed, left to the sweeper');
      return accepted();
    }
    const order = await readPlacement(deps.temporal, projection, admission.orderId);
    if (!order) return accepted();
    if (order.status === 'REJECTED') {
      throw unprocessable('order-rejected', order.rejection?.message ?? 'the order was rejected', { orderId: order.orderId, reason: order.rejection?.code });
    }
    res.status(result.repeated ? 200 : 201).json(order);
  });

  router.get('/flash-sales/:campaignId', async (req, res) => {
    const { campaignId } = CampaignParams.parse(req.params);
    const state = await orders.flashSale.getCampaignState(campaignId);
    if (!state) throw notFound(`flash sale ${campaignId}`);
    res.json(state);
  });

  router.post('/flash-sales/:campaignId/open', requireRole('admin'), async (req, res) => {
    const { campaignId } = CampaignParams.parse(req.params);
    const before = await orders.flashSale.getCampaignState(campaignId);
    await orders.ensureOpen(campaignId);
    const state = await orders.flashSale.getCampaignState(campaignId);
    // Opening is idempotent: only the call that opened it is a change worth a row.
    if (!before) await trail.record(req, res, { action: 'flash-sale.open', targetType: 'flash_sale', targetId: campaignId, after: JSON.parse(JSON.stringify(state)) });
    res.json(state);
  });

  return router;
}

/**
 * `authenticate` with a cache of verified bearer tokens: a flash sale is the same buyers retrying
 * many times a second, and verifying an HS256 JWT costs far more than the sold-out answer itself.
 * A token is cached only after the full verification passed, keyed by its exact text, and only until
 * its own `exp` (every token has one); API keys are verified every time. Bounded size.
 */
export function cachedAuthenticate(settings: AuthSettings, maxEntries = 100_000): RequestHandler {
  const principalFor = createCredentialsCheck(settings);
  const verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  return async (req, res, next) => {
    const header = req.get('authorization');
    const cacheable = header?.startsWith('Bearer ') && !req.get('x-api-key');
    const hit = cacheable ? verified.get(header!) : undefined;
    if (hit && hit.expiresAtMs > Date.now()) {
      res.locals.principal = hit.principal;
      return next();
    }
    const principal = await principalFor(req, res);
    res.locals.principal = principal;
    if (cacheable) {
      // Verified above; exp is required by the verifier.
      const exp = decodeJwt(header!.slice('Bearer '.length)).exp!;
      if (verified.size >= maxEntries) verified.clear();
      verified.set(header!, { principal, expiresAtMs: exp * 1000 });
    }
    next();
  };
}

function stripSaved(saved: (ShippingAddress & { addressId?: string; isDefault?: boolean }) | undefined): ShippingAddress | undefined {
  if (!saved) return undefined;
  const { addressId: _id, isDefault: _default, ...address } = saved;
  return address;
}

/** The order once placement is decided; for a closed workflow its last projection; undefined if unknown yet. */
async function readPlacement(temporal: Client, projection: ReturnType<typeof createOrderProjection>, orderId: string): Promise<OrderView | undefined> {
  try {
    const placed = await orderHandle(temporal, orderId).executeUpdate(placementResultUpdate);
    // The buyer's next read (GET /orders/{id}, from the projection) sees the placed order.
    await projection.saveUnlessCurrent(placed);
    return placed;
  } catch (error) {
    const closed = await projection.get(orderId);
    if (closed) return closed;
    if (isError(error, 'WorkflowNotFoundError')) return undefined;
    throw error;
  }
}
