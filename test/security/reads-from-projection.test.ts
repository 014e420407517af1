import request from 'supertest';
import { customerAuth } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type RunningWorker, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/**
 * `GET /orders/{id}` answers from the order's PostgreSQL projection, never by replaying a workflow:
 * current right after the buyer's placement and after each accepted update (the API writes the view
 * the update answered before it answers), and the same with the worker stopped, when no query could
 * be answered at all.
 */
let env: TestEnv;
let worker: RunningWorker | undefined;
let api: TestApi;
const shop = storefront(() => api);

beforeAll(async () => {
  env = await createTestEnv();
  worker = await env.startWorker();
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_read', 1_000, 2);
  await addMember(env.pool, 'mem_read');
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await env?.close();
});

const read = (orderId: string) => request(api.url).get(`/orders/${orderId}`).set('Authorization', customerAuth('mem_read'));

test('reads are current after placement and after an accepted update, and come from the projection', async () => {
  const placed = await shop.placeOrder('mem_read', { lines: [{ skuId: 'sku_read', quantity: 1 }] }, 'read-running-1');
  expect(placed.status).toBe(201);
  const orderId = placed.body.orderId;
  const afterPlacement = await read(orderId);
  expect(afterPlacement.status).toBe(200);
  expect(afterPlacement.body.status).toBe('PENDING_PAYMENT');
  expect(afterPlacement.body.version).toBeGreaterThanOrEqual(placed.body.version);

  await shop.pay(placed.body.payment.intentId);
  await eventually(async () => ((await read(orderId)).body.status === 'PAID' ? true : undefined), 60_000, 'the order to be PAID');
  const shipped = await shop.ship(orderId);
  expect(shipped.status).toBe('SHIPPED');
  // Read at once: the projection already has what the update answered.
  const afterShip = await read(orderId);
  expect(afterShip.body.status).toBe('SHIPPED');
  expect(afterShip.body.version).toBeGreaterThanOrEqual(shipped.version);
  expect(afterShip.body.shipment?.trackingNumber).toBe('SF1');

  const rejected = await shop.placeOrder('mem_read', { lines: [{ skuId: 'sku_read', quantity: 5 }] }, 'read-rejected-1');
  expect(rejected.status).toBe(422);

  await worker!.stop();
  worker = undefined;
  // Mark the stored rows: what answers now can only have come from PostgreSQL.
  await env.pool.query(`UPDATE orders.orders SET view = jsonb_set(view, '{readFrom}', '"projection"') WHERE order_id = ANY($1)`, [[orderId, rejected.body.orderId]]);
  const running = await read(orderId);
  expect(running.status).toBe(200);
  expect(running.body).toMatchObject({ status: 'SHIPPED', readFrom: 'projection' });
  const closed = await read(rejected.body.orderId);
  expect(closed.status).toBe(200);
  expect(closed.body).toMatchObject({ status: 'REJECTED', readFrom: 'projection' });
});

test('an order without a projection row yet is not found rather than invented', async () => {
  const missing = await read('ord_never_placed');
  expect(missing.status).toBe(404);
});
