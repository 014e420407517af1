import request from 'supertest';
import { createFinanceService } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addFullReduction, addMember, addSku, issueAmountOffCoupon, services } from '../support/fixtures';
import { createTestEnv, type RunningWorker, type TestEnv } from '../support/harness';
import { recordHistory } from '../support/histories';
import { storefront } from '../support/storefront';

/**
 * The standard order saga end to end, through the storefront API, the sandbox provider's signed
 * webhook, the warehouse and carrier endpoints, on the real Temporal server and PostgreSQL.
 * Timings are shortened: payment 4 s, auto-confirm 6 s, after-sales window 2 s.
 */
let env: TestEnv;
let api: TestApi;
let worker: RunningWorker;

// 100 yuan a unit; spend 200 save 20; a 20-yuan coupon from 100 yuan.
const PRICE = 10_000;
let sequence = 0;

beforeAll(async () => {
  env = await createTestEnv();
  worker = await env.startWorker();
  api = await startTestApi(env);
  await addFullReduction(env.pool, 'promo_200_20', [{ thresholdFen: 20_000, discountFen: 2_000 }]);
});
afterAll(async () => {
  await api.close();
  await env.close();
});

/** A fresh SKU and member per test, so tests do not see each other's stock and points. */
async function shop(stock = 10, points = 2_000) {
  sequence += 1;
  const skuId = `sku_tea_${sequence}`;
  const memberId = `mem_${sequence}_${env.id}`;
  await addSku(env.pool, skuId, PRICE, stock);
  await addMember(env.pool, memberId, points);
  const couponId = await issueAmountOffCoupon(env.pool, memberId, 2_000, { minSpendFen: 10_000 });
  return { skuId, memberId, couponId };
}

const { placeOrder, getOrder, waitForStatus, pay } = storefront(() => api);

async function balances() {
  const finance = createFinanceService({ pool: env.pool, provider: api.sandbox });
  const rows = await finance.accountBalances();
  return Object.fromEntries(rows.map((row) => [row.account, row.balanceFen]));
}

async function ledgerForOrder(orderId: string) {
  const finance = createFinanceService({ pool: env.pool, provider: api.sandbox });
  return finance.entriesForOrder(orderId);
}

async function memberPoints(memberId: string) {
  return (await services(env.pool).member.getMember(memberId)).points;
}

test('happy path: placed, paid by webhook, shipped, delivered, completed, with stock, coupon, points and ledger as the rules say', async () => {
  const { skuId, memberId, couponId } = await shop();
  // 3 × 100 = 300 yuan; promotion −20 → 280; coupon −20 → 260; 1,000 points −10 → 250 yuan to pay.
  const placed = await placeOrder(memberId, { lines: [{ skuId, quantity: 3 }], couponId, pointsToRedeem: 1_000 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect(order.status).toBe('PENDING_PAYMENT');
  expect(order.totals).toMatchObject({
    listFen: 30_000,
    promotionDiscountFen: 2_000,
    couponDiscountFen: 2_000,
    pointsDiscountFen: 1_000,
    payableFen: 25_000,
    pointsUsed: 1_000,
  });
  expect(order.lines).toHaveLength(1);
  expect(order.lines[0]).toMatchObject({ skuId, quantity: 3, listFen: 30_000, payableFen: 25_000 });
  expect(order.payment).toMatchObject({ status: 'PENDING', amountFen: 25_000, intentId: expect.any(String) });

  const { inventory, marketing } = services(env.pool);
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 3, available: 7 });
  expect((await marketing.findCoupon(couponId))?.state).toBe('LOCKED');
  expect(await memberPoints(memberId)).toEqual({ available: 1_000, held: 1_000, pending: 0 });

  await pay(order.payment.intentId!);
  const paid = await waitForStatus(memberId, order.orderId, 'PAID');
  expect(paid.totals.paidFen).toBe(25_000);
  expect((await marketing.findCoupon(couponId))?.state).toBe('USED');
  // 1 point per yuan paid, pending until completion; the held points are spent.
  expect(await memberPoints(memberId)).toEqual({ available: 1_000, held: 0, pending: 250 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ status: 'captured', capturedFen: 25_000 });

  const shipped = await request(api.url)
    .post(`/warehouse/orders/${order.orderId}/ship`)
    .set('X-API-Key', API_KEYS.warehouse)
    .send({ carrier: 'SF Express', trackingNumber: 'SF1234567890' });
  expect(shipped.status).toBe(200);
  expect(shipped.body.status).toBe('SHIPPED');
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 7, reserved: 0, available: 7 });

  const delivered = await request(api.url).post(`/carrier/orders/${order.orderId}/delivered`).set('X-API-Key', API_KEYS.carrier).send({});
  expect(delivered.status).toBe(200);
  expect(delivered.body.status).toBe('DELIVERED');

  const completed = await waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.timeline.map((entry) => entry.status).filter(Boolean)).toEqual([
    'PLACING',
    'PENDING_PAYMENT',
    'PAID',
    'SHIPPED',
    'DELIVERED',
    'COMPLETED',
  ]);
  expect(await memberPoints(memberId)).toEqual({ available: 1_250, held: 0, pending: 0 });
  const member = await services(env.pool).member.getMember(memberId);
  expect(member.completedSpendFen).toBe(25_000);

  const entries = await ledgerForOrder(order.orderId);
  expect(entries.map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'REVENUE_RECOGNISED']);
  for (const entry of entries) {
    const debits = entry.lines.reduce((sum, line) => sum + line.debitFen, 0);
    const credits = entry.lines.reduce((sum, line) => sum + line.creditFen, 0);
    expect(debits).toBe(credits);
    expect(debits).toBe(25_000);
  }

  // The projection the API lists from agrees.
  const listed = await request(api.url).get(`/orders?customerId=${memberId}`).set('Authorization', customerAuth(memberId));
  expect(listed.status).toBe(200);
  expect(listed.body.orders.map((o: OrderView) => [o.orderId, o.status])).toEqual([[order.orderId, 'COMPLETED']]);
  await recordHistory(env, order.orderId, 'standard-happy-path');
});

test('payment timeout cancels: stock, coupon and points restored; a payment arriving later is given back', async () => {
  const { skuId, memberId, couponId } = await shop();
  const placed = await placeOrder(memberId, { lines: [{ skuId, quantity: 2 }], couponId, pointsToRedeem: 500 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;

  // The buyer pays just in time, but the provider's callback is held back past the payment deadline.
  await api.sandbox.addBehaviour({ action: 'delay', operation: 'webhook', orderId: order.orderId, delayMs: 6_000 });
  await pay(order.payment.intentId!);

  const cancelled = await waitForStatus(memberId, order.orderId, 'CANCELLED');
  expect(cancelled.cancellation).toMatchObject({ reason: 'payment timeout', by: 'system' });
  const { inventory, marketing } = services(env.pool);
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect((await marketing.findCoupon(couponId))?.state).toBe('AVAILABLE');
  expect(await memberPoints(memberId)).toEqual({ available: 2_000, held: 0, pending: 0 });

  // The late callback reaches a finished order: the money is given back, never kept.
  const eventId = await eventually(async () => {
    const events = await env.pool.query<{ event_id: string }>(
      `SELECT event_id FROM orders.payment_events WHERE order_id = $1 AND kind = 'payment.succeeded'`,
      [order.orderId],
    );
    return events.rows[0]?.event_id;
  }, 20_000, 'the late payment callback');
  const lateRefund = env.temporal.workflow.getHandle(`late-payment-${eventId}`);
  await lateRefund.result();
  expect((await lateRefund.describe()).status.name).toBe('COMPLETED');
  const intent = await api.sandbox.getIntent(order.payment.intentId!);
  expect(intent.capturedFen - intent.refundedFen).toBe(0);
  expect(intent.status).toBe('cancelled');
  const cash = (await ledgerForOrder(order.orderId)).filter((entry) => entry.kind === 'PAYMENT_CAPTURED');
  expect(cash).toHaveLength(0);
  await recordHistory(env, order.orderId, 'standard-payment-timeout');
});

test('buyer cancel after payment: refunded in full, stock back, coupon and points returned', async () => {
  const { skuId, memberId, couponId } = await shop();
  const placed = await placeOrder(memberId, { lines: [{ skuId, quantity: 1 }], couponId, pointsToRedeem: 400 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  // 100 yuan; no promotion (below 200); coupon −20 → 80; 400 points −4 → 76 yuan.
  expect(order.totals.payableFen).toBe(7_600);
  await pay(order.payment.intentId!);
  await waitForStatus(memberId, order.orderId, 'PAID');

  const cancelled = await request(api.url)
    .post(`/orders/${order.orderId}/cancel`)
    .set('Authorization', customerAuth(memberId))
    .send({ reason: 'changed my mind' });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('CANCELLED');

  const { inventory, marketing } = services(env.pool);
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect((await marketing.findCoupon(couponId))?.state).toBe('AVAILABLE');
  expect(await memberPoints(memberId)).toEqual({ available: 2_000, held: 0, pending: 0 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 7_600, refundedFen: 7_600 });
  const kinds = (await ledgerForOrder(order.orderId)).map((entry) => entry.kind);
  expect(kinds).toEqual(['PAYMENT_CAPTURED', 'REFUND']);

  // Cancelling again is a conflict, not a second refund.
  const again = await request(api.url).post(`/orders/${order.orderId}/cancel`).set('Authorization', customerAuth(memberId)).send({});
  expect(again.status).toBe(409);
  expect(again.headers['content-type']).toMatch(/problem\+json/);
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ refundedFen: 7_600 });
  await recordHistory(env, order.orderId, 'standard-buyer-cancel');
});

test('shipment failure: refunded and compensated', async () => {
  const { skuId, memberId } = await shop();
  const placed = await placeOrder(memberId, { lines: [{ skuId, quantity: 2 }] });
  const order = placed.body as OrderView;
  // 200 yuan reaches the full reduction: 180 yuan.
  expect(order.totals.payableFen).toBe(18_000);
  await pay(order.payment.intentId!);
  await waitForStatus(memberId, order.orderId, 'PAID');

  const failed = await request(api.url)
    .post(`/warehouse/orders/${order.orderId}/shipment-failed`)
    .set('X-API-Key', API_KEYS.warehouse)
    .send({ reason: 'carrier refused the parcel' });
  expect(failed.status).toBe(200);
  expect(failed.body.status).toBe('CANCELLED');
  expect(failed.body.cancellation.reason).toContain('carrier refused');
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await memberPoints(memberId)).toEqual({ available: 2_000, held: 0, pending: 0 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 18_000, refundedFen: 18_000 });

  // Shipping a cancelled order is refused.
  const ship = await request(api.url)
    .post(`/warehouse/orders/${order.orderId}/ship`)
    .set('X-API-Key', API_KEYS.warehouse)
    .send({ carrier: 'SF', trackingNumber: 'X1' });
  expect(ship.status).toBe(409);
});

test.each([
  ['out of stock', { quantity: 11 }, 'OUT_OF_STOCK'],
  ['a coupon that is not usable', { coupon: 'cpn_does_not_exist' }, 'COUPON_NOT_USABLE'],
  ['more points than allowed (over 50% of the order)', { points: 6_000 }, 'TOO_MANY_POINTS'],
  ['more points than the member has', { points: 4_000, memberPoints: 1_000 }, 'INSUFFICIENT_POINTS'],
])('rejected with 422 for %s, leaving nothing held', async (_name, variant, reason) => {
  const v = variant as { quantity?: number; coupon?: string; points?: number; memberPoints?: number };
  const { skuId, memberId, couponId } = await shop(10, v.memberPoints ?? 2_000);
  const response = await placeOrder(memberId, {
    lines: [{ skuId, quantity: v.quantity ?? 1 }],
    ...(v.coupon ? { couponId: v.coupon } : { couponId }),
    ...(v.points ? { pointsToRedeem: v.points } : {}),
  });
  expect(response.status).toBe(422);
  expect(response.headers['content-type']).toMatch(/problem\+json/);
  expect(response.body.reason).toBe(reason);
  expect(response.body.detail).toEqual(expect.any(String));

  const { inventory, marketing } = services(env.pool);
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect((await marketing.findCoupon(couponId))?.state).toBe('AVAILABLE');
  const points = await memberPoints(memberId);
  expect(points.held).toBe(0);
  expect(points.available).toBe(v.memberPoints ?? 2_000);
  const rejected = await getOrder(memberId, response.body.orderId);
  expect(rejected.status).toBe('REJECTED');
  expect(rejected.rejection?.code).toBe(reason);
});

test('the same Idempotency-Key gives one order and one workflow; another body under it is 422', async () => {
  const { skuId, memberId } = await shop();
  const key = `dup-${memberId}`;
  const body = { lines: [{ skuId, quantity: 1 }] };
  const [first, second] = await Promise.all([placeOrder(memberId, body, key), placeOrder(memberId, body, key)]);
  expect([first.status, second.status]).toEqual([201, 201]);
  expect(second.body.orderId).toBe(first.body.orderId);
  expect(second.body.payment.intentId).toBe(first.body.payment.intentId);
  const third = await placeOrder(memberId, body, key);
  expect(third.body.orderId).toBe(first.body.orderId);
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ reserved: 1 });

  const conflicting = await placeOrder(memberId, { lines: [{ skuId, quantity: 2 }] }, key);
  expect(conflicting.status).toBe(422);
  expect(conflicting.body.type).toMatch(/idempotency-key-reused/);

  let runs = 0;
  for await (const run of env.temporal.workflow.list({ query: `WorkflowId = "order-${first.body.orderId}"` })) runs += run ? 1 : 0;
  expect(runs).toBe(1);
});

test('a key retried after its order closed and its idempotency row expired finds that order, never a second run', async () => {
  const { skuId, memberId } = await shop();
  const key = `late-retry-${memberId}`;
  const body = { lines: [{ skuId, quantity: 1 }] };
  const placed = await placeOrder(memberId, body, key);
  expect(placed.status).toBe(201);
  const cancel = await request(api.url).post(`/orders/${placed.body.orderId}/cancel`).set('Authorization', customerAuth(memberId)).send({ reason: 'changed my mind' });
  expect(cancel.status).toBe(200);
  await waitForStatus(memberId, placed.body.orderId, 'CANCELLED');
  await eventually(async () => ((await env.temporal.workflow.getHandle(`order-${placed.body.orderId}`).describe()).status.name === 'COMPLETED' ? true : undefined), 20_000, 'the run to close');
  // What the 24-hour sweeper does to the key's row.
  await env.pool.query('DELETE FROM api.idempotency_keys WHERE scope = $1 AND key = $2', [memberId, key]);

  const retried = await placeOrder(memberId, body, key);
  expect(retried.body).toMatchObject({ orderId: placed.body.orderId, status: 'CANCELLED' });
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ reserved: 0, onHand: 10 });
  let runs = 0;
  for await (const run of env.temporal.workflow.list({ query: `WorkflowId = "order-${placed.body.orderId}"` })) runs += run ? 1 : 0;
  expect(runs).toBe(1);
});

test('search attributes let ops list running orders by status and customer', async () => {
  const { skuId, memberId } = await shop();
  const placed = await placeOrder(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect(placed.status).toBe(201);
  const found = await eventually(async () => {
    const ids: string[] = [];
    for await (const run of env.temporal.workflow.list({
      query: `OrderStatus = "PENDING_PAYMENT" AND CustomerId = "${memberId}" AND OrderType = "STANDARD"`,
    })) {
      ids.push(run.workflowId);
    }
    return ids.length ? ids : undefined;
  }, 15_000, 'visibility to show the order');
  expect(found).toEqual([`order-${placed.body.orderId}`]);
  // What the order shows ops in the UI's "Current Details" (the workflow metadata query; no history event per change).
  const handle = env.temporal.workflow.getHandle(`order-${placed.body.orderId}`);
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toBe('**PENDING_PAYMENT** · phase AWAITING_PAYMENT · payable ¥100.00 · refunded ¥0.00');
  const described = await handle.describe();
  expect(described.searchAttributes).toMatchObject({ OrderStatus: ['PENDING_PAYMENT'], OrderPhase: ['AWAITING_PAYMENT'], OrderTotal: [10_000] });
  await recordHistory(env, placed.body.orderId, 'standard-awaiting-payment-running', { running: true });
});

test('a customer cannot see or cancel another customer\'s order; bad input is a 400 problem', async () => {
  const { skuId, memberId } = await shop();
  const placed = await placeOrder(memberId, { lines: [{ skuId, quantity: 1 }] });
  const other = `mem_other_${env.id}`;
  const peek = await request(api.url).get(`/orders/${placed.body.orderId}`).set('Authorization', customerAuth(other));
  expect(peek.status).toBe(404);
  const cancel = await request(api.url).post(`/orders/${placed.body.orderId}/cancel`).set('Authorization', customerAuth(other)).send({});
  expect(cancel.status).toBe(404);
  const anonymous = await request(api.url).get(`/orders/${placed.body.orderId}`);
  expect(anonymous.status).toBe(401);
  const wrongRole = await request(api.url)
    .post(`/warehouse/orders/${placed.body.orderId}/ship`)
    .set('Authorization', customerAuth(memberId))
    .send({ carrier: 'SF', trackingNumber: 'X' });
  expect(wrongRole.status).toBe(403);

  const invalid = await placeOrder(memberId, { lines: [{ skuId, quantity: 0 }, { skuId: '', quantity: 1.5 }] });
  expect(invalid.status).toBe(400);
  expect(invalid.body.errors.map((error: { field: string }) => error.field)).toEqual(
    expect.arrayContaining(['lines.0.quantity', 'lines.1.skuId', 'lines.1.quantity']),
  );
  const noKey = await request(api.url).post('/orders').set('Authorization', customerAuth(memberId)).send({ lines: [{ skuId, quantity: 1 }] });
  expect(noKey.status).toBe(400);
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ reserved: 1 });
  void worker;
});
