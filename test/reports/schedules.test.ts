import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ensureReportSchedules, type ReportSchedulesOptions } from '../../infra/report-schedules';
import { createReportsService } from '../../modules/reports';
import { eventually } from '../support/api-server';
import { createTestEnv, type TestEnv } from '../support/harness';
import { insertOrder } from './projection-rows';

let env: TestEnv;
let options: ReportSchedulesOptions;
beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  options = { taskQueue: env.taskQueue, timeZone: 'Asia/Shanghai', rollUpEveryMs: 3_600_000, dailyCloseAt: '00:30', idPrefix: `reports-${env.id}` };
});
afterAll(async () => {
  for (const suffix of ['rollup-today', 'daily-close']) await env.temporal.schedule.getHandle(`reports-${env.id}-${suffix}`).delete().catch(() => undefined);
  await env.close();
});

test('the schedules are created at start, and again without failing; the hourly one rolls up today', async () => {
  const ids = await ensureReportSchedules(env.temporal, options);
  expect(ids).toEqual([`reports-${env.id}-rollup-today`, `reports-${env.id}-daily-close`]);
  // A second start (or a second API process) finds them and brings them up to the configuration.
  await ensureReportSchedules(env.temporal, { ...options, dailyCloseAt: '01:15' });

  const close = await env.temporal.schedule.getHandle(`reports-${env.id}-daily-close`).describe();
  expect(close.spec.timezone).toBe('Asia/Shanghai');
  expect(close.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 1, end: 1, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] });
  expect(close.policies.overlap).toBe(ScheduleOverlapPolicy.BUFFER_ONE);
  expect(close.action).toMatchObject({ workflowType: 'reportsRollUpWorkflow', taskQueue: env.taskQueue, args: [{ timeZone: 'Asia/Shanghai', daysAgo: 1 }] });

  const reports = createReportsService({ pool: env.pool, timeZone: 'Asia/Shanghai' });
  await insertOrder(env.pool, { orderId: 'o_now', customerId: 'c1', status: 'PENDING_PAYMENT', createdAt: new Date().toISOString(), payableFen: 4_321,
    lines: [{ skuId: 'sku_a', quantity: 1, payableFen: 4_321 }] });
  await env.temporal.schedule.getHandle(`reports-${env.id}-rollup-today`).trigger();
  const sales = await eventually(async () => {
    const today = await reports.sales(reports.today());
    return today.rolledUpAt ? today : undefined;
  }, 30_000, "today's roll-up by the schedule");
  expect(sales).toMatchObject({ orders: 1, gmvFen: 4_321 });
});
