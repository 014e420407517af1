import request from 'supertest';
import { ensureReconciliationSchedule } from '../../infra/reconciliation-schedule';
import { createFinanceService } from '../../modules/finance';
import type { ReconciliationSummary } from '../../workflows/reconciliation';
import type { OrderView } from '../../workflows/order/definitions';
import { startAlipayEngine, type AlipayTestEngine } from '../support/alipay-api';
import { API_KEYS } from '../support/api';
import { eventually } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/** The daily reconciliation as a Temporal Schedule, against Alipay's bill from the local gateway. */
let env: TestEnv;
let engine: AlipayTestEngine;
const shop = storefront(() => engine);
let scheduleId: string;

beforeAll(async () => {
  env = await createTestEnv();
  engine = await startAlipayEngine(env);
  scheduleId = `reconciliation-${env.id}`;
});
afterAll(async () => {
  await env.temporal.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await engine?.close();
  await env.close();
});

test('the schedule is created idempotently; triggered, it stores a report that finds an injected difference to the fen', async () => {
  await addSku(env.pool, 'sku_recon', 4_200, 5);
  await addMember(env.pool, 'mem_recon');
  const placed = await shop.placeOrder('mem_recon', { lines: [{ skuId: 'sku_recon', quantity: 1 }] });
  const order = placed.body as OrderView;
  await engine.gateway.pay(order.payment.intentId!);
  await shop.waitForStatus('mem_recon', order.orderId, 'PAID');

  const today = new Date().toISOString().slice(0, 10);
  const finance = createFinanceService({ pool: env.pool, provider: engine.alipay });
  expect((await finance.reconcile({ date: today })).status).toBe('CLEAN');

  // A trade at Alipay that the ledger never booked (money the engine does not know about).
  engine.gateway.injectBillRow({ tradeNo: '2026000000000099', outTradeNo: 'pi_stray', subject: 'Order ord_stray', kind: '交易', amountFen: 1_234, at: new Date() });

  const options = { scheduleId, taskQueue: env.taskQueue, cron: '0 3 * * *', daysBack: 0 };
  await ensureReconciliationSchedule(env.temporal, options);
  await ensureReconciliationSchedule(env.temporal, { ...options, cron: '30 3 * * *' });
  const described = await env.temporal.schedule.getHandle(scheduleId).describe();
  expect(described.spec.calendars?.length ?? 0).toBeGreaterThan(0);
  expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconciliationWorkflow', taskQueue: env.taskQueue });
  const listed = await eventually(async () => {
    for await (const schedule of env.temporal.schedule.list()) if (schedule.scheduleId === scheduleId) return schedule;
    return undefined;
  }, 10_000, 'the schedule in the list');
  expect(listed.scheduleId).toBe(scheduleId);

  await env.temporal.schedule.getHandle(scheduleId).trigger();
  const runId = await eventually(async () => (await env.temporal.schedule.getHandle(scheduleId).describe()).info.recentActions[0]?.action.workflow.workflowId, 15_000, 'the triggered run');
  const summary = (await env.temporal.workflow.getHandle(runId).result()) as ReconciliationSummary;
  expect(summary).toMatchObject({ date: today, status: 'DIFFERENCES', differences: 1 });

  const denied = await request(engine.url).get('/admin/reconciliation').query({ date: today }).set('X-API-Key', API_KEYS.warehouse);
  expect(denied.status).toBe(403);
  expect((await request(engine.url).get('/admin/reconciliation').query({ date: 'yesterday' }).set('X-API-Key', API_KEYS.admin)).status).toBe(400);
  const response = await request(engine.url).get('/admin/reconciliation').query({ date: today }).set('X-API-Key', API_KEYS.admin);
  expect(response.status).toBe(200);
  expect(response.body.status).toBe('DIFFERENCES');
  const [latest] = response.body.reports;
  expect(latest).toMatchObject({ reportId: summary.reportId, date: today, providerCount: 2, ledgerCount: 1, providerNetFen: 4_200 + 1_234, ledgerNetFen: 4_200 });
  expect(latest.differences).toEqual([{ kind: 'MISSING_IN_LEDGER', transactionId: '2026000000000099', orderId: 'ord_stray', providerAmountFen: 1_234, ledgerAmountFen: null }]);
  const stored = await env.pool.query('SELECT count(*) AS n FROM finance.reconciliation_reports WHERE run_key LIKE $1', [`${runId}:%`]);
  expect(Number(stored.rows[0].n)).toBe(1);
});
