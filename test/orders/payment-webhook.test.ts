import request from 'supertest';
import { signWebhook } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { customerAuth, TEST_WEBHOOK_SECRET } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/** The provider's callback: only signed, fresh events count, and a replayed one has no second effect. */
let env: TestEnv;
let api: TestApi;

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_hook', 3_000, 5);
  await addMember(env.pool, 'mem_hook');
});
afterAll(async () => {
  await api.close();
  await env.close();
});

function post(body: string, signature?: string) {
  const call = request(api.url).post('/payments/webhook').set('content-type', 'application/json');
  return (signature ? call.set('X-Sandbox-Signature', signature) : call).send(body);
}

test('bad, missing and stale signatures are 401 and change nothing; a replayed event is answered once', async () => {
  const placed = await request(api.url)
    .post('/orders')
    .set('Authorization', customerAuth('mem_hook'))
    .set('Idempotency-Key', 'webhook-order-1')
    .send({ lines: [{ skuId: 'sku_hook', quantity: 1 }] });
  const order = placed.body as OrderView;
  // Authorise at the provider without its own webhook, then deliver the event by hand.
  await api.sandbox.addBehaviour({ action: 'delay', operation: 'webhook', orderId: order.orderId, delayMs: 600_000 });
  await request(api.url).post(`/sandbox/intents/${order.payment.intentId}/pay`).send({});

  const now = Math.floor(Date.now() / 1000);
  const event = { id: 'evt_manual_1', type: 'payment.succeeded', created: now, data: { orderId: order.orderId, intentId: order.payment.intentId, amountFen: 3_000, currency: 'CNY' } };
  const body = JSON.stringify(event);

  expect((await post(body)).status).toBe(401);
  expect((await post(body, signWebhook('another-secret-0123456789', body, now))).status).toBe(401);
  expect((await post(body, signWebhook(TEST_WEBHOOK_SECRET, body, now - 3_600))).status).toBe(401);
  const tampered = body.replace('"amountFen":3000', '"amountFen":1');
  const rejected = await post(tampered, signWebhook(TEST_WEBHOOK_SECRET, body, now));
  expect(rejected.status).toBe(401);
  expect(rejected.headers['content-type']).toMatch(/problem\+json/);
  const stored = await env.pool.query('SELECT 1 FROM orders.payment_events WHERE order_id = $1', [order.orderId]);
  expect(stored.rowCount).toBe(0);
  const stillPending = await request(api.url).get(`/orders/${order.orderId}`).set('Authorization', customerAuth('mem_hook'));
  expect(stillPending.body.status).toBe('PENDING_PAYMENT');

  const first = await post(body, signWebhook(TEST_WEBHOOK_SECRET, body, now));
  expect(first.status).toBe(200);
  expect(first.body).toEqual({ received: true, duplicate: false });
  const replay = await post(body, signWebhook(TEST_WEBHOOK_SECRET, body, now + 1));
  expect(replay.status).toBe(200);
  expect(replay.body).toEqual({ received: true, duplicate: true });

  const paid = await eventually(async () => {
    const view = await request(api.url).get(`/orders/${order.orderId}`).set('Authorization', customerAuth('mem_hook'));
    return view.body.status === 'PAID' ? (view.body as OrderView) : undefined;
  }, 15_000, 'the order to be paid');
  expect(paid.timeline.filter((entry) => entry.event === 'payment received')).toHaveLength(1);
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 3_000 });
});

test('an event that is not JSON of the expected shape is a 400 problem', async () => {
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ id: 'evt_bad', type: 'payment.succeeded', created: now, data: { orderId: 'x' } });
  const response = await post(body, signWebhook(TEST_WEBHOOK_SECRET, body, now));
  expect(response.status).toBe(400);
  expect(response.body.errors.map((error: { field: string }) => error.field)).toEqual(expect.arrayContaining(['data.intentId', 'data.amountFen']));
});
