import request from 'supertest';
import { orderIdFor } from '../../api/orders';
import { customerAuth } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type RunningWorker, type TestEnv } from '../support/harness';
import { rowCounts } from '../support/row-counts';

/**
 * Issue 9, cases 2 and 9: placement refuses what cannot complete (an unknown member, an unknown SKU,
 * strings PostgreSQL cannot store) before any row is written or any workflow starts.
 */
let env: TestEnv;
let worker: RunningWorker;
let api: TestApi;

beforeAll(async () => {
  env = await createTestEnv();
  worker = await env.startWorker();
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_tea', 5_000, 10);
  await addMember(env.pool, 'mem_real');
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await env?.close();
});

async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await env.temporal.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return false;
    throw error;
  }
}

function place(memberId: string, body: object, key: string) {
  return request(api.url).post('/orders').set('Authorization', customerAuth(memberId)).set('Idempotency-Key', key).send(body).timeout(20_000);
}

test('case 2: a valid token whose subject is no member → 422, no workflow, no row written', async () => {
  const before = await rowCounts(env.pool);
  const response = await place('mem_ghost', { lines: [{ skuId: 'sku_tea', quantity: 1 }] }, 'ghost-order-1');
  expect(response.status).toBe(422);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body.reason).toBe('MEMBER_NOT_FOUND');
  expect(await workflowExists(`order-${orderIdFor('mem_ghost', 'ghost-order-1')}`)).toBe(false);
  expect(await rowCounts(env.pool)).toEqual(before);
});

test('several refusals at once: the checks run together, and the member refusal answers every time', async () => {
  // An unknown member ordering an unknown SKU with no address: each check refuses, whichever ends first.
  const answers = await Promise.all(
    [1, 2, 3, 4].map((n) => place('mem_ghost_2', { lines: [{ skuId: 'sku_nowhere', quantity: 1 }] }, `ghost-many-${n}`)),
  );
  expect(answers.map((answer) => [answer.status, answer.body.reason])).toEqual([1, 2, 3, 4].map(() => [422, 'MEMBER_NOT_FOUND']));
});

test('one read, refusals in a fixed order: member, then SKUs, then the address, whichever the request gets wrong', async () => {
  await addMember(env.pool, 'mem_no_address');
  await env.pool.query('DELETE FROM logistics.member_addresses WHERE member_id = $1', ['mem_no_address']);
  const before = await rowCounts(env.pool);
  // A member ordering an unknown SKU with no address: the SKU answers, not the address.
  const unknownSku = await place('mem_no_address', { lines: [{ skuId: 'sku_nowhere', quantity: 1 }] }, 'order-of-refusals-1');
  expect([unknownSku.status, unknownSku.body.reason, unknownSku.body.skuId]).toEqual([422, 'SKU_NOT_FOUND', 'sku_nowhere']);
  // A known SKU and still no address (none saved, none given): 400 naming the field.
  const noAddress = await place('mem_no_address', { lines: [{ skuId: 'sku_tea', quantity: 1 }] }, 'order-of-refusals-2');
  expect(noAddress.status).toBe(400);
  expect(JSON.stringify(noAddress.body)).toContain('shippingAddress');
  // A saved address the member does not have: 400 naming addressId.
  const notSaved = await place('mem_real', { lines: [{ skuId: 'sku_tea', quantity: 1 }], addressId: 'addr_not_mine' }, 'order-of-refusals-3');
  expect(notSaved.status).toBe(400);
  expect(JSON.stringify(notSaved.body)).toContain('addressId');
  expect(await rowCounts(env.pool)).toEqual(before);
});

test('an unknown SKU → 422 naming it, no workflow, no row written', async () => {
  const before = await rowCounts(env.pool);
  const response = await place('mem_real', { lines: [{ skuId: 'sku_tea', quantity: 1 }, { skuId: 'sku_nowhere', quantity: 1 }] }, 'unknown-sku-1');
  expect(response.status).toBe(422);
  expect(response.body).toMatchObject({ reason: 'SKU_NOT_FOUND', skuId: 'sku_nowhere' });
  expect(await workflowExists(`order-${orderIdFor('mem_real', 'unknown-sku-1')}`)).toBe(false);
  expect(await rowCounts(env.pool)).toEqual(before);
});

test.each([
  ['a NUL character', 'sku_tea\u0000'],
  ['a lone high surrogate', 'sku_tea\ud800'],
  ['a lone low surrogate', '\udc00sku_tea'],
])('case 9: a skuId with %s → 400 naming the field, no workflow, no row written', async (_name, skuId) => {
  const before = await rowCounts(env.pool);
  const key = `bad-sku-${skuId.length}-${skuId.charCodeAt(skuId.length - 1)}`;
  const response = await place('mem_real', { lines: [{ skuId, quantity: 1 }] }, key);
  expect(response.status).toBe(400);
  expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'lines.0.skuId' })]));
  expect(await workflowExists(`order-${orderIdFor('mem_real', key)}`)).toBe(false);
  expect(await rowCounts(env.pool)).toEqual(before);
});

test('unsafe characters anywhere (path id, query, reason, nested key) are 400, never 500', async () => {
  const auth = customerAuth('mem_real');
  const responses = await Promise.all([
    request(api.url).get('/orders/ord_1%00').set('Authorization', auth),
    request(api.url).get('/orders?status=PAID%00').set('Authorization', auth),
    request(api.url).post('/orders/ord_1/cancel').set('Authorization', auth).send({ reason: 'changed my mind \ud83d' }),
    request(api.url).post('/orders').set('Authorization', auth).set('Idempotency-Key', 'nested-key-1').send({ lines: [{ skuId: 'sku_tea', quantity: 1 }], ['\u0000']: 1 }),
  ]);
  expect(responses.map((response) => response.status)).toEqual([400, 400, 400, 400]);
});

test("a token whose subject is 8,000 characters is 401 and writes nothing", async () => {
  const before = await rowCounts(env.pool);
  const response = await place('m'.repeat(8_000), { lines: [{ skuId: 'sku_tea', quantity: 1 }] }, 'long-subject-1');
  expect(response.status).toBe(401);
  expect(await rowCounts(env.pool)).toEqual(before);
});

test('a member ordering a known SKU still places the order (the checks refuse only what cannot complete)', async () => {
  const response = await place('mem_real', { lines: [{ skuId: 'sku_tea', quantity: 1 }] }, 'real-order-1');
  expect(response.status).toBe(201);
  expect(response.body.status).toBe('PENDING_PAYMENT');
});
