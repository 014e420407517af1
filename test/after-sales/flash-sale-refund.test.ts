import { createFlashSaleService } from '../../modules/flash-sale';
import type { OrderView } from '../../workflows/order/definitions';
import { eventually, type TestApi } from '../support/api-server';
import { services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { addFlashCampaign, addMember, attempt, startFlashApi } from '../flash-sale/support';
import { afterSalesKit } from './helpers';

/**
 * After-sales on a flash-sale order: a full refund before shipment gives back what the flash order
 * holds — the campaign pool's reservation and the admission (unit back on sale, buyer's limit
 * restored) — once, not the SKU's normal stock. Before shipment a flash order is refunded in full only
 * (a partial refund is refused 422); after shipment partial refunds are normal and the units stay sold.
 * Real Temporal, PostgreSQL and API.
 */
let env: TestEnv;
let api: TestApi;
let kit: ReturnType<typeof afterSalesKit>;

beforeAll(async () => {
  env = await createTestEnv();
  kit = afterSalesKit(env, () => api);
  await env.startWorker();
  api = await startFlashApi(env, { paymentMs: 10_000 });
});
afterAll(async () => {
  await api.close();
  await env.close();
});

test('flash order paid, refund only before shipment approved: provider refund, campaign stock and admission released once, buyer can buy again', async () => {
  const { campaignId, skuId } = await addFlashCampaign(env, `fs_refund_${env.id}`, { stockCap: 2, perUserLimit: 1, flashPriceFen: 9_900 });
  const buyer = `mem_fsr_${env.id}`;
  await addMember(env.pool, buyer);
  const flashSale = createFlashSaleService({ pool: env.pool });
  const { inventory } = services(env.pool);

  const placed = await attempt(api, campaignId, buyer, { skuId, quantity: 1 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  const paid = await kit.support(`/sandbox/intents/${order.payment.intentId}/pay`, {});
  expect(paid.status).toBe(200);
  await kit.waitForStatus(buyer, order.orderId, 'PAID');
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ reserved: 1, sold: 0, available: 1 });
  // At the limit while the order holds the unit.
  expect((await attempt(api, campaignId, buyer, { quantity: 1 })).body).toMatchObject({ status: 409, reason: 'LIMIT_REACHED' });

  const asked = await kit.askRefund(buyer, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'bought by mistake' });
  expect(asked.status).toBe(201);
  expect(asked.body).toMatchObject({ status: 'PENDING', requestedFen: 9_900 });
  const requestId = asked.body.requestId as string;
  expect((await kit.support(`/support/refunds/${requestId}/approve`, {})).status).toBe(200);

  await kit.waitForRequest(requestId, 'REFUNDED');
  const refunded = await kit.waitForStatus(buyer, order.orderId, 'REFUNDED');
  expect(refunded.totals).toMatchObject({ paidFen: 9_900, refundedFen: 9_900 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 9_900, refundedFen: 9_900 });
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);

  // The campaign pool's unit is available again; the SKU's normal stock was never touched.
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ reserved: 0, sold: 0, available: 2 });
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 50, reserved: 0 });
  // The admission released exactly once: the campaign counter and the buyer's holding back to zero (not below).
  expect(await flashSale.listAdmissions(campaignId)).toEqual([
    expect.objectContaining({ orderId: order.orderId, status: 'RELEASED', releaseReason: 'refunded before shipment' }),
  ]);
  expect(await flashSale.getCampaignState(campaignId)).toMatchObject({ cap: 2, taken: 0, remaining: 2 });
  expect(await flashSale.buyerHolding(campaignId, buyer)).toEqual({ units: 0, orders: 0 });

  // The buyer's limit is restored: a new attempt is admitted and reserves from the pool again.
  const again = await attempt(api, campaignId, buyer, { quantity: 1 });
  expect(again.status).toBe(201);
  expect(again.body.orderId).not.toBe(order.orderId);
  expect(await flashSale.getCampaignState(campaignId)).toMatchObject({ taken: 1, remaining: 1 });
  await kit.waitForStatus(buyer, again.body.orderId, 'PENDING_PAYMENT');
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ reserved: 1, sold: 0, available: 1 });
});

test('multi-unit flash order before shipment: a partial refund is refused 422 (full refund only); the full refund gives every unit back to the campaign and the buyer', async () => {
  const { campaignId, skuId } = await addFlashCampaign(env, `fs_partial_${env.id}`, { stockCap: 3, perUserLimit: 2, flashPriceFen: 9_900 });
  const buyer = `mem_fsp_${env.id}`;
  await addMember(env.pool, buyer);
  const flashSale = createFlashSaleService({ pool: env.pool });
  const { inventory } = services(env.pool);

  const placed = await attempt(api, campaignId, buyer, { skuId, quantity: 2 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect((await kit.support(`/sandbox/intents/${order.payment.intentId}/pay`, {})).status).toBe(200);
  await kit.waitForStatus(buyer, order.orderId, 'PAID');
  expect(await flashSale.getCampaignState(campaignId)).toMatchObject({ taken: 2, remaining: 1 });

  const partial = await kit.askRefund(buyer, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'only one needed' });
  expect(partial.status).toBe(422);
  expect(partial.headers['content-type']).toMatch(/problem\+json/);
  expect(partial.body).toMatchObject({ reason: 'PARTIAL_REFUND_NOT_ALLOWED' });
  expect(partial.body.detail).toContain('in full before shipment');
  // Nothing was reserved: the order has no after-sales and the warehouse could still ship it.
  expect((await kit.getOrder(buyer, order.orderId)).afterSales).toBeUndefined();

  const full = await kit.askRefund(buyer, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 2 }], reason: 'changed my mind' });
  expect(full.status).toBe(201);
  expect(full.body.requestedFen).toBe(19_800);
  expect((await kit.support(`/support/refunds/${full.body.requestId}/approve`, {})).status).toBe(200);
  const refunded = await kit.waitForStatus(buyer, order.orderId, 'REFUNDED');
  expect(refunded.totals).toMatchObject({ paidFen: 19_800, refundedFen: 19_800 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 19_800, refundedFen: 19_800 });
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
  // Both units back to the campaign (pool and counter) and to the buyer's limit; normal stock untouched.
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ reserved: 0, sold: 0, available: 3 });
  expect(await flashSale.getCampaignState(campaignId)).toMatchObject({ cap: 3, taken: 0, remaining: 3 });
  expect(await flashSale.buyerHolding(campaignId, buyer)).toEqual({ units: 0, orders: 0 });
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 50, reserved: 0 });
});

test('multi-unit flash order after shipment: a partial refund (goods not received) is allowed; the units stay sold, no stock moves', async () => {
  const { campaignId, skuId } = await addFlashCampaign(env, `fs_partial_shipped_${env.id}`, { stockCap: 3, perUserLimit: 2, flashPriceFen: 9_900 });
  const buyer = `mem_fsps_${env.id}`;
  await addMember(env.pool, buyer);
  const flashSale = createFlashSaleService({ pool: env.pool });
  const { inventory } = services(env.pool);

  const placed = await attempt(api, campaignId, buyer, { skuId, quantity: 2 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect((await kit.support(`/sandbox/intents/${order.payment.intentId}/pay`, {})).status).toBe(200);
  await kit.waitForStatus(buyer, order.orderId, 'PAID');
  await kit.ship(order.orderId);
  await kit.waitForStatus(buyer, order.orderId, 'SHIPPED');

  const partial = await kit.askRefund(buyer, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'one parcel lost' });
  expect(partial.status).toBe(201);
  expect((await kit.support(`/support/refunds/${partial.body.requestId}/approve`, {})).status).toBe(200);
  await kit.waitForRequest(partial.body.requestId, 'REFUNDED');
  // The order learns of the paid refund by signal: it shows the refunded amount and stays SHIPPED.
  const shipped = await eventually(async () => {
    const current = await kit.getOrder(buyer, order.orderId);
    return current.totals.refundedFen > 0 ? current : undefined;
  }, 20_000, 'the refund shown on the order');
  expect(shipped.status).toBe('SHIPPED');
  expect(shipped.totals).toMatchObject({ paidFen: 19_800, refundedFen: 9_900 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 19_800, refundedFen: 9_900 });
  // Sold is sold: the campaign keeps both units, the buyer's limit stays taken, normal stock untouched.
  expect(await inventory.getCampaignStock(campaignId, skuId)).toMatchObject({ reserved: 0, sold: 2, available: 1 });
  expect(await flashSale.getCampaignState(campaignId)).toMatchObject({ taken: 2, remaining: 1 });
  expect(await flashSale.buyerHolding(campaignId, buyer)).toEqual({ units: 2, orders: 1 });
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 50, reserved: 0 });
});
