import { createFinanceService, type FinanceService } from '../../modules/finance';
import { createSandboxProvider, type SandboxProvider } from '../../modules/finance/sandbox';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let sandbox: SandboxProvider;
let finance: FinanceService;
// Two clocks: the provider's books and ours are kept by different systems.
let providerNow = new Date();
let ledgerNow = new Date();
const setBothClocks = (iso: string) => {
  providerNow = new Date(iso);
  ledgerNow = new Date(iso);
};

beforeAll(async () => {
  env = await createTestEnv();
  sandbox = createSandboxProvider({ pool: env.pool, clock: () => providerNow });
  finance = createFinanceService({ pool: env.pool, provider: sandbox, clock: () => ledgerNow });
});
afterAll(async () => {
  await sandbox.close();
  await env.close();
});

async function capturedOrder(orderId: string, amountFen: number): Promise<string> {
  const { intentId } = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen });
  await sandbox.pay(intentId);
  await finance.capturePayment({ idempotencyKey: `${orderId}:capture`, orderId, intentId });
  return intentId;
}

/** A cash entry written straight into the journal, as a buggy or manual booking would be. */
async function bookCashDirectly(key: string, externalRef: string, debitFen: number): Promise<void> {
  const client = await env.pool.connect();
  try {
    await client.query('BEGIN');
    const entry = await client.query<{ id: string }>(
      `INSERT INTO finance.journal_entries (idempotency_key, kind, order_id, currency, external_ref, created_at)
       VALUES ($1, 'PAYMENT_CAPTURED', 'ord_manual', 'CNY', $2, $3) RETURNING id`,
      [key, externalRef, ledgerNow],
    );
    await client.query(
      `INSERT INTO finance.journal_lines (entry_id, account, debit_fen, credit_fen)
       VALUES ($1, 'cash:provider', $2, 0), ($1, 'liability:customer_prepayments', 0, $2)`,
      [entry.rows[0].id, debitFen],
    );
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

test('a clean day reports no differences and stores the report', async () => {
  setBothClocks('2030-03-10T09:00:00Z');
  await capturedOrder('ord_clean_1', 10_000);
  await capturedOrder('ord_clean_2', 2_500);
  setBothClocks('2030-03-10T15:00:00Z');
  await finance.refundPayment({ idempotencyKey: 'ord_clean_1:refund', orderId: 'ord_clean_1', amountFen: 4_000, reason: 'return' });

  const report = await finance.reconcile({ date: '2030-03-10' });
  expect(report).toMatchObject({
    date: '2030-03-10',
    status: 'CLEAN',
    providerCount: 3,
    ledgerCount: 3,
    providerNetFen: 8_500,
    ledgerNetFen: 8_500,
    differences: [],
  });
  const stored = await env.pool.query('SELECT report_date::text AS date, status, provider_net_fen::int AS net, differences FROM finance.reconciliation_reports WHERE id = $1', [
    report.reportId,
  ]);
  expect(stored.rows).toEqual([{ date: '2030-03-10', status: 'CLEAN', net: 8_500, differences: [] }]);
  // The day before and after saw nothing.
  expect((await finance.reconcile({ date: '2030-03-09' })).providerCount).toBe(0);
});

test('a payment the provider took but the ledger never booked is reported, as are the other differences', async () => {
  setBothClocks('2030-03-11T10:00:00Z');
  await capturedOrder('ord_booked', 3_000);
  // Captured at the provider behind the ledger's back (a lost activity, a manual capture...).
  const { intentId } = await sandbox.createPaymentIntent({ idempotencyKey: 'ord_unbooked:intent', orderId: 'ord_unbooked', amountFen: 7_700, currency: 'CNY' });
  await sandbox.pay(intentId);
  const missing = await sandbox.capture({ idempotencyKey: 'ord_unbooked:capture', intentId, amountFen: 7_700 });
  // A capture booked with the wrong amount, and a cash entry the provider knows nothing about.
  const { intentId: wrongIntent } = await sandbox.createPaymentIntent({ idempotencyKey: 'ord_wrong:intent', orderId: 'ord_wrong', amountFen: 500, currency: 'CNY' });
  await sandbox.pay(wrongIntent);
  const wrong = await sandbox.capture({ idempotencyKey: 'ord_wrong:capture', intentId: wrongIntent, amountFen: 500 });
  await bookCashDirectly('manual:wrong', wrong.captureId, 550);
  await bookCashDirectly('manual:ghost', 'ch_ghost', 1_234);

  const report = await finance.reconcile({ date: '2030-03-11' });
  expect(report.status).toBe('DIFFERENCES');
  expect(report.differences).toEqual(
    expect.arrayContaining([
      { kind: 'MISSING_IN_LEDGER', transactionId: missing.captureId, orderId: 'ord_unbooked', providerAmountFen: 7_700, ledgerAmountFen: null },
      { kind: 'AMOUNT_MISMATCH', transactionId: wrong.captureId, orderId: 'ord_wrong', providerAmountFen: 500, ledgerAmountFen: 550 },
      { kind: 'MISSING_AT_PROVIDER', transactionId: 'ch_ghost', orderId: 'ord_manual', providerAmountFen: null, ledgerAmountFen: 1_234 },
    ]),
  );
  expect(report.differences).toHaveLength(3);
  expect(report.providerNetFen).toBe(3_000 + 7_700 + 500);
  expect(report.ledgerNetFen).toBe(3_000 + 550 + 1_234);
  const stored = await env.pool.query('SELECT status, jsonb_array_length(differences) AS n FROM finance.reconciliation_reports WHERE id = $1', [report.reportId]);
  expect(stored.rows).toEqual([{ status: 'DIFFERENCES', n: 3 }]);
});

test('a capture on the provider side of midnight and booked after it is matched, not reported twice', async () => {
  providerNow = new Date('2030-03-12T23:59:59Z');
  ledgerNow = new Date('2030-03-13T00:00:02Z');
  await capturedOrder('ord_midnight', 900);
  const before = await finance.reconcile({ date: '2030-03-12' });
  const after = await finance.reconcile({ date: '2030-03-13' });
  expect([before.status, before.providerCount, before.ledgerCount]).toEqual(['CLEAN', 1, 0]);
  expect([after.status, after.providerCount, after.ledgerCount]).toEqual(['CLEAN', 0, 1]);
});
