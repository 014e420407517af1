import request from 'supertest';
import { createFinanceService } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { customerAuth, API_KEYS } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku, services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * Workers die: the order must finish anyway, and no effect may happen twice. The worker is stopped
 * right after placement; the payment callback reaches the server while no worker runs; the provider
 * then fails a capture *after* taking the money (as a crash after the call would look); a new worker
 * picks the order up, retries, and the money is captured exactly once.
 */
let env: TestEnv;
let api: TestApi;

beforeAll(async () => {
  env = await createTestEnv();
  api = await startTestApi(env);
});
afterAll(async () => {
  await api.close();
  await env.close();
});

test('a worker stopped mid-saga and a new one started: the order finishes, no effect applied twice', async () => {
  await addSku(env.pool, 'sku_restart', 5_000, 5);
  await addMember(env.pool, 'mem_restart', 0);
  const first = await env.startWorker();
  const placed = await request(api.url)
    .post('/orders')
    .set('Authorization', customerAuth('mem_restart'))
    .set('Idempotency-Key', 'restart-order-1')
    .send({ lines: [{ skuId: 'sku_restart', quantity: 2 }] });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  await first.stop();

  await api.sandbox.addBehaviour({ action: 'error', operation: 'capture', phase: 'after', orderId: order.orderId, count: 1 });
  const paid = await request(api.url).post(`/sandbox/intents/${order.payment.intentId}/pay`).send({});
  expect(paid.body.outcome).toBe('succeeded');
  // The callback is accepted and stored by the server although no worker runs.
  await eventually(async () => {
    const events = await env.pool.query(`SELECT 1 FROM orders.payment_events WHERE order_id = $1`, [order.orderId]);
    return events.rowCount ? true : undefined;
  }, 15_000, 'the payment callback');

  const second = await env.startWorker();
  try {
    const view = await eventually(async () => {
      const response = await request(api.url).get(`/orders/${order.orderId}`).set('Authorization', customerAuth('mem_restart'));
      return response.body.status === 'PAID' ? (response.body as OrderView) : undefined;
    }, 30_000, 'the order to be paid');
    expect(view.totals.paidFen).toBe(10_000);

    const from = new Date(Date.now() - 3_600_000);
    const to = new Date(Date.now() + 3_600_000);
    const captures = (await api.sandbox.listTransactions({ from, to })).filter(
      (transaction) => transaction.orderId === order.orderId && transaction.kind === 'capture',
    );
    expect(captures.map((capture) => capture.amountFen)).toEqual([10_000]);
    const finance = createFinanceService({ pool: env.pool, provider: api.sandbox });
    expect((await finance.entriesForOrder(order.orderId)).map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED']);
    expect(await services(env.pool).inventory.getStock('sku_restart')).toMatchObject({ onHand: 5, reserved: 2 });
    expect((await services(env.pool).member.getMember('mem_restart')).points).toEqual({ available: 0, held: 0, pending: 100 });

    // And the rest of the saga runs on the new worker.
    const shipped = await request(api.url)
      .post(`/warehouse/orders/${order.orderId}/ship`)
      .set('X-API-Key', API_KEYS.warehouse)
      .send({ carrier: 'YTO', trackingNumber: 'YT0001' });
    expect(shipped.body.status).toBe('SHIPPED');
    expect(await services(env.pool).inventory.getStock('sku_restart')).toMatchObject({ onHand: 3, reserved: 0 });
  } finally {
    await second.stop();
  }
});
