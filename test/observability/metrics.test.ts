import request from 'supertest';
import { createApp } from '../../api/app';
import { SIGNATURE_HEADER } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { customerAuth, testApiSettings } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';
import { parseMetrics } from './support';

/**
 * The API's /metrics: the business counters move when an order is placed, paid and refunded, and a
 * refusal, a forged webhook and the HTTP latency histogram show up too.
 */
let env: TestEnv;
let api: TestApi;
beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  api = await startTestApi(env);
});
afterAll(async () => {
  await api.close();
  await env.close();
});

const { placeOrder, pay, waitForStatus } = storefront(() => api);

async function scrape(): Promise<Map<string, number>> {
  const response = await request(api.url).get('/metrics');
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(response.text);
}

function delta(before: Map<string, number>, after: Map<string, number>, series: string): number {
  return (after.get(series) ?? 0) - (before.get(series) ?? 0);
}

test('placing, paying and refunding an order moves the business counters', async () => {
  await addSku(env.pool, 'sku_metrics', 10_000, 5);
  await addMember(env.pool, 'mem_metrics');
  const before = await scrape();

  const placed = await placeOrder('mem_metrics', { lines: [{ skuId: 'sku_metrics', quantity: 1 }] });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  await pay(order.payment.intentId!);
  await waitForStatus('mem_metrics', order.orderId, 'PAID');
  const cancelled = await request(api.url).post(`/orders/${order.orderId}/cancel`).set('Authorization', customerAuth('mem_metrics')).send({ reason: 'changed my mind' });
  expect(cancelled.status).toBe(200);
  const refused = await placeOrder('mem_metrics', { lines: [{ skuId: 'sku_metrics', quantity: 99 }] });
  expect(refused.status).toBe(422);

  const after = await scrape();
  expect(delta(before, after, 'order_engine_orders_placed_total{type="standard"}')).toBe(1);
  expect(delta(before, after, `order_engine_orders_rejected_total{type="standard",reason="${refused.body.type.split('/').pop()}"}`)).toBe(1);
  expect(delta(before, after, 'order_engine_payments_total{outcome="succeeded"}')).toBe(1);
  expect(delta(before, after, 'order_engine_refunds_total{kind="cancellation"}')).toBe(1);
  expect(delta(before, after, 'order_engine_refunded_fen_total{kind="cancellation"}')).toBe(10_000);
  // The cancellation undid the order's steps (the refund, the reservation); the refused order undid
  // its reservation attempt too (an undo is registered before its step runs).
  expect(delta(before, after, 'order_engine_compensations_total{step="refundPayment"}')).toBe(1);
  expect(delta(before, after, 'order_engine_compensations_total{step="releaseStock"}')).toBe(2);
  expect(delta(before, after, 'order_engine_http_request_duration_seconds_count{method="POST",route="/orders",status_code="201"}')).toBe(1);
  expect(delta(before, after, 'order_engine_http_request_duration_seconds_count{method="POST",route="/orders/:id/cancel",status_code="200"}')).toBe(1);
});

test('a webhook with a forged signature counts as a signature failure', async () => {
  const before = await scrape();
  const forged = await request(api.url)
    .post('/payments/webhook')
    .set(SIGNATURE_HEADER, `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`)
    .send({ id: 'evt_forged', type: 'payment.succeeded', created: 1, data: { orderId: 'ord_x', intentId: 'pi_x', amountFen: 1 } });
  expect(forged.status).toBe(401);
  const after = await scrape();
  expect(delta(before, after, 'order_engine_webhook_signature_failures_total{route="/payments/webhook"}')).toBe(1);
});

test('every business metric is exposed with its help text, and gauges that cannot be computed are left out', async () => {
  const response = await request(api.url).get('/metrics');
  for (const name of [
    'order_engine_orders_placed_total',
    'order_engine_orders_rejected_total',
    'order_engine_payments_total',
    'order_engine_refunds_total',
    'order_engine_compensations_total',
    'order_engine_compensation_failures_total',
    'order_engine_flash_sale_admissions_total',
    'order_engine_flash_sale_refusals_total',
    'order_engine_webhook_signature_failures_total',
    'order_engine_orders_needs_attention',
    'order_engine_reconciliation_differences',
    'order_engine_http_request_duration_seconds',
  ]) {
    expect(response.text).toContain(`# HELP ${name} `);
  }
  // No reconciliation report in this database yet: no made-up zero.
  expect([...parseMetrics(response.text).keys()].some((series) => series.startsWith('order_engine_reconciliation_differences'))).toBe(false);
  // A visibility count of this engine's task queue (other test files share the namespace): none here.
  expect(parseMetrics(response.text).get('order_engine_orders_needs_attention{phase="NEEDS_ATTENTION"}')).toBe(0);
});

test('with METRICS_TOKEN set, /metrics needs it as a bearer token', async () => {
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: { ...testApiSettings(env), metricsToken: 'metrics-token-0123456789' } });
  const anonymous = await request(app).get('/metrics');
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers['content-type']).toMatch(/problem\+json/);
  expect((await request(app).get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789')).status).toBe(401);
  const scraped = await request(app).get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789');
  expect(scraped.status).toBe(200);
  expect(scraped.text).toContain('order_engine_orders_placed_total');
});
