import request from 'supertest';
import { createReportsService } from '../../modules/reports';
import type { OrderView } from '../../workflows/order/definitions';
import { customerAuth, staffAuth } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/** Reports over HTTP from orders placed and paid through the storefront API (the real saga). */
let env: TestEnv;
let api: TestApi;
const { placeOrder, pay, waitForStatus } = storefront(() => api);
const bearer = (role: 'merchant' | 'finance') => staffAuth(role, `${role}_1`);

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_tea', 10_000, 20);
  await addMember(env.pool, 'mem_a', 1_000);
  await addMember(env.pool, 'mem_b');
});
afterAll(async () => {
  await api.close();
  await env.close();
});

test('sales, members and the trial balance of today come from the orders placed, to the fen; CSV has a BOM and the columns', async () => {
  // A: 2 × 100 yuan − 500 points (5 yuan) = 195 yuan, paid, in the app. B: 100 yuan from the mini-program, left unpaid.
  const placedA = await placeOrder('mem_a', { lines: [{ skuId: 'sku_tea', quantity: 2 }], pointsToRedeem: 500 });
  expect(placedA.status).toBe(201);
  const orderA = placedA.body as OrderView;
  expect(orderA.totals.payableFen).toBe(19_500);
  await pay(orderA.payment.intentId!);
  await waitForStatus('mem_a', orderA.orderId, 'PAID');
  const placedB = await placeOrder('mem_b', { lines: [{ skuId: 'sku_tea', quantity: 1 }], channel: { kind: 'mini_program' } });
  expect(placedB.status).toBe(201);

  const reports = createReportsService({ pool: env.pool, timeZone: 'Asia/Shanghai' });
  const today = reports.today();
  await eventually(async () => {
    await reports.rollUpDay(today);
    const members = await reports.members(today);
    // The order projection is written after the placement answers: B may still read PLACING.
    const sales = await reports.sales(today);
    return members.pointsRedeemed === 500 && sales.orders === 2 ? members : undefined;
  }, 20_000, 'the points of order A to be redeemed and both orders to be projected');

  const sales = await request(api.url).get(`/reports/sales/daily?date=${today}`).set('Authorization', bearer('merchant'));
  expect(sales.status).toBe(200);
  expect(sales.body).toMatchObject({ day: today, orders: 2, buyers: 2, gmvFen: 29_500, paidOrders: 1, paidFen: 19_500, refundedFen: 0, netFen: 19_500, aovFen: 14_750 });
  expect(sales.body.topSkus).toEqual([{ key: 'sku_tea', orders: 2, units: 3, gmvFen: 29_500 }]);
  expect(sales.body.byOrderType).toEqual([{ key: 'STANDARD', orders: 2, units: 3, gmvFen: 29_500 }]);
  expect(sales.body.byChannel).toEqual([
    { key: 'app', orders: 1, units: 2, gmvFen: 19_500 },
    { key: 'mini_program', orders: 1, units: 1, gmvFen: 10_000 },
  ]);

  // Issued: the 1,000 welcome points and the 195 pending points order A earned (1 a yuan paid).
  const members = await request(api.url).get('/reports/members').set('Authorization', bearer('merchant'));
  expect(members.body).toMatchObject({ day: today, buyers: 2, newBuyers: 2, returningBuyers: 0, pointsIssued: 1_195, pointsRedeemed: 500, tiers: { BRONZE: 2 } });

  const finance = await request(api.url).get(`/reports/finance?date=${today}`).set('Authorization', bearer('finance'));
  expect(finance.status).toBe(200);
  expect(finance.body.accounts.find((row: { account: string }) => row.account === 'cash:provider')).toMatchObject({ debitFen: 19_500, closingDebitFen: 19_500 });
  expect(finance.body.balanced).toBe(true);

  const csv = await request(api.url).get(`/reports/sales/daily?date=${today}`).set('Authorization', bearer('merchant')).set('Accept', 'text/csv');
  expect(csv.status).toBe(200);
  expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
  expect(csv.text.charCodeAt(0)).toBe(0xfeff);
  const lines = csv.text.slice(1).trimEnd().split('\r\n');
  expect(lines[0]).toBe('day,dimension,key,orders,buyers,units,gmv_fen,paid_fen,refunded_fen,net_fen,aov_fen');
  expect(lines[1]).toBe(`${today},total,,2,2,,29500,19500,0,19500,14750`);
  expect(lines).toContain(`${today},sku,sku_tea,2,,3,29500,,,,`);

  const financeCsv = await request(api.url).get(`/reports/finance?date=${today}&format=csv`).set('Authorization', bearer('finance'));
  expect(financeCsv.text.slice(1).split('\r\n')[0]).toBe('day,account,debit_fen,credit_fen,closing_debit_fen,closing_credit_fen');
});

test('roles and validation: customers and merchants may not read the trial balance; a bad day or week is 400', async () => {
  expect((await request(api.url).get('/reports/sales/daily').set('Authorization', customerAuth('mem_a'))).status).toBe(403);
  expect((await request(api.url).get('/reports/finance').set('Authorization', bearer('merchant'))).status).toBe(403);
  expect((await request(api.url).get('/reports/sales/daily')).status).toBe(401);
  for (const path of ['/reports/sales/daily?date=2026-02-30', '/reports/members?date=yesterday', '/reports/stock?week=2026-W54', '/reports/stock?week=2026-49', '/reports/after-sales?date=2026-12-01&extra=1', '/reports/sales/daily?top=0']) {
    const response = await request(api.url).get(path).set('Authorization', bearer('merchant'));
    expect({ path, status: response.status, type: response.headers['content-type'] }).toEqual({ path, status: 400, type: expect.stringContaining('application/problem+json') });
  }
  const week = await request(api.url).get('/reports/stock?week=2026-W49').set('Authorization', bearer('merchant'));
  expect(week.status).toBe(200);
  expect(week.body.week).toBe('2026-W49');
});
