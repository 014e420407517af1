import { createAfterSalesService } from '../../modules/after-sales';
import { listEvents } from '../../modules/events/outbox';
import { createFinanceService } from '../../modules/finance';
import { createSandboxProvider, type SandboxProvider } from '../../modules/finance/sandbox';
import type { RefundRequestView } from '../../workflows/after-sales/definitions';
import { addSku, services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * The events written by modules in their own transactions (no workflow): one per effect, none
 * without it, however often the operation is repeated.
 */
let env: TestEnv;
let sandbox: SandboxProvider;
beforeAll(async () => {
  env = await createTestEnv();
  sandbox = createSandboxProvider({ pool: env.pool });
});
afterAll(async () => {
  await sandbox.close();
  await env.close();
});

const ofType = async (type: string) => (await listEvents(env.pool)).filter((event) => event.type === type);

test('stock.low: one event when an alert opens, none for a repeated reservation or a still-low reading', async () => {
  const { inventory } = services(env.pool);
  await addSku(env.pool, 'sku_ev_low', 1_000, 10);
  await inventory.setLowStockThreshold({ skuId: 'sku_ev_low', threshold: 5 });
  await inventory.reserve({ idempotencyKey: 'ord_low1:reserve-stock', orderId: 'ord_low1', lines: [{ skuId: 'sku_ev_low', quantity: 5 }] });
  expect(await ofType('stock.low')).toEqual([]); // 5 available: not under 5
  await inventory.reserve({ idempotencyKey: 'ord_low2:reserve-stock', orderId: 'ord_low2', lines: [{ skuId: 'sku_ev_low', quantity: 2 }] });
  await inventory.reserve({ idempotencyKey: 'ord_low2:reserve-stock', orderId: 'ord_low2', lines: [{ skuId: 'sku_ev_low', quantity: 2 }] });
  await inventory.reserve({ idempotencyKey: 'ord_low3:reserve-stock', orderId: 'ord_low3', lines: [{ skuId: 'sku_ev_low', quantity: 1 }] });
  const [alert] = await inventory.listLowStockAlerts();
  const events = await ofType('stock.low');
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ eventId: `stock-low:${alert.id}`, orderId: null, data: { alertId: alert.id, skuId: 'sku_ev_low', available: 3, threshold: 5 } });
});

test('refund.decided: written with the decision row, once, whoever records it again', async () => {
  const afterSales = createAfterSalesService({ pool: env.pool });
  await afterSales.saveRequest({
    requestId: 'rf_ev_1', workflowId: 'refund-rf_ev_1', orderId: 'ord_ev_rf', customerId: 'mem_ev_rf', kind: 'REFUND_ONLY', status: 'PENDING',
    lines: [], requestedFen: 800, refundedFen: 0, reason: 'broken', requestedBy: 'customer:mem_ev_rf', requestedAt: '2030-01-01T08:00:00.000Z',
    decisionDueAt: '2030-01-03T08:00:00.000Z', timeline: [], version: 1,
  } as unknown as RefundRequestView);
  const decision = {
    requestId: 'rf_ev_1', orderId: 'ord_ev_rf', decision: 'APPROVED' as const, decidedBy: 'agent_li', channel: 'api' as const, approvedFen: 600,
    decidedAt: '2030-01-01T09:30:00.000Z', workflowId: 'refund-rf_ev_1', runId: 'run-1',
  };
  await afterSales.recordDecision(decision);
  await afterSales.recordDecision(decision);
  await expect(afterSales.recordDecision({ ...decision, decision: 'REJECTED', decidedBy: 'agent_wang', approvedFen: undefined, reason: 'works fine' })).rejects.toThrow(/already/);
  const events = await ofType('refund.decided');
  expect(events).toEqual([
    expect.objectContaining({
      eventId: 'rf_ev_1:decided',
      orderId: 'ord_ev_rf',
      customerId: 'mem_ev_rf',
      occurredAt: '2030-01-01T09:30:00.000Z',
      data: { requestId: 'rf_ev_1', decision: 'APPROVED', approvedFen: 600, channel: 'api' },
    }),
  ]);
});

test('reconciliation.difference: one event per difference of a stored report; a re-run of the same key adds none', async () => {
  let now = new Date('2031-05-05T10:00:00Z');
  const provider = createSandboxProvider({ pool: env.pool, clock: () => now });
  const finance = createFinanceService({ pool: env.pool, provider, clock: () => now });
  try {
    // Captured at the provider, never booked by the ledger.
    const { intentId } = await provider.createPaymentIntent({ idempotencyKey: 'ord_ev_unbooked:intent', orderId: 'ord_ev_unbooked', amountFen: 4_200, currency: 'CNY' });
    await provider.pay(intentId);
    const capture = await provider.capture({ idempotencyKey: 'ord_ev_unbooked:capture', intentId, amountFen: 4_200 });
    now = new Date('2031-05-06T03:00:00Z');
    const report = await finance.reconcile({ date: '2031-05-05', idempotencyKey: 'recon-run-1' });
    await finance.reconcile({ date: '2031-05-05', idempotencyKey: 'recon-run-1' });
    expect(report.differences).toHaveLength(1);
    const events = await ofType('reconciliation.difference');
    expect(events).toEqual([
      expect.objectContaining({
        eventId: `reconciliation:${report.reportId}:${capture.captureId}:MISSING_IN_LEDGER`,
        orderId: 'ord_ev_unbooked',
        data: { reportId: String(report.reportId), date: '2031-05-05', kind: 'MISSING_IN_LEDGER', transactionId: capture.captureId, providerAmountFen: 4_200, ledgerAmountFen: null },
      }),
    ]);
    // A clean day stores a report and no event.
    await finance.reconcile({ date: '2031-05-09', idempotencyKey: 'recon-run-2' });
    expect(await ofType('reconciliation.difference')).toHaveLength(1);
  } finally {
    await provider.close();
  }
});
