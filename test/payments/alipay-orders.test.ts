import request from 'supertest';
import { createFinanceService, fenToYuan, type FinanceService } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { startAlipayEngine, type AlipayTestEngine } from '../support/alipay-api';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/**
 * The standard order end to end with Alipay as the provider: the adapter talks to the local gateway
 * (Alipay's protocol, keys of this run), the gateway's signed notifications come to
 * /payments/alipay/notify and pass the payment gate before they reach the order.
 */
let env: TestEnv;
let engine: AlipayTestEngine;
let finance: FinanceService;
const shop = storefront(() => engine);
const PRICE = 6_000;
let sequence = 0;

beforeAll(async () => {
  env = await createTestEnv();
  engine = await startAlipayEngine(env, { paymentMs: 5_000, autoConfirmDeliveryMs: 30_000, afterSalesWindowMs: 3_000, refundDecisionMs: 120_000, returnShipmentMs: 60_000 });
  finance = createFinanceService({ pool: env.pool, provider: engine.alipay });
});
afterAll(async () => {
  await engine?.close();
  await env.close();
});

async function placeOrder(quantity = 1): Promise<{ memberId: string; order: OrderView; intentId: string }> {
  sequence += 1;
  const memberId = `mem_ali_${sequence}`;
  const skuId = `sku_ali_${sequence}`;
  await addSku(env.pool, skuId, PRICE, 10);
  await addMember(env.pool, memberId);
  const placed = await shop.placeOrder(memberId, { lines: [{ skuId, quantity }] });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect(order.status).toBe('PENDING_PAYMENT');
  return { memberId, order, intentId: order.payment.intentId! };
}

const refundsAtAlipay = (intentId: string) => [...engine.gateway.trades.get(intentId)!.refunds.values()].map((refund) => refund.fen);
const cashOf = async (orderId: string) =>
  (await finance.entriesForOrder(orderId)).flatMap((entry) => entry.lines).filter((line) => line.account === 'cash:provider').reduce((sum, line) => sum + line.debitFen - line.creditFen, 0);
const paymentEvents = async (orderId: string) => Number((await env.pool.query('SELECT count(*) AS n FROM orders.payment_events WHERE order_id = $1', [orderId])).rows[0].n);

test('pay: the buyer gets the QR code, pays, duplicate and out-of-order notifications count once; the order is PAID and captured once', async () => {
  const { memberId, order, intentId } = await placeOrder(2);
  const checkout = await request(engine.url).get(`/payments/intents/${intentId}/checkout`).set('Authorization', customerAuth(memberId));
  expect(checkout.status).toBe(200);
  expect(checkout.body).toMatchObject({ orderId: order.orderId, amountFen: 2 * PRICE, checkout: { qrCode: expect.stringMatching(/^https:\/\/qr\.alipay\.com\//) } });
  expect((await request(engine.url).get(`/payments/intents/${intentId}/checkout`).set('Authorization', customerAuth('mem_someone_else'))).status).toBe(404);

  await engine.gateway.pay(intentId, { duplicates: 2, statuses: ['TRADE_FINISHED', 'TRADE_SUCCESS'] });
  const paid = await shop.waitForStatus(memberId, order.orderId, 'PAID');
  await engine.gateway.settle();
  expect(paid.timeline.filter((entry) => entry.event === 'payment received')).toHaveLength(1);
  const delivered = engine.gateway.deliveries.filter((delivery) => delivery.fields.out_trade_no === intentId);
  expect(delivered.length).toBe(6);
  expect(delivered.every((delivery) => delivery.status === 200 && delivery.body === 'success')).toBe(true);
  expect(await paymentEvents(order.orderId)).toBe(1);
  expect(await cashOf(order.orderId)).toBe(2 * PRICE);
  const [payment] = await finance.paymentsForOrder(order.orderId);
  expect(payment).toMatchObject({ state: 'CAPTURED', capturedFen: 2 * PRICE, captureId: engine.gateway.trades.get(intentId)!.tradeNo });
});

test('late pay: paid just before the deadline, the notification arrives after it: the order is cancelled and the money refunded once', async () => {
  const { memberId, order, intentId } = await placeOrder();
  await engine.gateway.pay(intentId, { delayMs: 8_000 });
  const cancelled = await shop.waitForStatus(memberId, order.orderId, 'CANCELLED', 30_000);
  expect(cancelled.payment.status).not.toBe('SUCCEEDED');
  await eventually(async () => (refundsAtAlipay(intentId).length > 0 ? true : undefined), 20_000, 'the refund at Alipay');
  // The late notification itself comes, and adds nothing.
  await eventually(async () => (engine.gateway.deliveries.some((delivery) => delivery.fields.out_trade_no === intentId && delivery.body === 'success') ? true : undefined), 20_000, 'the late notification');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(refundsAtAlipay(intentId)).toEqual([PRICE]);
  expect(engine.gateway.trades.get(intentId)!.status).toBe('TRADE_CLOSED');
  expect(await cashOf(order.orderId)).toBe(0);
  expect((await finance.entriesForOrder(order.orderId)).map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
});

test('cancel after pay, with the refund answer lost once (HTTP 500 after the effect): one refund at Alipay, order CANCELLED', async () => {
  const { memberId, order, intentId } = await placeOrder();
  await engine.gateway.pay(intentId);
  await shop.waitForStatus(memberId, order.orderId, 'PAID');
  engine.gateway.failNext({ method: 'alipay.trade.refund', phase: 'after' });
  const cancel = await request(engine.url).post(`/orders/${order.orderId}/cancel`).set('Authorization', customerAuth(memberId)).send({ reason: 'changed my mind' });
  expect(cancel.status).toBe(200);
  await shop.waitForStatus(memberId, order.orderId, 'CANCELLED');
  await eventually(async () => ((await finance.paymentsForOrder(order.orderId))[0].refundedFen === PRICE && (await cashOf(order.orderId)) === 0 ? true : undefined), 20_000, 'the refund booked');
  expect(refundsAtAlipay(intentId)).toEqual([PRICE]);
  expect(engine.gateway.calls.filter((call) => call.method === 'alipay.trade.refund' && call.biz.out_trade_no === intentId).map((call) => call.answered)).toEqual([500, 200]);
});

test('partial refund: one of two units refunded after support approves; Alipay refunds exactly that, the rest stays captured', async () => {
  const { memberId, order, intentId } = await placeOrder(2);
  await engine.gateway.pay(intentId);
  await shop.waitForStatus(memberId, order.orderId, 'PAID');
  const asked = await request(engine.url)
    .post(`/orders/${order.orderId}/refunds`)
    .set('Authorization', customerAuth(memberId))
    .send({ kind: 'REFUND_ONLY', lines: [{ skuId: order.lines[0].skuId, quantity: 1 }], reason: 'one was broken' });
  expect(asked.status).toBe(201);
  const approved = await request(engine.url).post(`/support/refunds/${asked.body.requestId}/approve`).set('X-API-Key', API_KEYS.support).send({});
  expect(approved.status).toBe(200);
  await eventually(async () => (refundsAtAlipay(intentId).length === 1 && (await cashOf(order.orderId)) === PRICE ? true : undefined), 30_000, 'the partial refund');
  expect(refundsAtAlipay(intentId)).toEqual([PRICE]);
  expect(engine.gateway.trades.get(intentId)!.status).toBe('TRADE_SUCCESS');
  expect((await finance.paymentsForOrder(order.orderId))[0]).toMatchObject({ capturedFen: 2 * PRICE, refundedFen: PRICE });
});

test('a notification with a bad signature is 401 and changes nothing', async () => {
  const { memberId, order, intentId } = await placeOrder();
  await engine.gateway.pay(intentId, { badSignature: true });
  const attempts = engine.gateway.deliveries.filter((delivery) => delivery.fields.out_trade_no === intentId);
  expect(attempts.map((attempt) => attempt.status)).toEqual([401]);
  expect(await paymentEvents(order.orderId)).toBe(0);
  expect((await shop.getOrder(memberId, order.orderId)).status).toBe('PENDING_PAYMENT');
  expect(await cashOf(order.orderId)).toBe(0);
  const refused = await env.pool.query('SELECT 1 FROM finance.refused_notifications WHERE intent_id = $1', [intentId]);
  expect(refused.rowCount).toBe(0);
});

test('a signed notification with the wrong amount, or for an unknown trade, is refused, recorded for ops and never applied', async () => {
  const { memberId, order, intentId } = await placeOrder();
  await engine.gateway.pay(intentId, { totalAmount: fenToYuan(PRICE - 5_900) });
  const unknown = await engine.gateway.notifyUnknownTrade(`${engine.url}/payments/alipay/notify`, '1.00');
  expect(unknown).toMatchObject({ status: 200, body: 'success' });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const view = await shop.getOrder(memberId, order.orderId);
  expect(view.status).toBe('PENDING_PAYMENT');
  expect(view.timeline.some((entry) => entry.event === 'payment received')).toBe(false);
  expect(await paymentEvents(order.orderId)).toBe(0);
  expect(await cashOf(order.orderId)).toBe(0);

  expect((await request(engine.url).get('/admin/payments/refused-notifications')).status).toBe(401);
  expect((await request(engine.url).get('/admin/payments/refused-notifications').set('X-API-Key', API_KEYS.support)).status).toBe(403);
  const listed = await request(engine.url).get('/admin/payments/refused-notifications').set('X-API-Key', API_KEYS.admin);
  expect(listed.status).toBe(200);
  expect(listed.body.refused).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        provider: 'alipay',
        intentId,
        orderId: order.orderId,
        reason: 'AMOUNT_MISMATCH',
        expected: { orderId: order.orderId, amountFen: PRICE, currency: 'CNY' },
        received: expect.objectContaining({ total_amount: '1.00', out_trade_no: intentId }),
      }),
      expect.objectContaining({ provider: 'alipay', reason: 'UNKNOWN_INTENT', orderId: null }),
    ]),
  );
  // The order still takes the real payment: the trade is paid at Alipay, so the order is cancelled
  // at its deadline and the money goes back in full.
  await shop.waitForStatus(memberId, order.orderId, 'CANCELLED', 30_000);
  await eventually(async () => (refundsAtAlipay(intentId).length === 1 ? true : undefined), 20_000, 'the refund of the unrecognised payment');
  expect(refundsAtAlipay(intentId)).toEqual([PRICE]);
});
