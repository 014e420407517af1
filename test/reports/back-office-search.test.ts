import request from 'supertest';
import { API_KEYS, customerAuth, staffAuth } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { createTestEnv, type TestEnv } from '../support/harness';
import { insertOrder, insertRefund, type OrderRow } from './projection-rows';

/** GET /admin/orders and /admin/refunds: every filter, keyset pages, CSV; pages under concurrent inserts. */
let env: TestEnv;
let api: TestApi;
const merchant = staffAuth('merchant', 'shop_1');
const TYPES = ['STANDARD', 'PRESALE', 'GROUP_BUY', 'FLASH_SALE'] as const;
const STATUSES = ['PAID', 'PENDING_PAYMENT', 'CANCELLED', 'SHIPPED'];
const CHANNELS = ['app', 'mini_program', 'h5', 'live_stream', 'pos'];
const rows: OrderRow[] = [];

beforeAll(async () => {
  env = await createTestEnv();
  api = await startTestApi(env);
  // 40 orders a minute apart from 1 Dec 00:00Z, in a pattern of types, statuses, customers, SKUs and amounts.
  for (let i = 0; i < 40; i += 1) {
    const type = TYPES[i % 4];
    const row: OrderRow = {
      orderId: `ord_${String(i).padStart(3, '0')}`,
      customerId: `cust_${i % 3}`,
      type,
      status: STATUSES[i % STATUSES.length],
      createdAt: new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString(),
      payableFen: 1_000 * ((i * 7) % 13) + 100,
      lines: [{ skuId: `sku_${i % 5}`, quantity: 1, payableFen: 1_000 * ((i * 7) % 13) + 100 }],
      channel: CHANNELS[i % CHANNELS.length],
      campaign: type === 'PRESALE' ? { presale: `ps_${i % 2}` } : type === 'FLASH_SALE' ? { flashSale: 'fs_1' } : undefined,
    };
    rows.push(row);
    await insertOrder(env.pool, row);
  }
  await env.pool.query(`UPDATE orders.orders SET view = jsonb_set(view, '{phase}', '"NEEDS_ATTENTION"') WHERE order_id IN ('ord_005', 'ord_017')`);
  for (let i = 0; i < 6; i += 1) {
    await insertRefund(env.pool, { requestId: `rr_${i}`, orderId: `ord_00${i}`, customerId: `cust_${i % 3}`, requestedAt: new Date(Date.UTC(2026, 11, 1, 1, i)).toISOString(),
      requestedFen: 100 * (i + 1), refundedFen: i % 2 ? 0 : 100 * (i + 1), reason: i % 2 ? '不想要了' : 'damaged', lines: [{ skuId: `sku_${i % 5}`, amountFen: 100 * (i + 1) }] });
  }
});
afterAll(async () => {
  await api.close();
  await env.close();
});

async function search(query: string): Promise<string[]> {
  const response = await request(api.url).get(`/admin/orders?limit=500&${query}`).set('Authorization', merchant);
  expect(response.status).toBe(200);
  return response.body.orders.map((order: { orderId: string }) => order.orderId).sort();
}
const ids = (keep: (row: OrderRow, index: number) => boolean) => rows.filter(keep).map((row) => row.orderId).sort();

test('each filter returns exactly the orders it names', async () => {
  expect(await search('status=PAID')).toEqual(ids((row) => row.status === 'PAID'));
  expect(await search('phase=NEEDS_ATTENTION')).toEqual(['ord_005', 'ord_017']);
  expect(await search('type=GROUP_BUY')).toEqual(ids((row) => row.type === 'GROUP_BUY'));
  expect(await search('channel=live_stream')).toEqual(ids((row) => row.channel === 'live_stream'));
  expect(await search('customerId=cust_1')).toEqual(ids((row) => row.customerId === 'cust_1'));
  expect(await search('skuId=sku_3')).toEqual(ids((row) => row.lines[0].skuId === 'sku_3'));
  expect(await search('campaignId=ps_1')).toEqual(ids((row) => row.campaign?.presale === 'ps_1'));
  expect(await search('campaignId=fs_1')).toEqual(ids((row) => row.type === 'FLASH_SALE'));
  expect(await search('from=2026-12-01T00:10:00Z&to=2026-12-01T00:20:00Z')).toEqual(ids((_row, i) => i >= 10 && i < 20));
  // A day means its Shanghai midnight: 1 Dec 00:00 +08:00 is 30 Nov 16:00Z, before every order here.
  expect(await search('from=2026-11-30&to=2026-12-01')).toEqual([]);
  expect(await search('from=2026-12-01&to=2026-12-02')).toEqual(ids(() => true));
  expect(await search('minFen=5000&maxFen=8100')).toEqual(ids((row) => row.payableFen >= 5_000 && row.payableFen <= 8_100));
  expect(await search('type=STANDARD&customerId=cust_0&status=PAID')).toEqual(ids((row) => row.type === 'STANDARD' && row.customerId === 'cust_0' && row.status === 'PAID'));
});

test('sorted by amount, pages follow one another without duplicates or gaps while orders keep coming in', async () => {
  for (const [sort, order] of [['created_at', 'desc'], ['payable_fen', 'asc'], ['payable_fen', 'desc']] as const) {
    const seen: string[] = [];
    let cursor: string | undefined;
    let inserted = 0;
    do {
      const [response] = await Promise.all([
        request(api.url).get(`/admin/orders?sort=${sort}&order=${order}&limit=7${cursor ? `&cursor=${cursor}` : ''}`).set('Authorization', merchant),
        // New orders at random moments and amounts, some inside the range being paged through.
        insertOrder(env.pool, { orderId: `new_${sort}_${order}_${inserted++}`, customerId: 'cust_new', status: 'PAID', createdAt: new Date(Date.UTC(2026, 11, 1, 0, Math.floor(Math.random() * 60), Math.floor(Math.random() * 60))).toISOString(),
          payableFen: Math.floor(Math.random() * 13_000), lines: [{ skuId: 'sku_9', quantity: 1, payableFen: 1 }] }),
      ]);
      expect(response.status).toBe(200);
      const page = response.body.orders as { orderId: string; payableFen: number; createdAt: string }[];
      seen.push(...page.map((row) => row.orderId));
      cursor = response.body.nextCursor ?? undefined;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const row of rows) expect(seen).toContain(row.orderId);
  }
});

test('CSV export with a BOM; refunds searched the same way; bad filters are 400; customers are refused', async () => {
  const csv = await request(api.url).get('/admin/orders?customerId=cust_2&type=PRESALE&format=csv').set('X-API-Key', API_KEYS.support);
  expect(csv.status).toBe(200);
  const lines = csv.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
  expect(csv.text.charCodeAt(0)).toBe(0xfeff);
  expect(lines[0]).toBe('order_id,customer_id,type,channel,status,phase,payable_fen,refunded_fen,created_at,campaign_id,skus');
  expect(lines.slice(1).map((line) => line.split(',')[0]).sort()).toEqual(ids((row) => row.customerId === 'cust_2' && row.type === 'PRESALE'));

  const refunds = await request(api.url).get('/admin/refunds?skuId=sku_1&limit=10').set('Authorization', merchant);
  expect(refunds.body.refunds.map((row: { requestId: string }) => row.requestId)).toEqual(['rr_1']);
  const page1 = await request(api.url).get('/admin/refunds?sort=requested_fen&order=asc&limit=4').set('Authorization', merchant);
  const page2 = await request(api.url).get(`/admin/refunds?sort=requested_fen&order=asc&limit=4&cursor=${page1.body.nextCursor}`).set('Authorization', merchant);
  expect([...page1.body.refunds, ...page2.body.refunds].map((row: { requestedFen: number }) => row.requestedFen)).toEqual([100, 200, 300, 400, 500, 600]);
  expect(page2.body.nextCursor).toBeNull();
  const refundCsv = await request(api.url).get('/admin/refunds?minFen=200&maxFen=200').set('Authorization', merchant).set('Accept', 'text/csv');
  expect(refundCsv.text).toContain('rr_1,ord_001,cust_1,REFUND_ONLY,REJECTED,不想要了,200,0,');

  for (const query of ['limit=0', 'type=NOPE', 'minFen=-1', 'cursor=garbage', 'from=yesterday', 'sort=customer_id', 'unknown=1', 'channel=tv']) {
    expect({ query, status: (await request(api.url).get(`/admin/orders?${query}`).set('Authorization', merchant)).status }).toEqual({ query, status: 400 });
  }
  expect((await request(api.url).get('/admin/orders').set('Authorization', customerAuth('cust_1'))).status).toBe(403);
});
