import request from 'supertest';
import { createFlashSaleOrders } from '../../api/flash-sales';
import { createFinanceService } from '../../modules/finance';
import { createFlashSaleService } from '../../modules/flash-sale';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually, type TestApi } from '../support/api-server';
import { services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { addFlashCampaign, addMember, attempt, flashSettings, getOrder, startFlashApi, waitForStatus } from './support';
import { recordHistory } from '../support/histories';

/**
 * Flash-sale orders end to end on the real Temporal server and PostgreSQL, through the API: admission,
 * the order workflow at the flash price on the campaign's stock pool, payment by the sandbox's signed
 * webhook, shipment, completion; the payment timeout giving the unit back to the campaign and the
 * buyer's limit; the window; the sweeper starting the order of an admission whose start failed.
 * Flash-sale payment timeout 3 s here (5 minutes in production).
 */
let env: TestEnv;
let api: TestApi;

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  api = await startFlashApi(env, { paymentMs: 3_000 });
});
afterAll(async () => {
  await api.close();
  await env.close();
});

let sequence = 0;
async function member(): Promise<string> {
  sequence += 1;
  const memberId = `mem_fs_${sequence}_${env.id}`;
  await addMember(env.pool, memberId);
  return memberId;
}

const flashSale = () => createFlashSaleService({ pool: env.pool });

async function pay(intentId: string) {
  const response = await request(api.url).post(`/sandbox/intents/${intentId}/pay`).send({});
  expect(response.status).toBe(200);
}

test('happy path: admitted at the flash price on the campaign pool, paid, shipped from the pool, delivered, completed', async () => {
  const { campaignId, skuId } = await addFlashCampaign(env, `fs_happy_${env.id}`, { stockCap: 5, perUserLimit: 2, flashPriceFen: 9_900 });
  const buyer = await member();

  const placed = await attempt(api, campaignId, buyer, { skuId, quantity: 2 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect(order).toMatchObject({ type: 'FLASH_SALE', status: 'PENDING_PAYMENT', customerId: buyer });
  expect(order.orderId).toMatch(/^ord_fs_/);
  expect(placed.headers.location).toBe(`/orders/${order.orderId}`);
  expect(order.lines).toEqual([expect.objectContaining({ skuId, quantity: 2, unitPriceFen: 9_900, payableFen: 19_800 })]);
  expect(order.totals).toMatchObject({ payableFen: 19_800, promotionDiscountFen: 0, couponDiscountFen: 0 });
  expect(order.payment).toMatchObject({ status: 'PENDING', amountFen: 19_800 });

  const { inventory } = services(env.pool);
  expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ cap: 5, taken: 2, remaining: 3 });
  expect(await flashSale().buyerHolding(campaignId, buyer)).toEqual({ units: 2, orders: 1 });
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ cap: 5, reserved: 2, sold: 0 });
  // The SKU's normal stock is not touched by a flash sale.
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 50, reserved: 0 });

  // The buyer is at the limit: a third unit is refused, and no workflow is started for it.
  const third = await attempt(api, campaignId, buyer, { quantity: 1 });
  expect(third.status).toBe(409);
  expect(third.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(third.body).toMatchObject({ status: 409, reason: 'LIMIT_REACHED', perUserLimit: 2 });

  await pay(order.payment.intentId!);
  const paid = await waitForStatus(api, buyer, order.orderId, 'PAID');
  expect(paid.totals.paidFen).toBe(19_800);
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ status: 'captured', capturedFen: 19_800 });

  const shipped = await request(api.url)
    .post(`/warehouse/orders/${order.orderId}/ship`)
    .set('X-API-Key', API_KEYS.warehouse)
    .send({ carrier: 'SF Express', trackingNumber: 'SF-FLASH-1' });
  expect(shipped.status).toBe(200);
  expect(shipped.body.status).toBe('SHIPPED');
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ reserved: 0, sold: 2, available: 3 });
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 50, reserved: 0 });

  const delivered = await request(api.url).post(`/carrier/orders/${order.orderId}/delivered`).set('X-API-Key', API_KEYS.carrier).send({});
  expect(delivered.status).toBe(200);
  const completed = await waitForStatus(api, buyer, order.orderId, 'COMPLETED');
  expect(completed.timeline.map((entry) => entry.status).filter(Boolean)).toEqual(['PLACING', 'PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED']);

  // The admission still holds the two sold units; the ledger has the payment and the revenue.
  expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ taken: 2, remaining: 3 });
  expect(await flashSale().findAdmission(`fsa_${order.orderId.slice('ord_fs_'.length)}`)).toMatchObject({ status: 'ADMITTED', orderId: order.orderId });
  const finance = createFinanceService({ pool: env.pool, provider: api.sandbox });
  const entries = await finance.entriesForOrder(order.orderId);
  expect(entries.length).toBeGreaterThan(0);
  expect((await createFinanceService({ pool: env.pool, provider: api.sandbox }).accountBalances()).length).toBeGreaterThan(0);

  const description = await env.temporal.workflow.getHandle(`order-${order.orderId}`).describe();
  expect(description.type).toBe('flashSaleOrderWorkflow');
  await recordHistory(env, order.orderId, 'flash-sale-happy-path');
});

test('payment timeout: the order is cancelled, the unit goes back to the campaign and to the buyer, who can buy again', async () => {
  const { campaignId, skuId } = await addFlashCampaign(env, `fs_timeout_${env.id}`, { stockCap: 1, perUserLimit: 1 });
  const buyer = await member();
  const rival = await member();

  const placed = await attempt(api, campaignId, buyer);
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;

  // Sold out: the rival is refused at once (409 SOLD_OUT), and so is the buyer (limit and stock both taken).
  const refused = await attempt(api, campaignId, rival);
  expect(refused.status).toBe(409);
  expect(refused.body).toMatchObject({ reason: 'SOLD_OUT', remaining: 0 });
  const again = await attempt(api, campaignId, buyer);
  expect(again.status).toBe(409);
  // Known sold out: answered from memory before the body is read or the token checked.
  const anonymous = await request(api.url).post(`/flash-sales/${campaignId}/orders`).set('content-type', 'application/json').send('{not json');
  expect(anonymous.status).toBe(409);
  expect(anonymous.headers['content-type']).toMatch(/problem\+json/);
  expect(JSON.parse(anonymous.text)).toMatchObject({ reason: 'SOLD_OUT', status: 409 });
  expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ taken: 1 });

  const cancelled = await waitForStatus(api, buyer, order.orderId, 'CANCELLED', 15_000);
  expect(cancelled.cancellation).toMatchObject({ reason: 'payment timeout', by: 'system' });
  expect(cancelled.payment.status).toBe('CANCELLED');

  const { inventory } = services(env.pool);
  expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ cap: 1, taken: 0, remaining: 1 });
  expect(await flashSale().buyerHolding(campaignId, buyer)).toEqual({ units: 0, orders: 0 });
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ reserved: 0, sold: 0, available: 1 });
  const admissions = await flashSale().listAdmissions(campaignId);
  expect(admissions).toEqual([expect.objectContaining({ orderId: order.orderId, status: 'RELEASED', releaseReason: 'payment timeout' })]);

  // The unit is on sale again (the API's sold-out mark is re-checked within a second) and the buyer's limit is back.
  const rebought = await eventually(async () => {
    const response = await attempt(api, campaignId, buyer);
    return response.status === 201 ? response : undefined;
  }, 5_000, 'the buyer to be admitted again');
  expect(rebought.body.orderId).not.toBe(order.orderId);
  expect(rebought.body.status).toBe('PENDING_PAYMENT');
  expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ taken: 1, remaining: 0 });
  expect(await flashSale().buyerHolding(campaignId, buyer)).toEqual({ units: 1, orders: 1 });
});

test('outside the window: 409 with the window, before the start and after the end, and nothing is taken', async () => {
  const hour = 3_600_000;
  const later = await addFlashCampaign(env, `fs_later_${env.id}`, {
    stockCap: 3,
    perUserLimit: 1,
    startsAt: new Date(Date.now() + hour),
    endsAt: new Date(Date.now() + 2 * hour),
  });
  const over = await addFlashCampaign(env, `fs_over_${env.id}`, {
    stockCap: 3,
    perUserLimit: 1,
    startsAt: new Date(Date.now() - 2 * hour),
    endsAt: new Date(Date.now() - hour),
  });
  const buyer = await member();
  for (const { campaignId } of [later, over]) {
    const response = await attempt(api, campaignId, buyer);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ reason: 'OUTSIDE_WINDOW', window: { startsAt: expect.any(String), endsAt: expect.any(String) } });
    expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ taken: 0, remaining: 3 });
    expect(await flashSale().listAdmissions(campaignId)).toEqual([]);
  }
  const state = await request(api.url).get(`/flash-sales/${later.campaignId}`).set('X-API-Key', API_KEYS.admin);
  expect(state.status).toBe(200);
  expect(state.body).toMatchObject({ cap: 3, taken: 0, remaining: 3, perUserLimit: 1 });
});

test("bad requests: 400 for an invalid quantity, 422 for another SKU, 404 for an unknown campaign, 401 without a caller", async () => {
  const { campaignId } = await addFlashCampaign(env, `fs_bad_${env.id}`, { stockCap: 3, perUserLimit: 3 });
  const buyer = await member();
  expect((await attempt(api, campaignId, buyer, { quantity: 0 })).status).toBe(400);
  expect((await attempt(api, campaignId, buyer, { quantity: 1, extra: true })).status).toBe(400);
  const wrongSku = await attempt(api, campaignId, buyer, { skuId: 'sku_other', quantity: 1 });
  expect(wrongSku.status).toBe(422);
  expect((await attempt(api, `fs_nope_${env.id}`, buyer)).status).toBe(404);
  expect((await request(api.url).post(`/flash-sales/${campaignId}/orders`).send({ quantity: 1 })).status).toBe(401);
  expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ taken: 0 });
});

test('a failed workflow start is retried by the sweeper: the admitted buyer gets exactly one order', async () => {
  const { campaignId } = await addFlashCampaign(env, `fs_sweep_${env.id}`, { stockCap: 2, perUserLimit: 1 });
  const buyer = await member();
  const orders = createFlashSaleOrders({ pool: env.pool, temporal: env.temporal, settings: flashSettings(env), log: () => undefined });
  await orders.ensureOpen(campaignId);

  // Admitted, but the API "crashed" before starting the workflow.
  const result = await orders.flashSale.admit({ campaignId, customerId: buyer, quantity: 1, requestId: 'request-lost-start' });
  if (!result.admitted) throw new Error(`not admitted: ${result.reason}`);
  const { orderId, admissionId } = result.admission;
  await expect(env.temporal.workflow.getHandle(`order-${orderId}`).describe()).rejects.toMatchObject({ name: 'WorkflowNotFoundError' });

  // Two sweeps at once (two API processes), then another one later: one workflow.
  const started = await Promise.all([orders.sweepOnce({ minAgeMs: 0 }), orders.sweepOnce({ minAgeMs: 0 })]);
  expect(started.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  expect(await orders.sweepOnce({ minAgeMs: 0 })).toBe(0);
  expect((await orders.flashSale.findAdmission(admissionId))?.workflowStartedAt).not.toBeNull();

  const order = await waitForStatus(api, buyer, orderId, 'PENDING_PAYMENT');
  expect(order).toMatchObject({ type: 'FLASH_SALE', totals: expect.objectContaining({ payableFen: 9_900 }) });
  const count = await eventually(async () => {
    const { count } = await env.temporal.workflow.count(`WorkflowId = "order-${orderId}"`);
    return count >= 1 ? count : undefined;
  }, 10_000, 'visibility of the order');
  expect(count).toBe(1);

  // The same request again (a client retry) answers the same admission and order; no second workflow.
  const retried = await orders.flashSale.admit({ campaignId, customerId: buyer, quantity: 1, requestId: 'request-lost-start' });
  expect(retried).toMatchObject({ admitted: true, repeated: true, admission: { orderId } });
  await orders.startOrder(retried.admitted ? retried.admission : result.admission);
  expect(await orders.flashSale.getCampaignState(campaignId)).toMatchObject({ taken: 1 });

  // After the order closes (payment timeout), a late sweep or start never runs it a second time.
  await waitForStatus(api, buyer, orderId, 'CANCELLED', 15_000);
  await orders.startOrder(result.admission);
  const runs = await eventually(async () => {
    const { count } = await env.temporal.workflow.count(`WorkflowId = "order-${orderId}"`);
    return count;
  }, 5_000);
  expect(runs).toBe(1);
  expect((await getOrder(api, buyer, orderId)).status).toBe('CANCELLED');
});

test('the buyer cancels before paying: campaign pool and admission are released, the unit is on sale again', async () => {
  const { campaignId, skuId } = await addFlashCampaign(env, `fs_cancel_${env.id}`, { stockCap: 2, perUserLimit: 1, perUserLimitUnit: 'ORDERS' });
  const buyer = await member();
  const placed = await attempt(api, campaignId, buyer, { quantity: 2 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ taken: 2, remaining: 0 });
  expect(await flashSale().buyerHolding(campaignId, buyer)).toEqual({ units: 2, orders: 1 });

  const cancelled = await request(api.url)
    .post(`/orders/${order.orderId}/cancel`)
    .set('Authorization', customerAuth(buyer))
    .send({ reason: 'changed my mind' });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('CANCELLED');

  const { inventory } = services(env.pool);
  expect(await flashSale().getCampaignState(campaignId)).toMatchObject({ taken: 0, remaining: 2 });
  expect(await flashSale().buyerHolding(campaignId, buyer)).toEqual({ units: 0, orders: 0 });
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ reserved: 0, sold: 0 });
  expect(await flashSale().listAdmissions(campaignId)).toEqual([
    expect.objectContaining({ orderId: order.orderId, status: 'RELEASED', releaseReason: `cancelled by customer:${buyer}` }),
  ]);
});
