import request from 'supertest';
import { createApp } from '../../api/app';
import { createIdempotencyKeySweeper } from '../../api/limits';
import { orderIdFor } from '../../api/orders';
import { customerAuth, testApiSettings } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { createOrderProjection } from '../../modules/orders/projection';
import { addMember, addSku, services } from '../support/fixtures';
import { createTestEnv, type RunningWorker, type TestEnv } from '../support/harness';

/** Abuse limits: unpaid orders per customer, placements per principal, requests per IP, idempotency-key expiry. */
let env: TestEnv;
let worker: RunningWorker;
let api: TestApi;
const limits = { requestsPerIpPerMinute: 10_000, placementsPerPrincipalPerMinute: 4, unpaidOrdersPerCustomer: 2 };

beforeAll(async () => {
  env = await createTestEnv();
  worker = await env.startWorker();
  api = await startTestApi(env, undefined, { ...testApiSettings(env), limits });
  await addSku(env.pool, 'sku_limit', 1_000, 50);
  await addMember(env.pool, 'mem_unpaid');
  await addMember(env.pool, 'mem_hasty');
  await addMember(env.pool, 'mem_calm');
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await env?.close();
});

const place = (memberId: string, key: string, skuId = 'sku_limit') =>
  request(api.url).post('/orders').set('Authorization', customerAuth(memberId)).set('Idempotency-Key', key).send({ lines: [{ skuId, quantity: 3 }] });

test('a customer with the cap of unpaid orders is refused 429 with nothing reserved; a retry of a placed order still answers', async () => {
  expect((await place('mem_unpaid', 'unpaid-1')).status).toBe(201);
  expect((await place('mem_unpaid', 'unpaid-2')).status).toBe(201);
  // The cap counts the orders projection, which the workflows write a moment after placement.
  await eventually(async () => ((await createOrderProjection({ pool: env.pool }).existsAndCountByCustomer('ord_none', 'mem_unpaid', 'PENDING_PAYMENT')).count === 2 ? true : undefined));
  const keysBefore = (await env.pool.query('SELECT count(*)::int AS n FROM api.idempotency_keys')).rows[0].n;

  const third = await place('mem_unpaid', 'unpaid-3');
  expect(third.status).toBe(429);
  expect(third.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(third.body).toMatchObject({ unpaidOrders: 2, cap: 2 });
  expect(await services(env.pool).inventory.getStock('sku_limit')).toMatchObject({ reserved: 6 });
  expect((await env.pool.query('SELECT count(*)::int AS n FROM api.idempotency_keys')).rows[0].n).toBe(keysBefore);
  await expect(env.temporal.workflow.getHandle(`order-${orderIdFor('mem_unpaid', 'unpaid-3')}`).describe()).rejects.toThrow();

  const retry = await place('mem_unpaid', 'unpaid-1');
  expect(retry.status).toBe(201);
});

test('placements per principal are limited per minute (429 with RateLimit headers)', async () => {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 5; attempt += 1) statuses.push((await place('mem_hasty', `hasty-key-${attempt}`, 'sku_unknown')).status);
  expect(statuses).toEqual([422, 422, 422, 422, 429]);
  const limited = await place('mem_hasty', 'hasty-key-9', 'sku_unknown');
  expect(limited.headers['ratelimit-policy']).toBeDefined();
  expect(limited.headers['retry-after']).toBeDefined();
  // Another buyer is not affected.
  expect((await place('mem_calm', 'other-buyer-1', 'sku_unknown')).status).toBe(422);
});

test('requests per IP are limited', async () => {
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: { ...testApiSettings(env), limits: { ...limits, requestsPerIpPerMinute: 3 } } });
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await request(app).get('/openapi.json')).status);
  expect(statuses).toEqual([200, 200, 200, 429]);
});

test('idempotency keys older than the TTL are deleted', async () => {
  await env.pool.query(`INSERT INTO api.idempotency_keys (scope, key, request_hash, created_at) VALUES ('mem_old', 'old-key-1', 'h', now() - interval '25 hours'), ('mem_old', 'new-key-1', 'h', now())`);
  const deleted = await createIdempotencyKeySweeper(env.pool, 24 * 3_600_000).sweepOnce();
  expect(deleted).toBe(1);
  const left = await env.pool.query(`SELECT key FROM api.idempotency_keys WHERE scope = 'mem_old'`);
  expect(left.rows).toEqual([{ key: 'new-key-1' }]);
});
