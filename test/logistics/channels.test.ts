import request from 'supertest';
import { issueToken } from '../../api/auth';
import type { OrderView } from '../../workflows/order/definitions';
import { customerAuth, TEST_AUTH } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku, services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { flashSettings } from '../flash-sale/support';
import { createFlashSaleService } from '../../modules/flash-sale';

/**
 * Sales channels: every order type carries its channel (view, projection column, search attribute
 * SalesChannel, found by a visibility query); the default comes from the credential; a channel-only
 * campaign (a flash sale for one live-stream room) refuses every other channel before anything is taken.
 */
let env: TestEnv;
let api: TestApi;

const LIVE = { kind: 'live_stream', roomId: 'room_8' };
const hour = 3_600_000;

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  api = await startTestApi(env, undefined, { ...flashSettings(env), flashSale: { paymentMs: 30_000, sweepIntervalMs: 0 } });
});
afterAll(async () => {
  await api?.close();
  await env?.close();
});

const post = (path: string, memberId: string, body: object, auth = customerAuth(memberId)) =>
  request(api.url).post(path).set('Authorization', auth).set('Idempotency-Key', `key-${path}-${memberId}-${Math.random()}`).send(body);

async function campaigns(suffix: string) {
  const { marketing } = services(env.pool);
  const now = Date.now();
  const sku = async (id: string) => {
    await addSku(env.pool, id, 10_000, 20);
    return id;
  };
  const presale = `presale_${suffix}`;
  await marketing.createCampaign({
    kind: 'PRESALE', id: presale, name: presale, skuId: await sku(`sku_pre_${suffix}`), presalePriceFen: 10_000, depositFen: 2_000,
    depositStart: new Date(now - hour), depositEnd: new Date(now + hour), finalStart: new Date(now + 2 * hour), finalEnd: new Date(now + 3 * hour),
  });
  const group = `group_${suffix}`;
  await marketing.createCampaign({
    kind: 'GROUP_BUY', id: group, name: group, skuId: await sku(`sku_grp_${suffix}`), groupPriceFen: 8_000, groupSize: 2,
    startsAt: new Date(now - hour), endsAt: new Date(now + hour),
  });
  const flash = `flash_${suffix}`;
  await marketing.createCampaign({
    kind: 'FLASH_SALE', id: flash, name: flash, skuId: await sku(`sku_fl_${suffix}`), flashPriceFen: 5_000, stockCap: 5, perUserLimit: 2,
    startsAt: new Date(now - hour), endsAt: new Date(now + hour), channels: ['live_stream:room_8'],
  });
  return { presale, group, flash, standardSku: await sku(`sku_std_${suffix}`) };
}

test('every order type carries its channel: view, projection column, and SalesChannel = "live_stream" finds them all', async () => {
  const memberId = `mem_live_${env.id}`;
  await addMember(env.pool, memberId);
  const c = await campaigns('a');
  const placed = [
    await post('/orders', memberId, { lines: [{ skuId: c.standardSku, quantity: 1 }], channel: LIVE }),
    await post(`/presales/${c.presale}/orders`, memberId, { channel: LIVE }),
    await post(`/group-buys/${c.group}/orders`, memberId, { channel: LIVE }),
    await post(`/flash-sales/${c.flash}/orders`, memberId, { channel: LIVE }),
  ];
  expect(placed.map((response) => response.status)).toEqual([201, 201, 201, 201]);
  const orders = placed.map((response) => response.body as OrderView);
  expect(orders.map((order) => order.type)).toEqual(['STANDARD', 'PRESALE', 'GROUP_BUY', 'FLASH_SALE']);
  for (const order of orders) expect(order.channel).toEqual(LIVE);

  const projected = await eventually(async () => {
    const rows = await env.pool.query<{ channel: string }>('SELECT channel FROM orders.orders WHERE customer_id = $1', [memberId]);
    return rows.rows.length === 4 ? rows.rows : undefined;
  }, 20_000, 'four projected orders');
  expect(projected.map((row) => row.channel)).toEqual(['live_stream', 'live_stream', 'live_stream', 'live_stream']);

  const found = await eventually(async () => {
    const ids: string[] = [];
    for await (const run of env.temporal.workflow.list({ query: `SalesChannel = "live_stream" AND CustomerId = "${memberId}"` })) ids.push(run.workflowId);
    return ids.length === 4 ? ids.sort() : undefined;
  }, 20_000, 'visibility to find the four live-stream orders');
  expect(found).toEqual(orders.map((order) => `order-${order.orderId}`).sort());
});

test('the channel defaults from the credential: app for a plain token, the token\'s channel otherwise (another in the body is 403)', async () => {
  const memberId = `mem_default_${env.id}`;
  await addMember(env.pool, memberId);
  const skuId = `sku_default_${env.id}`;
  await addSku(env.pool, skuId, 10_000, 10);
  const plain = await post('/orders', memberId, { lines: [{ skuId, quantity: 1 }] });
  expect(plain.status).toBe(201);
  expect(plain.body.channel).toEqual({ kind: 'app' });

  const miniProgram = `Bearer ${issueToken(TEST_AUTH, { role: 'customer', subject: memberId, channel: 'mini_program' })}`;
  const fromToken = await post('/orders', memberId, { lines: [{ skuId, quantity: 1 }] }, miniProgram);
  expect(fromToken.status).toBe(201);
  expect(fromToken.body.channel).toEqual({ kind: 'mini_program' });
  const mismatch = await post('/orders', memberId, { lines: [{ skuId, quantity: 1 }], channel: { kind: 'h5' } }, miniProgram);
  expect(mismatch.status).toBe(403);

  const bad = await post('/orders', memberId, { lines: [{ skuId, quantity: 1 }], channel: { kind: 'live_stream' } });
  expect(bad.status).toBe(400);
  expect(bad.body.errors.map((error: { field: string }) => error.field)).toContain('channel.roomId');
  const found = await eventually(async () => {
    const ids: string[] = [];
    for await (const run of env.temporal.workflow.list({ query: `SalesChannel = "mini_program" AND CustomerId = "${memberId}"` })) ids.push(run.workflowId);
    return ids.length === 1 ? ids : undefined;
  }, 20_000, 'visibility to find the mini-program order');
  expect(found).toEqual([`order-${fromToken.body.orderId}`]);
});

test('a flash sale for one live-stream room refuses other channels 422 before taking a unit', async () => {
  const memberId = `mem_room_${env.id}`;
  await addMember(env.pool, memberId);
  const c = await campaigns('b');
  const { flashSale } = { flashSale: createFlashSaleService({ pool: env.pool }) };
  for (const channel of [undefined, { kind: 'app' }, { kind: 'live_stream', roomId: 'room_9' }]) {
    const refused = await post(`/flash-sales/${c.flash}/orders`, memberId, channel ? { channel } : {});
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('CHANNEL_NOT_ALLOWED');
  }
  const admissions = await env.pool.query('SELECT count(*)::int AS n FROM flash_sale.admissions WHERE campaign_id = $1', [c.flash]);
  expect(admissions.rows[0].n).toBe(0);
  const state = await flashSale.getCampaignState(c.flash);
  expect(state?.taken ?? 0).toBe(0);
  const admitted = await post(`/flash-sales/${c.flash}/orders`, memberId, { channel: LIVE });
  expect(admitted.status).toBe(201);
  expect(admitted.body.channel).toEqual(LIVE);
});
