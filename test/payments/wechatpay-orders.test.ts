import request from 'supertest';
import { createFinanceService, type FinanceService } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';
import { startWechatpayEngine, type WechatpayTestEngine } from '../support/wechatpay-api';

/**
 * The standard order end to end with WeChat Pay APIv3: requests signed with the merchant key, answers
 * and notifications signed with the platform key, resources encrypted with the APIv3 key.
 */
let env: TestEnv;
let engine: WechatpayTestEngine;
let finance: FinanceService;
const shop = storefront(() => engine);
const PRICE = 3_300;
let sequence = 0;

beforeAll(async () => {
  env = await createTestEnv();
  engine = await startWechatpayEngine(env, { paymentMs: 5_000, autoConfirmDeliveryMs: 30_000, afterSalesWindowMs: 3_000, refundDecisionMs: 120_000, returnShipmentMs: 60_000 });
  finance = createFinanceService({ pool: env.pool, provider: engine.wechatpay });
});
afterAll(async () => {
  await engine?.close();
  await env.close();
});

async function placeOrder(quantity = 1): Promise<{ memberId: string; order: OrderView; intentId: string }> {
  sequence += 1;
  const memberId = `mem_wx_${sequence}`;
  const skuId = `sku_wx_${sequence}`;
  await addSku(env.pool, skuId, PRICE, 10);
  await addMember(env.pool, memberId);
  const placed = await shop.placeOrder(memberId, { lines: [{ skuId, quantity }] });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  return { memberId, order, intentId: order.payment.intentId! };
}

const refundsAtWechat = (intentId: string) => [...engine.gateway.trades.get(intentId)!.refunds.values()].map((refund) => refund.fen);
const cashOf = async (orderId: string) =>
  (await finance.entriesForOrder(orderId)).flatMap((entry) => entry.lines).filter((line) => line.account === 'cash:provider').reduce((sum, line) => sum + line.debitFen - line.creditFen, 0);
const paymentEvents = async (orderId: string) => Number((await env.pool.query('SELECT count(*) AS n FROM orders.payment_events WHERE order_id = $1', [orderId])).rows[0].n);

test('pay: Native code_url for the buyer; duplicate notifications count once; PAID and captured once', async () => {
  const { memberId, order, intentId } = await placeOrder(2);
  const checkout = await request(engine.url).get(`/payments/intents/${intentId}/checkout`).set('Authorization', customerAuth(memberId));
  expect(checkout.body.checkout.qrCode).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
  await engine.gateway.pay(intentId, { duplicates: 2 });
  const paid = await shop.waitForStatus(memberId, order.orderId, 'PAID');
  await engine.gateway.settle();
  expect(paid.timeline.filter((entry) => entry.event === 'payment received')).toHaveLength(1);
  expect(engine.gateway.deliveries.filter((delivery) => (delivery.body.id as string) && delivery.status === 204)).toHaveLength(3);
  expect(await paymentEvents(order.orderId)).toBe(1);
  expect(await cashOf(order.orderId)).toBe(2 * PRICE);
});

test('late pay: the notification arrives after the deadline; the order is cancelled and the money refunded once', async () => {
  const { memberId, order, intentId } = await placeOrder();
  await engine.gateway.pay(intentId, { delayMs: 8_000 });
  await shop.waitForStatus(memberId, order.orderId, 'CANCELLED', 30_000);
  await eventually(async () => (refundsAtWechat(intentId).length > 0 ? true : undefined), 20_000, 'the refund at WeChat Pay');
  await eventually(async () => (engine.gateway.deliveries.filter((delivery) => delivery.status === 204).length >= 4 ? true : undefined), 20_000, 'the late notification');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(refundsAtWechat(intentId)).toEqual([PRICE]);
  expect(await cashOf(order.orderId)).toBe(0);
});

test('cancel after pay with the refund answer lost once (HTTP 500 after the effect): one refund at WeChat Pay', async () => {
  const { memberId, order, intentId } = await placeOrder();
  await engine.gateway.pay(intentId);
  await shop.waitForStatus(memberId, order.orderId, 'PAID');
  const callsBefore = engine.gateway.calls.length;
  engine.gateway.failNext({ path: '/v3/refund/domestic/refunds', phase: 'after' });
  const cancel = await request(engine.url).post(`/orders/${order.orderId}/cancel`).set('Authorization', customerAuth(memberId)).send({ reason: 'changed my mind' });
  expect(cancel.status).toBe(200);
  await shop.waitForStatus(memberId, order.orderId, 'CANCELLED');
  await eventually(async () => ((await cashOf(order.orderId)) === 0 && (await finance.paymentsForOrder(order.orderId))[0].refundedFen === PRICE ? true : undefined), 20_000, 'the refund booked');
  expect(refundsAtWechat(intentId)).toEqual([PRICE]);
  expect(engine.gateway.calls.slice(callsBefore).filter((call) => call.method === 'POST' && call.path === '/v3/refund/domestic/refunds').map((call) => call.answered)).toEqual([500, 200]);
});

test('bad signature: 401, nothing changes; wrong amount and unknown trade: refused, recorded, never applied', async () => {
  const bad = await placeOrder();
  await engine.gateway.pay(bad.intentId, { badSignature: true });
  expect(engine.gateway.deliveries.at(-1)!.status).toBe(401);
  expect(await paymentEvents(bad.order.orderId)).toBe(0);
  expect((await shop.getOrder(bad.memberId, bad.order.orderId)).status).toBe('PENDING_PAYMENT');

  const wrong = await placeOrder();
  await engine.gateway.pay(wrong.intentId, { total: 1 });
  expect(engine.gateway.deliveries.at(-1)!.status).toBe(204);
  expect((await engine.gateway.notifyUnknownTrade(`${engine.url}/payments/wechatpay/notify`, 100)).status).toBe(204);
  expect((await shop.getOrder(wrong.memberId, wrong.order.orderId)).status).toBe('PENDING_PAYMENT');
  expect(await paymentEvents(wrong.order.orderId)).toBe(0);
  const listed = await request(engine.url).get('/admin/payments/refused-notifications').set('X-API-Key', API_KEYS.admin);
  expect(listed.body.refused).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ provider: 'wechatpay', intentId: wrong.intentId, reason: 'AMOUNT_MISMATCH', expected: { orderId: wrong.order.orderId, amountFen: PRICE, currency: 'CNY' } }),
      expect.objectContaining({ provider: 'wechatpay', reason: 'UNKNOWN_INTENT' }),
    ]),
  );
  expect(await cashOf(wrong.order.orderId)).toBe(0);
});

test('reconciliation reads the trade bill: once the refused payments were given back at their deadline, the day is clean to the fen', async () => {
  const pending = await env.pool.query<{ order_id: string; customer_id: string }>("SELECT order_id, customer_id FROM orders.orders WHERE status = 'PENDING_PAYMENT'");
  for (const order of pending.rows) await shop.waitForStatus(order.customer_id, order.order_id, 'CANCELLED', 30_000);
  const paidAtWechat = [...engine.gateway.trades.values()].filter((trade) => trade.successTime);
  await eventually(async () => {
    const booked = await env.pool.query("SELECT count(*) AS n FROM finance.journal_entries WHERE kind = 'PAYMENT_CAPTURED'");
    return Number(booked.rows[0].n) === paidAtWechat.length ? true : undefined;
  }, 30_000, 'every payment at WeChat Pay booked');
  await eventually(async () => ((await env.pool.query("SELECT 1 FROM finance.refunds WHERE state = 'PENDING'")).rowCount === 0 ? true : undefined), 20_000, 'refunds settled');
  const today = new Date().toISOString().slice(0, 10);
  const report = await finance.reconcile({ date: today });
  expect(report.differences).toEqual([]);
  const refunds = paidAtWechat.flatMap((trade) => [...trade.refunds.values()]);
  expect(report).toMatchObject({ status: 'CLEAN', providerCount: paidAtWechat.length + refunds.length });
  expect(report.providerNetFen).toBe(paidAtWechat.reduce((sum, trade) => sum + trade.total, 0) - refunds.reduce((sum, refund) => sum + refund.fen, 0));
  expect(report.ledgerNetFen).toBe(report.providerNetFen);
});
