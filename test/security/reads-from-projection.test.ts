import request from 'supertest';
import { QUERY_TIMEOUT_MS } from '../../api/temporal';
import { customerAuth } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type RunningWorker, type TestEnv } from '../support/harness';

/**
 * Reads never depend on replaying a closed workflow: a closed order answers from its projection at
 * once, and a running one whose query does not answer in time falls back to its projection.
 * Shown with the worker stopped, so no query can be answered at all.
 */
let env: TestEnv;
let worker: RunningWorker | undefined;
let api: TestApi;

beforeAll(async () => {
  env = await createTestEnv();
  worker = await env.startWorker();
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_read', 1_000, 1);
  await addMember(env.pool, 'mem_read');
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await env?.close();
});

const read = (orderId: string) => request(api.url).get(`/orders/${orderId}`).set('Authorization', customerAuth('mem_read'));

test('a closed order is read from its projection; a running one falls back to it when its query times out', async () => {
  const rejected = await request(api.url).post('/orders').set('Authorization', customerAuth('mem_read')).set('Idempotency-Key', 'read-rejected-1').send({ lines: [{ skuId: 'sku_read', quantity: 5 }] });
  expect(rejected.status).toBe(422);
  const running = await request(api.url).post('/orders').set('Authorization', customerAuth('mem_read')).set('Idempotency-Key', 'read-running-1').send({ lines: [{ skuId: 'sku_read', quantity: 1 }] });
  expect(running.status).toBe(201);
  await eventually(async () => ((await read(running.body.orderId)).body.status === 'PENDING_PAYMENT' ? true : undefined));
  await worker!.stop();
  worker = undefined;

  let started = Date.now();
  const closed = await read(rejected.body.orderId);
  expect(closed.status).toBe(200);
  expect(closed.body.status).toBe('REJECTED');
  expect(Date.now() - started).toBeLessThan(QUERY_TIMEOUT_MS);

  started = Date.now();
  const open = await read(running.body.orderId);
  expect(open.status).toBe(200);
  expect(open.body.status).toBe('PENDING_PAYMENT');
  expect(Date.now() - started).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 100);
});
