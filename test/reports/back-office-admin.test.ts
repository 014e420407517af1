import request from 'supertest';
import { customerAuth, staffAuth } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { addSku, services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/** Back-office routes over the catalog, inventory and marketing services, each change audited. */
let env: TestEnv;
let api: TestApi;
const merchant = staffAuth('merchant', 'shop_admin');
let keys = 0;
const send = (method: 'post' | 'put', path: string, body: object, key = `key-${++keys}-${Date.now()}`) =>
  request(api.url)[method](path).set('Authorization', merchant).set('Idempotency-Key', key).send(body);

beforeAll(async () => {
  env = await createTestEnv();
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_bo', 5_000, 10);
  await services(env.pool).inventory.upsertWarehouse({ id: 'wh_north', name: 'North', priority: 2 });
});
afterAll(async () => {
  await api.close();
  await env.close();
});

test('stock: receive, adjust with a reason, transfer; a refused change writes nothing; a retried one counts once; all audited', async () => {
  expect((await send('post', '/admin/stock/receive', { skuId: 'sku_bo', warehouseId: 'wh_main', quantity: 5 }, 'receive-0001')).status).toBe(200);
  const again = await send('post', '/admin/stock/receive', { skuId: 'sku_bo', warehouseId: 'wh_main', quantity: 5 }, 'receive-0001');
  expect(again.status).toBe(200);
  const adjusted = await send('post', '/admin/stock/adjust', { skuId: 'sku_bo', warehouseId: 'wh_main', delta: -2, reason: '破损 damaged in stocktake' });
  expect(adjusted.status).toBe(200);
  const moved = await send('post', '/admin/stock/transfer', { skuId: 'sku_bo', fromWarehouseId: 'wh_main', toWarehouseId: 'wh_north', quantity: 4 });
  expect(moved.status).toBe(200);
  const stock = await services(env.pool).inventory.getStock('sku_bo');
  // 10 + 5 (once) − 2 − 4 = 9 in wh_main, 4 in wh_north.
  expect(stock.warehouses.map((row: { warehouseId: string; onHand: number }) => [row.warehouseId, row.onHand])).toEqual([['wh_main', 9], ['wh_north', 4]]);

  expect((await send('post', '/admin/stock/adjust', { skuId: 'sku_bo', warehouseId: 'wh_main', delta: -100, reason: 'too many' })).status).toBe(409);
  expect((await send('post', '/admin/stock/transfer', { skuId: 'sku_bo', fromWarehouseId: 'wh_main', toWarehouseId: 'wh_main', quantity: 1 })).status).toBe(400);
  expect((await send('post', '/admin/stock/adjust', { skuId: 'sku_bo', warehouseId: 'wh_main', delta: -1, reason: '' })).status).toBe(400);
  expect((await request(api.url).post('/admin/stock/receive').set('Authorization', merchant).send({ skuId: 'sku_bo', warehouseId: 'wh_main', quantity: 1 })).status).toBe(400);
  expect((await request(api.url).post('/admin/stock/receive').set('Authorization', customerAuth('m1')).set('Idempotency-Key', 'customer-key').send({ skuId: 'sku_bo', warehouseId: 'wh_main', quantity: 1 })).status).toBe(403);
  expect((await services(env.pool).inventory.getStock('sku_bo')).onHand).toBe(13);

  // One audit trail: audit.events, once per Idempotency-Key (the retried receive is one row), with the request id.
  const audit = await env.pool.query(
    `SELECT actor_role || ':' || actor AS actor, action, details->>'reason' AS reason, request_id IS NOT NULL AS has_request
       FROM audit.events WHERE target_type = 'sku' AND target_id = 'sku_bo' ORDER BY id`,
  );
  expect(audit.rows).toEqual([
    { actor: 'merchant:shop_admin', action: 'back-office.receive-stock', reason: null, has_request: true },
    { actor: 'merchant:shop_admin', action: 'back-office.adjust-stock', reason: '破损 damaged in stocktake', has_request: true },
    { actor: 'merchant:shop_admin', action: 'back-office.transfer-stock', reason: null, has_request: true },
  ]);
  await expect(env.pool.query(`DELETE FROM audit.events WHERE target_id = 'sku_bo'`)).rejects.toThrow(/append-only/);
  expect((await env.pool.query(`SELECT to_regclass('back_office.audit_log') AS gone`)).rows[0].gone).toBeNull();
});

test('catalog prices, coupon templates issued to members, low-stock alerts listed and acknowledged', async () => {
  const sku = await send('put', '/admin/catalog/skus/sku_bo', { productId: 'prod_sku_bo', name: 'Tea 250g', listPriceFen: 5_900 });
  expect(sku.status).toBe(200);
  expect((await services(env.pool).catalog.getSku('sku_bo')).listPriceFen).toBe(5_900);
  expect((await send('put', '/admin/catalog/skus/sku_bo', { productId: 'prod_sku_bo', name: 'Tea', listPriceFen: -1 })).status).toBe(400);
  const products = await request(api.url).get('/admin/catalog/products').set('Authorization', merchant);
  expect(products.body.products.map((product: { id: string }) => product.id)).toContain('prod_sku_bo');

  const now = Date.now();
  const template = await send('post', '/admin/coupons/templates', { id: 'tpl_bo', name: '满100减10', kind: 'AMOUNT_OFF', amountFen: 1_000, minSpendFen: 10_000,
    validFrom: new Date(now - 60_000).toISOString(), validUntil: new Date(now + 86_400_000).toISOString() });
  expect(template.status).toBe(200);
  const issued = await send('post', '/admin/coupons/issue', { templateId: 'tpl_bo', memberIds: ['mem_x', 'mem_y'] });
  expect(issued.status).toBe(200);
  expect(issued.body.coupons.map((coupon: { memberId: string; state: string }) => [coupon.memberId, coupon.state])).toEqual([['mem_x', 'AVAILABLE'], ['mem_y', 'AVAILABLE']]);

  await services(env.pool).inventory.setLowStockThreshold({ skuId: 'sku_bo', threshold: 20 });
  await send('post', '/admin/stock/adjust', { skuId: 'sku_bo', warehouseId: 'wh_north', delta: -1, reason: 'sample' });
  const alerts = await request(api.url).get('/admin/alerts/low-stock').set('Authorization', merchant);
  expect(alerts.body.alerts).toHaveLength(1);
  const alert = alerts.body.alerts[0];
  expect(alert).toMatchObject({ skuId: 'sku_bo' });
  expect((await send('post', `/admin/alerts/low-stock/${alert.id}/acknowledge`, {})).status).toBe(200);
  expect((await request(api.url).get('/admin/alerts/low-stock').set('Authorization', merchant)).body.alerts).toHaveLength(0);
});
