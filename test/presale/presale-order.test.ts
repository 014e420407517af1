import request from 'supertest';
import { createFinanceService } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku, issueAmountOffCoupon, services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { recordHistory } from '../support/histories';
import { storefront } from '../support/storefront';

/**
 * Presale (预售) end to end through the admin and storefront API, the sandbox provider's signed
 * webhooks and the warehouse, on the real Temporal server and PostgreSQL. Campaign windows are
 * seconds long; the workflow sleeps durably until the final-payment window opens.
 */
let env: TestEnv;
let api: TestApi;
let sequence = 0;

// Presale price 100 yuan, deposit 20 yuan counting as 50 (定金膨胀): 50 yuan left before coupons.
const PRESALE_PRICE = 10_000;
const DEPOSIT = 2_000;
const DEPOSIT_VALUE = 5_000;

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  api = await startTestApi(env);
});
afterAll(async () => {
  await api.close();
  await env.close();
});

async function shop(stock = 10) {
  sequence += 1;
  const skuId = `sku_presale_${sequence}`;
  const memberId = `mem_presale_${sequence}_${env.id}`;
  await addSku(env.pool, skuId, 12_000, stock);
  await addMember(env.pool, memberId);
  return { skuId, memberId };
}

/** A presale whose deposit window is open now; the final window opens `finalInMs` from now for `finalForMs`. */
async function createPresale(skuId: string, options: { finalInMs?: number; finalForMs?: number; depositRefundable?: boolean; depositStartInMs?: number } = {}) {
  const now = Date.now();
  const depositStart = new Date(now + (options.depositStartInMs ?? -60_000));
  const finalStart = new Date(now + (options.finalInMs ?? 6_000));
  const definition = {
    id: `presale_${skuId}`,
    kind: 'PRESALE',
    name: `Presale of ${skuId}`,
    skuId,
    presalePriceFen: PRESALE_PRICE,
    depositFen: DEPOSIT,
    depositValueFen: DEPOSIT_VALUE,
    depositStart: depositStart.toISOString(),
    depositEnd: new Date(Math.max(depositStart.getTime() + 1_000, finalStart.getTime() - 500)).toISOString(),
    finalStart: finalStart.toISOString(),
    finalEnd: new Date(finalStart.getTime() + (options.finalForMs ?? 12_000)).toISOString(),
    depositRefundable: options.depositRefundable ?? false,
  };
  const created = await request(api.url).post('/admin/campaigns').set('X-API-Key', API_KEYS.admin).send(definition);
  expect(created.status).toBe(201);
  return definition;
}

function placeDeposit(memberId: string, campaignId: string, body: object = {}) {
  return request(api.url)
    .post(`/presales/${campaignId}/orders`)
    .set('Authorization', customerAuth(memberId))
    .set('Idempotency-Key', `key-${memberId}-${Math.random()}`)
    .send(body);
}

const { getOrder, waitForStatus, pay } = storefront(() => api);

async function ledgerForOrder(orderId: string) {
  return createFinanceService({ pool: env.pool, provider: api.sandbox }).entriesForOrder(orderId);
}

test('presale paid in full: deposit reserves stock, durable sleep, reminder, final payment with inflation and coupon, shipped, completed', async () => {
  const { skuId, memberId } = await shop();
  const campaign = await createPresale(skuId);
  const couponId = await issueAmountOffCoupon(env.pool, memberId, 1_000, { templateId: `tpl_presale_${sequence}` });

  // Coupons are not taken with the deposit.
  const withCoupon = await placeDeposit(memberId, campaign.id, { couponId });
  expect(withCoupon.status).toBe(400);

  const placed = await placeDeposit(memberId, campaign.id, { quantity: 1 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect(order.type).toBe('PRESALE');
  expect(order.status).toBe('PENDING_PAYMENT');
  expect(order.payment).toMatchObject({ status: 'PENDING', amountFen: DEPOSIT, intentId: expect.any(String) });
  expect(order.presale).toMatchObject({ depositFen: DEPOSIT, depositValueFen: DEPOSIT_VALUE, finalBeforeCouponFen: PRESALE_PRICE - DEPOSIT_VALUE });
  const { inventory, marketing } = services(env.pool);
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 1 });

  // Before the final window opens the final payment cannot be opened: 409 naming the window.
  await pay(order.payment.intentId!);
  const depositPaid = await waitForStatus(memberId, order.orderId, 'DEPOSIT_PAID');
  expect(depositPaid.totals.paidFen).toBe(DEPOSIT);
  const early = await request(api.url).post(`/orders/${order.orderId}/final-payment`).set('Authorization', customerAuth(memberId)).send({});
  expect(early.status).toBe(409);
  expect(early.body.detail).toContain(campaign.finalStart);
  // Not refundable: the buyer cannot cancel before the final payment.
  const cancel = await request(api.url).post(`/orders/${order.orderId}/cancel`).set('Authorization', customerAuth(memberId)).send({});
  expect(cancel.status).toBe(409);
  expect(cancel.body.detail).toContain('not refundable');
  // The warehouse cannot ship a deposit.
  const earlyShip = await request(api.url).post(`/warehouse/orders/${order.orderId}/ship`).set('X-API-Key', API_KEYS.warehouse).send({ carrier: 'SF', trackingNumber: 'SF0' });
  expect(earlyShip.status).toBe(409);

  const due = await waitForStatus(memberId, order.orderId, 'FINAL_PAYMENT_DUE');
  expect(due.presale?.remindedAt).toBeDefined();
  expect(new Date(due.presale!.remindedAt!).getTime()).toBeGreaterThanOrEqual(new Date(campaign.finalStart).getTime());
  expect(due.timeline.map((entry) => entry.event)).toContain('final payment reminder');

  // Final: 100 − 50 (the deposit's value) − 10 (coupon) = 40 yuan.
  const opened = await request(api.url).post(`/orders/${order.orderId}/final-payment`).set('Authorization', customerAuth(memberId)).send({ couponId });
  expect(opened.status).toBe(200);
  const final = (opened.body as OrderView).presale!.finalPayment;
  expect(final).toMatchObject({ status: 'PENDING', amountFen: 4_000, intentId: expect.any(String) });
  expect(final.intentId).not.toBe(order.payment.intentId);
  expect((await marketing.findCoupon(couponId))?.state).toBe('LOCKED');
  // Asking again answers the same intent.
  const again = await request(api.url).post(`/orders/${order.orderId}/final-payment`).set('Authorization', customerAuth(memberId)).send({ couponId });
  expect(again.status).toBe(200);
  expect(again.body.presale.finalPayment.intentId).toBe(final.intentId);

  await pay(final.intentId!);
  const paid = await waitForStatus(memberId, order.orderId, 'PAID');
  expect(paid.totals).toMatchObject({ listFen: PRESALE_PRICE, promotionDiscountFen: DEPOSIT_VALUE - DEPOSIT, couponDiscountFen: 1_000, payableFen: 6_000, paidFen: 6_000 });
  expect((await marketing.findCoupon(couponId))?.state).toBe('USED');
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: DEPOSIT });
  expect(await api.sandbox.getIntent(final.intentId!)).toMatchObject({ capturedFen: 4_000 });

  const shipped = await request(api.url).post(`/warehouse/orders/${order.orderId}/ship`).set('X-API-Key', API_KEYS.warehouse).send({ carrier: 'SF', trackingNumber: 'SF1' });
  expect(shipped.status).toBe(200);
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 9, reserved: 0 });
  const delivered = await request(api.url).post(`/carrier/orders/${order.orderId}/delivered`).set('X-API-Key', API_KEYS.carrier).send({});
  expect(delivered.status).toBe(200);

  const completed = await waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.timeline.map((entry) => entry.status).filter(Boolean)).toEqual([
    'PLACING',
    'PENDING_PAYMENT',
    'DEPOSIT_PAID',
    'FINAL_PAYMENT_DUE',
    'PAID',
    'SHIPPED',
    'DELIVERED',
    'COMPLETED',
  ]);
  const entries = await ledgerForOrder(order.orderId);
  expect(entries.map((entry) => [entry.kind, entry.lines.reduce((sum, line) => sum + line.debitFen, 0)])).toEqual([
    ['PAYMENT_CAPTURED', DEPOSIT],
    ['PAYMENT_CAPTURED', 4_000],
    ['REVENUE_RECOGNISED', 6_000],
  ]);
  expect((await services(env.pool).member.getMember(memberId)).points).toMatchObject({ available: 60, pending: 0 });
  await recordHistory(env, order.orderId, 'presale-paid-in-full');
});

test('missed final payment: stock released, deposit forfeited to other income in the ledger', async () => {
  const { skuId, memberId } = await shop();
  const campaign = await createPresale(skuId, { finalInMs: 4_000, finalForMs: 3_000 });
  const placed = await placeDeposit(memberId, campaign.id, { quantity: 2 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect(order.payment.amountFen).toBe(2 * DEPOSIT);
  const { inventory } = services(env.pool);
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 2 });
  await pay(order.payment.intentId!);
  await waitForStatus(memberId, order.orderId, 'DEPOSIT_PAID');
  await waitForStatus(memberId, order.orderId, 'FINAL_PAYMENT_DUE');

  const cancelled = await waitForStatus(memberId, order.orderId, 'CANCELLED');
  expect(cancelled.cancellation).toMatchObject({ by: 'system', reason: expect.stringContaining('final payment') });
  expect(cancelled.presale?.depositOutcome).toBe('FORFEITED');
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
  // The deposit is kept: nothing refunded at the provider, booked as other income.
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 2 * DEPOSIT, refundedFen: 0 });
  const entries = await ledgerForOrder(order.orderId);
  expect(entries.map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'DEPOSIT_FORFEITED']);
  expect(entries[1].lines).toEqual(
    expect.arrayContaining([
      { account: 'liability:customer_prepayments', debitFen: 2 * DEPOSIT, creditFen: 0 },
      { account: 'income:forfeited_deposits', debitFen: 0, creditFen: 2 * DEPOSIT },
    ]),
  );
  await recordHistory(env, order.orderId, 'presale-deposit-forfeited');
});

test('refundable deposit: missed final payment refunds the deposit; a buyer cancel before the final payment refunds it too', async () => {
  const { skuId, memberId } = await shop();
  const campaign = await createPresale(skuId, { finalInMs: 4_000, finalForMs: 2_000, depositRefundable: true });
  const missed = (await placeDeposit(memberId, campaign.id)).body as OrderView;
  const cancelledByBuyer = (await placeDeposit(memberId, campaign.id)).body as OrderView;
  await pay(missed.payment.intentId!);
  await pay(cancelledByBuyer.payment.intentId!);
  await waitForStatus(memberId, cancelledByBuyer.orderId, 'DEPOSIT_PAID');

  const cancel = await request(api.url).post(`/orders/${cancelledByBuyer.orderId}/cancel`).set('Authorization', customerAuth(memberId)).send({ reason: 'changed my mind' });
  expect(cancel.status).toBe(200);
  expect(cancel.body).toMatchObject({ status: 'CANCELLED', presale: { depositOutcome: 'REFUNDED' } });
  expect(await api.sandbox.getIntent(cancelledByBuyer.payment.intentId!)).toMatchObject({ capturedFen: DEPOSIT, refundedFen: DEPOSIT });

  const expired = await waitForStatus(memberId, missed.orderId, 'CANCELLED');
  expect(expired.presale?.depositOutcome).toBe('REFUNDED');
  expect(await api.sandbox.getIntent(missed.payment.intentId!)).toMatchObject({ capturedFen: DEPOSIT, refundedFen: DEPOSIT });
  expect((await ledgerForOrder(missed.orderId)).map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  await recordHistory(env, cancelledByBuyer.orderId, 'presale-buyer-cancel-refundable');
  await recordHistory(env, missed.orderId, 'presale-missed-refundable');
});

test('a deposit outside the deposit window is refused with 409 naming the window; no order is started', async () => {
  const { skuId, memberId } = await shop();
  const campaign = await createPresale(skuId, { depositStartInMs: 60_000, finalInMs: 120_000 });
  const refused = await placeDeposit(memberId, campaign.id);
  expect(refused.status).toBe(409);
  expect(refused.headers['content-type']).toMatch(/problem\+json/);
  expect(refused.body).toMatchObject({ campaignId: campaign.id, depositStart: campaign.depositStart, depositEnd: campaign.depositEnd });
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ reserved: 0 });

  const unknown = await placeDeposit(memberId, 'presale_nope');
  expect(unknown.status).toBe(404);
});

describe('admin campaigns API', () => {
  const base = {
    id: 'presale_admin',
    kind: 'PRESALE',
    name: 'Admin presale',
    skuId: 'sku_admin',
    presalePriceFen: 10_000,
    depositFen: 2_000,
    depositStart: '2030-01-01T00:00:00.000Z',
    depositEnd: '2030-01-02T00:00:00.000Z',
    finalStart: '2030-01-03T00:00:00.000Z',
    finalEnd: '2030-01-04T00:00:00.000Z',
  };
  const post = (body: object, key = API_KEYS.admin) => request(api.url).post('/admin/campaigns').set('X-API-Key', key).send(body);

  test('invalid definitions are 400 with the offending fields', async () => {
    const deposit = await post({ ...base, depositFen: 2_001 });
    expect(deposit.status).toBe(400);
    expect(deposit.headers['content-type']).toMatch(/problem\+json/);
    expect(deposit.body.errors).toEqual([{ field: 'depositFen', message: expect.stringContaining('20%') }]);

    const windows = await post({ ...base, finalStart: '2030-01-01T12:00:00.000Z' });
    expect(windows.status).toBe(400);
    expect(windows.body.errors.map((error: { field: string }) => error.field)).toContain('finalStart');

    const group = await post({ id: 'g1', kind: 'GROUP_BUY', name: 'g', skuId: 's', groupPriceFen: 100, groupSize: 51, startsAt: base.depositStart, endsAt: base.finalEnd });
    expect(group.status).toBe(400);
    expect(group.body.errors.map((error: { field: string }) => error.field)).toContain('groupSize');

    const kind = await post({ ...base, kind: 'AUCTION' });
    expect(kind.status).toBe(400);
    expect((await request(api.url).get('/admin/campaigns/presale_admin').set('X-API-Key', API_KEYS.admin)).status).toBe(404);
  });

  test('admins create and read campaigns; others may not', async () => {
    const { memberId } = await shop();
    const forbidden = await request(api.url).post('/admin/campaigns').set('Authorization', customerAuth(memberId)).send(base);
    expect(forbidden.status).toBe(403);
    expect((await request(api.url).post('/admin/campaigns').send(base)).status).toBe(401);

    const created = await post(base);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'presale_admin', depositRefundable: false, finalEnd: base.finalEnd });
    const read = await request(api.url).get('/admin/campaigns/presale_admin').set('X-API-Key', API_KEYS.admin);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect((await post(base)).status).toBe(200);
    expect((await post({ ...base, depositFen: 1_000 })).status).toBe(409);
  });
});
