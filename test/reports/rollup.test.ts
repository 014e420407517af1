import { createReportsService } from '../../modules/reports';
import { addSku, addMember, services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { insertJournalEntry, insertOrder, insertRefund } from './projection-rows';

/**
 * The roll-ups against a known set of orders, asserted to the fen. Two of them sit on the edge of
 * a Shanghai day: 23:30 on 30 Nov (15:30Z) and 00:30 on 1 Dec (16:30Z), the same UTC day.
 */
let env: TestEnv;
const SHANGHAI = 'Asia/Shanghai';

beforeAll(async () => {
  env = await createTestEnv();
  const { pool } = env;
  await insertOrder(pool, { orderId: 'o1', customerId: 'c1', status: 'PAID', createdAt: '2026-11-30T02:00:00Z', payableFen: 10_000, channel: 'app',
    lines: [{ skuId: 'sku_a', quantity: 2, payableFen: 10_000 }], paidAt: '2026-11-30T02:01:00Z', refunds: [{ amountFen: 3_000, at: '2026-11-30T05:00:00Z' }] });
  await insertOrder(pool, { orderId: 'o2', customerId: 'c2', type: 'FLASH_SALE', status: 'PAID', createdAt: '2026-11-30T15:30:00Z', payableFen: 5_000, channel: 'live_stream',
    lines: [{ skuId: 'sku_b', quantity: 1, payableFen: 5_000 }], paidAt: '2026-11-30T15:31:00Z', campaign: { flashSale: 'fs1' } });
  await insertOrder(pool, { orderId: 'o3', customerId: 'c1', type: 'PRESALE', status: 'DEPOSIT_PAID', createdAt: '2026-11-30T16:30:00Z', payableFen: 20_000, channel: 'mini_program',
    lines: [{ skuId: 'sku_a', quantity: 1, payableFen: 20_000 }], paidAt: '2026-11-30T16:31:00Z', campaign: { presale: 'ps1' } });
  await insertOrder(pool, { orderId: 'o4', customerId: 'c3', status: 'REJECTED', createdAt: '2026-11-30T03:00:00Z', payableFen: 999,
    lines: [{ skuId: 'sku_a', quantity: 1, payableFen: 999 }] });
  await insertOrder(pool, { orderId: 'o5', customerId: 'c3', status: 'PENDING_PAYMENT', createdAt: '2026-11-30T04:00:00Z', payableFen: 7_000,
    lines: [{ skuId: 'sku_b', quantity: 1, payableFen: 7_000 }] });
  await insertRefund(pool, { requestId: 'r1', orderId: 'o1', customerId: 'c1', requestedAt: '2026-11-30T04:00:00Z', requestedFen: 3_000, refundedFen: 3_000,
    reason: 'damaged', lines: [{ skuId: 'sku_a', amountFen: 3_000 }], decision: { decision: 'APPROVED', channel: 'auto', at: '2026-11-30T05:00:00Z' } });
  await insertRefund(pool, { requestId: 'r2', orderId: 'o2', customerId: 'c2', requestedAt: '2026-11-30T15:40:00Z', requestedFen: 5_000, refundedFen: 0,
    reason: 'changed mind', lines: [{ skuId: 'sku_b', amountFen: 5_000 }], decision: { decision: 'REJECTED', channel: 'api', at: '2026-11-30T16:10:00Z' } });
  await insertJournalEntry(pool, 'cap-o1', '2026-11-30T02:01:00Z', 'cash:provider', 'liability:customer_prepayments', 10_000);
  await insertJournalEntry(pool, 'cap-o3', '2026-11-30T16:31:00Z', 'cash:provider', 'liability:customer_prepayments', 2_000);
});
afterAll(() => env.close());

const tables = ['sales_daily', 'sales_daily_breakdown', 'members_daily', 'after_sales_daily', 'after_sales_daily_breakdown', 'trial_balance_daily', 'reconciliation_daily', 'stock_weekly'];
async function snapshot(): Promise<string> {
  const parts: unknown[] = [];
  for (const table of tables) {
    const rows = await env.pool.query(`SELECT * FROM reports.${table} ORDER BY 1, 2, 3`);
    parts.push(rows.rows.map(({ rolled_up_at: _ignored, ...row }) => row));
  }
  return JSON.stringify(parts);
}

test('daily sales of a Shanghai day: the order at 23:30 is in it, the one at 00:30 the next day is not', async () => {
  const reports = createReportsService({ pool: env.pool, timeZone: SHANGHAI });
  await reports.rollUpDay('2026-11-30');
  await reports.rollUpDay('2026-12-01');

  const nov30 = await reports.sales('2026-11-30');
  expect(nov30).toMatchObject({ orders: 3, buyers: 3, gmvFen: 22_000, paidOrders: 2, paidFen: 15_000, refundedFen: 3_000, netFen: 12_000, aovFen: 7_333 });
  expect(nov30.byOrderType).toEqual([
    { key: 'STANDARD', orders: 2, units: 3, gmvFen: 17_000 },
    { key: 'FLASH_SALE', orders: 1, units: 1, gmvFen: 5_000 },
  ]);
  // o5 was placed before channels existed (no channel): `unknown`, so the split still adds up to the day.
  expect(nov30.byChannel).toEqual([
    { key: 'app', orders: 1, units: 2, gmvFen: 10_000 },
    { key: 'unknown', orders: 1, units: 1, gmvFen: 7_000 },
    { key: 'live_stream', orders: 1, units: 1, gmvFen: 5_000 },
  ]);
  expect(nov30.byCampaign).toEqual([{ key: 'fs1', orders: 1, units: 1, gmvFen: 5_000 }]);
  expect(nov30.topSkus).toEqual([
    { key: 'sku_b', orders: 2, units: 2, gmvFen: 12_000 },
    { key: 'sku_a', orders: 1, units: 2, gmvFen: 10_000 },
  ]);
  expect(nov30.byHour).toEqual([
    { key: '10', orders: 1, units: 2, gmvFen: 10_000 },
    { key: '12', orders: 1, units: 1, gmvFen: 7_000 },
    { key: '23', orders: 1, units: 1, gmvFen: 5_000 },
  ]);

  const dec1 = await reports.sales('2026-12-01');
  expect(dec1).toMatchObject({ orders: 1, buyers: 1, gmvFen: 20_000, paidOrders: 1, paidFen: 2_000, refundedFen: 0, netFen: 2_000, aovFen: 20_000 });
  expect(dec1.byCampaign).toEqual([{ key: 'ps1', orders: 1, units: 1, gmvFen: 20_000 }]);
  expect(dec1.byChannel).toEqual([{ key: 'mini_program', orders: 1, units: 1, gmvFen: 20_000 }]);
  expect(dec1.byHour).toEqual([{ key: '00', orders: 1, units: 1, gmvFen: 20_000 }]);

  // The same orders counted in UTC days all fall on 30 Nov: the zone is what splits them.
  const utc = createReportsService({ pool: env.pool, timeZone: 'UTC' });
  await utc.rollUpDay('2026-11-30');
  expect(await utc.sales('2026-11-30')).toMatchObject({ orders: 4, gmvFen: 42_000, paidFen: 17_000 });
  await reports.rollUpDay('2026-11-30'); // back to Shanghai figures for the tests below
});

test('members: new and returning buyers, repurchase over 30 days, points and tiers', async () => {
  const reports = createReportsService({ pool: env.pool, timeZone: SHANGHAI });
  await reports.rollUpDay('2026-12-01');
  expect(await reports.members('2026-11-30')).toMatchObject({ buyers: 3, newBuyers: 3, returningBuyers: 0 });
  expect(await reports.members('2026-12-01')).toMatchObject({
    buyers: 1, newBuyers: 0, returningBuyers: 1,
    repurchase30d: { buyers: 3, repeatBuyers: 1, rate: 0.3333 },
    repurchase90d: { buyers: 3, repeatBuyers: 1, rate: 0.3333 },
  });

  await addMember(env.pool, 'm_points', 500);
  const today = reports.today();
  await reports.rollUpDay(today);
  const members = await reports.members(today);
  expect(members.pointsIssued).toBe(500);
  expect(members.pointsRedeemed).toBe(0);
  expect(members.tiers).toEqual({ BRONZE: 1 });
});

test('after-sales: requests by reason and SKU, refund rate, decisions and their times', async () => {
  const reports = createReportsService({ pool: env.pool, timeZone: SHANGHAI });
  const nov30 = await reports.afterSales('2026-11-30');
  expect(nov30).toMatchObject({ requests: 2, ordersPlaced: 3, refundRate: 0.6667, refundedFen: 3_000, approved: 1, rejected: 0, autoApproved: 1,
    avgDecisionSeconds: 3_600, maxDecisionSeconds: 3_600 });
  expect(nov30.byReason).toEqual([
    { key: 'damaged', requests: 1, requestedFen: 3_000, refundedFen: 3_000 },
    { key: 'changed mind', requests: 1, requestedFen: 5_000, refundedFen: 0 },
  ]);
  expect(nov30.bySku).toEqual([
    { key: 'sku_a', requests: 1, requestedFen: 3_000, refundedFen: 3_000 },
    { key: 'sku_b', requests: 1, requestedFen: 5_000, refundedFen: 0 },
  ]);
  // r2 was rejected at 00:10 Shanghai time on 1 Dec, 30 minutes after it was asked for.
  expect(await reports.afterSales('2026-12-01')).toMatchObject({ requests: 0, approved: 0, rejected: 1, autoApproved: 0, avgDecisionSeconds: 1_800 });
});

test('finance: the trial balance per day, with closing totals that balance', async () => {
  const reports = createReportsService({ pool: env.pool, timeZone: SHANGHAI });
  const nov30 = await reports.finance('2026-11-30');
  expect(nov30.accounts.find((row) => row.account === 'cash:provider')).toEqual({ account: 'cash:provider', debitFen: 10_000, creditFen: 0, closingDebitFen: 10_000, closingCreditFen: 0 });
  const dec1 = await reports.finance('2026-12-01');
  expect(dec1.accounts.find((row) => row.account === 'cash:provider')).toEqual({ account: 'cash:provider', debitFen: 2_000, creditFen: 0, closingDebitFen: 12_000, closingCreditFen: 0 });
  expect(dec1.accounts.find((row) => row.account === 'liability:customer_prepayments')).toMatchObject({ creditFen: 2_000, closingCreditFen: 12_000 });
  expect(dec1.accounts).toHaveLength(5);
  expect(dec1.totals).toEqual({ debitFen: 2_000, creditFen: 2_000, closingDebitFen: 12_000, closingCreditFen: 12_000 });
  expect(dec1.balanced).toBe(true);
  expect(dec1.reconciliation).toEqual({ status: 'NONE', differences: 0 });
});

test('stock of the week: on hand, reserved, sold (committed), turnover days, low and out of stock', async () => {
  await addSku(env.pool, 'sku_s1', 1_000, 10);
  await addSku(env.pool, 'sku_s2', 1_000, 3);
  const { inventory } = services(env.pool);
  await inventory.setLowStockThreshold({ skuId: 'sku_s2', threshold: 5 });
  await inventory.reserve({ idempotencyKey: 'ord_s:reserve', orderId: 'ord_s', lines: [{ skuId: 'sku_s1', quantity: 4 }] });
  await inventory.commit({ idempotencyKey: 'ord_s:commit', reservationKey: 'ord_s:reserve' });
  await inventory.reserve({ idempotencyKey: 'ord_t:reserve', orderId: 'ord_t', lines: [{ skuId: 'sku_s2', quantity: 3 }] });

  const reports = createReportsService({ pool: env.pool, timeZone: SHANGHAI });
  const { week } = await reports.rollUpDay(reports.today());
  const stock = await reports.stock(week);
  const s1 = stock.rows.find((row) => row.skuId === 'sku_s1');
  // Committing ships the units: 6 left, 4 sold this week → 6 / (4 / 7) = 10.5 days.
  expect(s1).toEqual({ warehouseId: 'wh_main', skuId: 'sku_s1', onHand: 6, reserved: 0, sold: 4, turnoverDays: 10.5, status: 'OK' });
  expect(stock.outOfStock.map((row) => row.skuId)).toEqual(['sku_s2']);
});

test('re-running any day changes nothing', async () => {
  const reports = createReportsService({ pool: env.pool, timeZone: SHANGHAI });
  for (const day of ['2026-11-30', '2026-12-01', reports.today()]) await reports.rollUpDay(day);
  const before = await snapshot();
  for (const day of ['2026-12-01', '2026-11-30', reports.today()]) await reports.rollUpDay(day);
  await Promise.all([reports.rollUpDay('2026-11-30'), reports.rollUpDay('2026-11-30')]);
  expect(await snapshot()).toBe(before);
});
