import request from 'supertest';
import type { OrderView } from '../../workflows/order/definitions';
import { afterSalesKit, afterSalesTimeouts } from '../after-sales/helpers';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku, issueAmountOffCoupon, services, setFreightTemplate, TEST_ADDRESS } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { recordHistory } from '../support/histories';
import { rowCounts, watchWrites } from '../support/row-counts';
import { storefront } from '../support/storefront';

/**
 * Shipping addresses and freight (运费模板) through the API on the real Temporal server and PostgreSQL:
 * freight by weight with a free-shipping threshold and remote surcharges, priced to the fen and paid
 * with the order; an undeliverable region refused with nothing held; the address changed before
 * shipment and refused after; bad addresses 400 with field errors and nothing written; freight back
 * with the refund of the last unit before shipment, not with a partial one.
 */
let env: TestEnv;
let api: TestApi;
let kit: ReturnType<typeof afterSalesKit>;
const shopper = storefront(() => api);

// 2.3 kg a unit, 100 yuan. First 1 kg 10 yuan, each further 500 g 3 yuan; free from 300 yuan of goods.
// Xinjiang: first 20 yuan, further 8 yuan, plus 15 yuan remote surcharge (also when free). 那曲 色尼区: not delivered to.
const WEIGHT = 2_300;
const XINJIANG = { ...TEST_ADDRESS, provinceCode: '650000', cityCode: '650100', districtCode: '650102', street: '人民路 1 号' };
const NAQU = { ...TEST_ADDRESS, provinceCode: '540000', cityCode: '540600', districtCode: '540602', street: '那曲镇 2 号' };
const BEIJING = { ...TEST_ADDRESS, recipient: '李四', provinceCode: '110000', cityCode: '110100', districtCode: '110108', street: '中关村大街 27 号' };
let sequence = 0;

beforeAll(async () => {
  env = await createTestEnv();
  kit = afterSalesKit(env, () => api);
  await env.startWorker();
  api = await startTestApi(env, afterSalesTimeouts());
  await setFreightTemplate(env.pool, {
    templateId: 'tpl_weight',
    name: '按重量',
    basis: 'WEIGHT',
    firstUnits: 1_000,
    firstFen: 1_000,
    additionalUnits: 500,
    additionalFen: 300,
    freeOverFen: 30_000,
    regions: [
      { regionCode: '650000', firstFen: 2_000, additionalFen: 800, surchargeFen: 1_500 },
      { regionCode: '540602', delivers: false },
    ],
  });
});
afterAll(async () => {
  await api?.close();
  await env?.close();
});

async function heavyShop(points = 2_000) {
  sequence += 1;
  const skuId = `sku_heavy_${sequence}`;
  const memberId = `mem_ship_${sequence}_${env.id}`;
  await addSku(env.pool, skuId, 10_000, 10, WEIGHT);
  await addMember(env.pool, memberId, points);
  return { skuId, memberId };
}

test('freight by weight, the free-shipping threshold and the remote surcharge, priced to the fen and paid with the order', async () => {
  const { skuId, memberId } = await heavyShop();
  const cases = [
    // 2,300 g: 1,000 first + 3 blocks of 500 → 10 + 3 × 3 yuan.
    { quantity: 1, address: undefined, freightFen: 1_900 },
    // 300 yuan of goods: free.
    { quantity: 3, address: undefined, freightFen: 0 },
    // Xinjiang: 20 + 3 × 8 + 15 surcharge.
    { quantity: 1, address: XINJIANG, freightFen: 5_900 },
    // Free to Xinjiang too, but the surcharge stays: 6,900 g, 15 yuan.
    { quantity: 3, address: XINJIANG, freightFen: 1_500 },
  ];
  for (const { quantity, address, freightFen } of cases) {
    const placed = await shopper.placeOrder(memberId, { lines: [{ skuId, quantity }], ...(address ? { shippingAddress: address } : {}) });
    expect(placed.status).toBe(201);
    const order = placed.body as OrderView;
    expect(order.totals.freightFen).toBe(freightFen);
    expect(order.totals.payableFen).toBe(quantity * 10_000 + freightFen);
    expect(order.payment.amountFen).toBe(quantity * 10_000 + freightFen);
    expect(order.shipping).toMatchObject({ addressVersion: 1, freight: { freightFen, templateId: 'tpl_weight' } });
  }
  // The one paid is captured with its freight, and the ledger holds the whole amount.
  const paid = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect(paid.totals.paidFen).toBe(11_900);
  const entries = await kit.finance().entriesForOrder(paid.orderId);
  expect(entries.length).toBeGreaterThan(0);
  // The address is where the warehouse reads it, and in the order for the buyer.
  const seen = await request(api.url).get(`/orders/${paid.orderId}`).set('X-API-Key', API_KEYS.warehouse);
  expect(seen.body.shippingAddress).toEqual(TEST_ADDRESS);
  const finance = await request(api.url).get(`/orders/${paid.orderId}`).set('X-API-Key', API_KEYS.finance);
  expect(finance.body.shippingAddress).toBeUndefined();
  // Neither the projected view nor the timeline carries it.
  const projected = await env.pool.query<{ view: string }>('SELECT view::text FROM orders.orders WHERE order_id = $1', [paid.orderId]);
  expect(projected.rows[0].view).not.toContain(TEST_ADDRESS.mobile);
  expect(projected.rows[0].view).not.toContain(TEST_ADDRESS.street);
  // Its parcel is opened after the payment, and the provider's webhooks (authorised, then captured)
  // arrive on their own: let both land before the next test counts rows.
  await eventually(async () => ((await env.pool.query('SELECT 1 FROM logistics.parcels WHERE order_id = $1', [paid.orderId])).rowCount ? true : undefined), 30_000, 'the paid order\'s parcel');
  await eventually(
    async () => ((await env.pool.query('SELECT 1 FROM orders.payment_events WHERE order_id = $1', [paid.orderId])).rowCount === 2 ? true : undefined),
    30_000,
    "the paid order's two payment webhooks",
  );
});

test('an undeliverable region is refused 422 with the reason, and nothing is held: stock, coupon, points, rows', async () => {
  const { skuId, memberId } = await heavyShop(5_000);
  const couponId = await issueAmountOffCoupon(env.pool, memberId, 1_000, { minSpendFen: 5_000, templateId: `tpl_naqu_${env.id}` });
  const { inventory, member, marketing } = services(env.pool);
  const before = { stock: await inventory.getStock(skuId), points: (await member.getMember(memberId)).points, rows: await rowCounts(env.pool) };
  const refused = await shopper.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }], couponId, pointsToRedeem: 1_000, shippingAddress: NAQU });
  expect(refused.status).toBe(422);
  expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(refused.body).toMatchObject({ reason: 'REGION_NOT_DELIVERED', regionCode: '540602' });
  expect(await inventory.getStock(skuId)).toEqual(before.stock);
  expect((await member.getMember(memberId)).points).toEqual(before.points);
  expect((await marketing.findCoupon(couponId))?.state).toBe('AVAILABLE');
  expect(await rowCounts(env.pool)).toEqual(before.rows);
});

test('the buyer changes the address before shipment; after shipment it is 409 and the address stays', async () => {
  const { skuId, memberId } = await heavyShop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  // Placement kept the member's default address (version 1) for the warehouse, with its projection.
  const placed = await env.pool.query('SELECT version, recipient, street FROM logistics.order_addresses WHERE order_id = $1', [order.orderId]);
  expect(placed.rows).toEqual([{ version: 1, recipient: TEST_ADDRESS.recipient, street: TEST_ADDRESS.street }]);
  expect(order.shipping?.addressVersion).toBe(1);
  const change = (address: object) => request(api.url).post(`/orders/${order.orderId}/address`).set('Authorization', customerAuth(memberId)).send({ address });

  // Somewhere dearer than what the order paid for: refused, the buyer orders again instead.
  const dearer = await change(XINJIANG);
  expect(dearer.status).toBe(422);
  expect(dearer.body.reason).toBe('FREIGHT_HIGHER');

  const changed = await change(BEIJING);
  expect(changed.status).toBe(200);
  expect(changed.body.shippingAddress).toEqual(BEIJING);
  expect(changed.body.shipping.addressVersion).toBe(2);
  const stored = await env.pool.query('SELECT version, recipient, district_code, street FROM logistics.order_addresses WHERE order_id = $1', [order.orderId]);
  expect(stored.rows[0]).toEqual({ version: 2, recipient: BEIJING.recipient, district_code: BEIJING.districtCode, street: BEIJING.street });
  const timeline = (await shopper.getOrder(memberId, order.orderId)).timeline.filter((entry) => entry.event === 'shipping address changed');
  expect(timeline).toHaveLength(1);
  expect(JSON.stringify(timeline)).not.toContain(BEIJING.street);
  const audited = await env.pool.query("SELECT outcome FROM audit.events WHERE action = 'order.change-address' AND target_id = $1", [order.orderId]);
  expect(audited.rows).toEqual([{ outcome: 'ACCEPTED' }]);

  // Another buyer cannot change it (404, as for reading it).
  const stranger = `mem_stranger_${env.id}`;
  await addMember(env.pool, stranger);
  const foreign = await request(api.url).post(`/orders/${order.orderId}/address`).set('Authorization', customerAuth(stranger)).send({ address: TEST_ADDRESS });
  expect(foreign.status).toBe(404);

  await kit.ship(order.orderId);
  const late = await change(TEST_ADDRESS);
  expect(late.status).toBe(409);
  expect(late.body.detail).toMatch(/shipped/);
  const after = await env.pool.query('SELECT version, street FROM logistics.order_addresses WHERE order_id = $1', [order.orderId]);
  expect(after.rows[0]).toEqual({ version: 2, street: BEIJING.street });
  await recordHistory(env, order.orderId, 'standard-freight-address-changed-shipped-running', { running: true });
});

test('bad addresses are 400 problem+json with field errors, and nothing is written', async () => {
  const { skuId, memberId } = await heavyShop();
  const watch = await watchWrites(env.pool);
  const cases: { address: object; field: string }[] = [
    { address: { ...TEST_ADDRESS, districtCode: '310199' }, field: 'shippingAddress.districtCode' }, // no such district
    { address: { ...TEST_ADDRESS, cityCode: '330100', districtCode: '330106' }, field: 'shippingAddress.cityCode' }, // 杭州 is not in 上海
    { address: { ...TEST_ADDRESS, provinceCode: '990000' }, field: 'shippingAddress.provinceCode' },
    { address: { ...TEST_ADDRESS, provinceCode: 'abc' }, field: 'shippingAddress.provinceCode' },
    { address: { ...TEST_ADDRESS, mobile: '12345678901' }, field: 'shippingAddress.mobile' },
    { address: { ...TEST_ADDRESS, mobile: '+8613800' }, field: 'shippingAddress.mobile' },
    { address: { ...TEST_ADDRESS, street: '88 号\u0000' }, field: 'shippingAddress.street' },
    { address: { ...TEST_ADDRESS, recipient: '张'.repeat(51) }, field: 'shippingAddress.recipient' },
    { address: { ...TEST_ADDRESS, street: 'x'.repeat(201) }, field: 'shippingAddress.street' },
    { address: { ...TEST_ADDRESS, postcode: '2000' }, field: 'shippingAddress.postcode' },
    { address: { ...TEST_ADDRESS, extra: 'field' }, field: 'shippingAddress' },
  ];
  for (const { address, field } of cases) {
    const mark = await watch.last();
    const placed = await shopper.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }], shippingAddress: address });
    expect({ field, status: placed.status }).toEqual({ field, status: 400 });
    expect(placed.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(placed.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    const saved = await request(api.url).post('/members/me/addresses').set('Authorization', customerAuth(memberId)).send(address);
    expect(saved.status).toBe(400);
    expect(await watch.tablesWrittenSince(mark)).toEqual([]);
  }
  // A buyer without any address, naming none: 400 too.
  const bare = `mem_bare_${env.id}`;
  await services(env.pool).member.createMember({ id: bare, name: 'No address' });
  const mark = await watch.last();
  const none = await shopper.placeOrder(bare, { lines: [{ skuId, quantity: 1 }] });
  expect(none.status).toBe(400);
  expect(none.body.errors[0].field).toBe('shippingAddress');
  expect(await watch.tablesWrittenSince(mark)).toEqual([]);
});

test('saved addresses: the buyer\'s own only, one default, audited without the address, usable by id', async () => {
  const { skuId, memberId } = await heavyShop();
  const as = (who: string) => ({ Authorization: customerAuth(who) });
  const listed = await request(api.url).get('/members/me/addresses').set(as(memberId));
  expect(listed.status).toBe(200);
  expect(listed.body.addresses).toHaveLength(1); // the fixture's default
  const created = await request(api.url).post('/members/me/addresses').set(as(memberId)).send({ ...BEIJING, isDefault: true });
  expect(created.status).toBe(201);
  const addressId = created.body.addressId as string;
  const after = (await request(api.url).get('/members/me/addresses').set(as(memberId))).body.addresses as { addressId: string; isDefault: boolean }[];
  expect(after.filter((address) => address.isDefault).map((address) => address.addressId)).toEqual([addressId]);

  // A placement without an address ships to the new default; one by id to that address.
  const placed = await shopper.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect(placed.status).toBe(201);
  expect((await request(api.url).get(`/orders/${placed.body.orderId}`).set(as(memberId))).body.shippingAddress).toEqual(BEIJING);
  const other = `mem_other_${env.id}`;
  await addMember(env.pool, other);
  const byForeignId = await shopper.placeOrder(other, { lines: [{ skuId, quantity: 1 }], addressId });
  expect(byForeignId.status).toBe(400);
  expect((await request(api.url).put(`/members/me/addresses/${addressId}`).set(as(other)).send(TEST_ADDRESS)).status).toBe(404);
  expect((await request(api.url).delete(`/members/me/addresses/${addressId}`).set(as(other))).status).toBe(404);

  const updated = await request(api.url).put(`/members/me/addresses/${addressId}`).set(as(memberId)).send({ ...BEIJING, street: '知春路 1 号' });
  expect(updated.status).toBe(200);
  expect(updated.body).toMatchObject({ addressId, street: '知春路 1 号', isDefault: true });
  expect((await request(api.url).delete(`/members/me/addresses/${addressId}`).set(as(memberId))).status).toBe(204);
  expect((await request(api.url).get('/members/me/addresses').set(as(memberId))).body.addresses).toHaveLength(1);

  const audit = await env.pool.query<{ action: string; details: unknown }>("SELECT action, details::text AS details FROM audit.events WHERE target_id = $1 ORDER BY id", [addressId]);
  expect(audit.rows.map((row) => row.action)).toEqual(['address.create', 'address.update', 'address.delete']);
  expect(JSON.stringify(audit.rows)).not.toContain('中关村');
  expect(JSON.stringify(audit.rows)).not.toContain(BEIJING.mobile);
});

test('freight goes back with the refund of the last unit before shipment, not with a partial refund', async () => {
  const { skuId, memberId } = await heavyShop();
  // 2 units, 4,600 g: 10 + 8 blocks × 3 = 34 yuan of freight; 234 yuan paid.
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 2 }] });
  expect(order.totals).toMatchObject({ freightFen: 3_400, paidFen: 23_400 });

  const refundOne = async (expectedFen: number) => {
    const asked = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'one too many' });
    expect(asked.status).toBe(201);
    expect(asked.body.requestedFen).toBe(expectedFen);
    const approved = await kit.support(`/support/refunds/${asked.body.requestId}/approve`, {});
    expect(approved.status).toBe(200);
    await kit.waitForRequest(asked.body.requestId, 'REFUNDED');
  };
  await refundOne(10_000); // the first unit: its goods only
  await refundOne(13_400); // the last: its goods and the freight
  const refunded = await kit.waitForStatus(memberId, order.orderId, 'REFUNDED');
  expect(refunded.totals.refundedFen).toBe(23_400);
  const refunds = await eventually(async () => {
    const rows = await kit.finance().entriesForOrder(order.orderId);
    return rows.filter((entry) => entry.kind === 'REFUND').length >= 2 ? rows : undefined;
  }, 20_000, 'both refunds in the ledger');
  expect(refunds.filter((entry) => entry.kind === 'REFUND')).toHaveLength(2);
  await recordHistory(env, order.orderId, 'standard-freight-refunded-in-full');
});

test('a presale pays its freight with the final payment; a refundable deposit refunded before it gives back the deposit only', async () => {
  sequence += 1;
  const skuId = `sku_pre_heavy_${sequence}`;
  const memberId = `mem_pre_${sequence}_${env.id}`;
  await addSku(env.pool, skuId, 10_000, 10, WEIGHT);
  await addMember(env.pool, memberId);
  const campaign = async (id: string, finalInMs: number) => {
    const now = Date.now();
    await services(env.pool).marketing.createCampaign({
      kind: 'PRESALE', id, name: id, skuId, presalePriceFen: 10_000, depositFen: 2_000, depositValueFen: 3_000, depositRefundable: true,
      depositStart: new Date(now - 60_000), depositEnd: new Date(now + finalInMs - 500), finalStart: new Date(now + finalInMs), finalEnd: new Date(now + finalInMs + 120_000),
    });
    return id;
  };
  const deposit = async (campaignId: string) => {
    const placed = await request(api.url).post(`/presales/${campaignId}/orders`).set('Authorization', customerAuth(memberId)).set('Idempotency-Key', `pre-${campaignId}`).send({});
    expect(placed.status).toBe(201);
    // 1 unit, 2,300 g: 19 yuan of freight, part of the order's price, not of the deposit.
    expect(placed.body.totals).toMatchObject({ freightFen: 1_900, payableFen: 10_000 - 1_000 + 1_900 });
    expect(placed.body.payment.amountFen).toBe(2_000);
    await shopper.pay(placed.body.payment.intentId);
    return placed.body as OrderView;
  };

  const early = await deposit(await campaign(`presale_refund_${sequence}`, 120_000));
  await kit.waitForStatus(memberId, early.orderId, 'DEPOSIT_PAID');
  const asked = await kit.askRefund(memberId, early.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'changed my mind' });
  expect(asked.status).toBe(201);
  expect(asked.body.requestedFen).toBe(2_000);

  const order = await deposit(await campaign(`presale_final_${sequence}`, 4_000));
  await kit.waitForStatus(memberId, order.orderId, 'FINAL_PAYMENT_DUE');
  const final = await request(api.url).post(`/orders/${order.orderId}/final-payment`).set('Authorization', customerAuth(memberId)).send({});
  expect(final.status).toBe(200);
  // 100 − 30 (the deposit's value) + 19 freight.
  expect(final.body.presale.finalPayment.amountFen).toBe(7_000 + 1_900);
  await shopper.pay(final.body.presale.finalPayment.intentId);
  const paid = await kit.waitForStatus(memberId, order.orderId, 'PAID');
  expect(paid.totals.paidFen).toBe(2_000 + 8_900);
});
