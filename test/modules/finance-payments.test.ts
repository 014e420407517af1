import { createFinanceService, type FinanceService } from '../../modules/finance';
import { createSandboxProvider, type SandboxProvider } from '../../modules/finance/sandbox';
import { DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let sandbox: SandboxProvider;
let finance: FinanceService;

beforeAll(async () => {
  env = await createTestEnv();
  sandbox = createSandboxProvider({ pool: env.pool });
  finance = createFinanceService({ pool: env.pool, provider: sandbox });
});
afterAll(async () => {
  await sandbox.close();
  await env.close();
});

let orderCounter = 0;
const newOrderId = (label: string) => `ord_${label}_${++orderCounter}`;

/** Intent, buyer pays at the sandbox, webhook recorded, captured: the order's money is in. */
async function paidOrder(orderId: string, amountFen: number, step = 'pay'): Promise<string> {
  const { intentId } = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:${step}:intent`, orderId, amountFen });
  expect((await sandbox.pay(intentId)).outcome).toBe('succeeded');
  await finance.recordPaymentSucceeded({ idempotencyKey: `${orderId}:${step}:paid`, orderId, intentId, amountFen });
  await finance.capturePayment({ idempotencyKey: `${orderId}:${step}:capture`, orderId, intentId });
  return intentId;
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const result = await env.pool.query<{ n: string }>(sql, params);
  return Number(result.rows[0].n);
}

const providerTransactions = (intentId: string, kind: string) =>
  count('SELECT count(*) AS n FROM finance_sandbox.transactions WHERE intent_id = $1 AND kind = $2', [intentId, kind]);
const ledgerEntries = (orderId: string, kind: string) =>
  count('SELECT count(*) AS n FROM finance.journal_entries WHERE order_id = $1 AND kind = $2', [orderId, kind]);

async function domainCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('idempotency: one key, one effect at the provider and in the ledger', () => {
  test('creating a payment intent twice with one key makes one intent and one payment', async () => {
    const orderId = newOrderId('intent');
    const input = { idempotencyKey: `${orderId}:intent`, orderId, amountFen: 12_345 };
    const [first, second] = await Promise.all([finance.createPaymentIntent(input), finance.createPaymentIntent(input)]);
    const third = await finance.createPaymentIntent(input);
    expect(second.intentId).toBe(first.intentId);
    expect(third.intentId).toBe(first.intentId);
    expect(await count('SELECT count(*) AS n FROM finance_sandbox.intents WHERE order_id = $1', [orderId])).toBe(1);
    expect(await finance.paymentsForOrder(orderId)).toEqual([
      expect.objectContaining({ intentId: first.intentId, amountFen: 12_345, state: 'REQUIRES_PAYMENT', capturedFen: 0 }),
    ]);
  });

  test('an order keeps one currency: a second intent in another currency is refused and writes no payment', async () => {
    const orderId = newOrderId('currency');
    await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen: 2_000, currency: 'CNY' });
    const refused = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:final:intent`, orderId, amountFen: 500, currency: 'USD' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe('CURRENCY_MISMATCH');
    expect((await finance.paymentsForOrder(orderId)).map((payment) => [payment.currency, payment.amountFen])).toEqual([['CNY', 2_000]]);
    // Its key is not claimed either: nothing of the refused call is recorded.
    expect(await count('SELECT count(*) AS n FROM finance.operations WHERE key = $1', [`${orderId}:final:intent`])).toBe(0);
    // The same currency under another key is a second payment of the order (a presale's final payment).
    await finance.createPaymentIntent({ idempotencyKey: `${orderId}:final:intent:cny`, orderId, amountFen: 500, currency: 'CNY' });
    expect(await finance.paymentsForOrder(orderId)).toHaveLength(2);
  });

  test('capturing twice with one key captures once and books one entry', async () => {
    const orderId = newOrderId('capture');
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen: 5_000 });
    await sandbox.pay(intentId);
    await finance.recordPaymentSucceeded({ idempotencyKey: `${orderId}:paid`, orderId, intentId, amountFen: 5_000 });
    const input = { idempotencyKey: `${orderId}:capture`, orderId, intentId };
    const [first, second] = await Promise.all([finance.capturePayment(input), finance.capturePayment(input)]);
    const third = await finance.capturePayment(input);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await providerTransactions(intentId, 'capture')).toBe(1);
    expect(await ledgerEntries(orderId, 'PAYMENT_CAPTURED')).toBe(1);
    expect((await sandbox.getIntent(intentId)).capturedFen).toBe(5_000);
    expect((await finance.paymentsForOrder(orderId))[0]).toMatchObject({ state: 'CAPTURED', capturedFen: 5_000 });
    // A second capture under another key is refused rather than charging again.
    expect(await domainCode(finance.capturePayment({ ...input, idempotencyKey: `${orderId}:capture-again` }))).toBe('PAYMENT_ALREADY_CAPTURED');
  });

  test('the payment recorded and captured: its state written with each result and COMMIT, the answers as the rows say', async () => {
    const orderId = newOrderId('rows');
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen: 4_200 });
    await sandbox.pay(intentId);
    const recorded = await finance.recordPaymentSucceeded({ idempotencyKey: `${orderId}:paid`, orderId, intentId, amountFen: 4_200 });
    const [row] = await finance.paymentsForOrder(orderId);
    expect(row).toMatchObject({ state: 'AUTHORIZED', capturedFen: 0 });
    expect(recorded).toEqual(row);
    // A second notice under another key finds it authorised and leaves it so.
    expect(await finance.recordPaymentSucceeded({ idempotencyKey: `${orderId}:paid-again`, orderId, intentId, amountFen: 4_200 })).toEqual(row);
    const captured = await finance.capturePayment({ idempotencyKey: `${orderId}:capture`, orderId, intentId });
    const [after] = await finance.paymentsForOrder(orderId);
    expect(after).toMatchObject({ state: 'CAPTURED', capturedFen: 4_200, captureId: captured.captureId });
    expect(captured).toMatchObject({ orderId, intentId, capturedFen: 4_200 });
    // A notice arriving after the capture leaves the payment captured.
    expect(await finance.recordPaymentSucceeded({ idempotencyKey: `${orderId}:paid-late`, orderId, intentId, amountFen: 4_200 })).toEqual(after);
    expect((await finance.paymentsForOrder(orderId))[0]).toEqual(after);
  });

  test('refunding twice with one key refunds once at the provider and in the ledger', async () => {
    const orderId = newOrderId('refund');
    const intentId = await paidOrder(orderId, 8_000);
    const input = { idempotencyKey: `${orderId}:refund-1`, orderId, amountFen: 3_000, reason: 'damaged' };
    const [first, second] = await Promise.all([finance.refundPayment(input), finance.refundPayment(input)]);
    const third = await finance.refundPayment(input);
    expect(first.refunds).toEqual([expect.objectContaining({ intentId, amountFen: 3_000, state: 'SUCCEEDED' })]);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await providerTransactions(intentId, 'refund')).toBe(1);
    expect(await ledgerEntries(orderId, 'REFUND')).toBe(1);
    expect((await sandbox.getIntent(intentId)).refundedFen).toBe(3_000);
    expect((await finance.paymentsForOrder(orderId))[0]).toMatchObject({ capturedFen: 8_000, refundedFen: 3_000 });
    // The same key for a different amount is a caller's bug, not a second refund.
    expect(await domainCode(finance.refundPayment({ ...input, amountFen: 1_000 }))).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  test('revenue recognition and a deposit forfeit, each twice with one key, post one entry each', async () => {
    const orderId = newOrderId('bookings');
    await paidOrder(orderId, 10_000);
    const forfeit = { idempotencyKey: `${orderId}:forfeit`, orderId, amountFen: 2_000 };
    expect(await finance.forfeitDeposit(forfeit)).toEqual(await finance.forfeitDeposit(forfeit));
    const revenue = { idempotencyKey: `${orderId}:revenue`, orderId };
    const [first, second] = await Promise.all([finance.recognizeRevenue(revenue), finance.recognizeRevenue(revenue)]);
    expect(second).toEqual(first);
    expect(first.amountFen).toBe(8_000);
    expect(await ledgerEntries(orderId, 'DEPOSIT_FORFEITED')).toBe(1);
    expect(await ledgerEntries(orderId, 'REVENUE_RECOGNISED')).toBe(1);
    const entries = await finance.entriesForOrder(orderId);
    expect(entries.map((entry) => [entry.kind, entry.lines])).toEqual([
      ['PAYMENT_CAPTURED', [{ account: 'cash:provider', debitFen: 10_000, creditFen: 0 }, { account: 'liability:customer_prepayments', debitFen: 0, creditFen: 10_000 }]],
      ['DEPOSIT_FORFEITED', [{ account: 'liability:customer_prepayments', debitFen: 2_000, creditFen: 0 }, { account: 'income:forfeited_deposits', debitFen: 0, creditFen: 2_000 }]],
      ['REVENUE_RECOGNISED', [{ account: 'liability:customer_prepayments', debitFen: 8_000, creditFen: 0 }, { account: 'revenue:sales', debitFen: 0, creditFen: 8_000 }]],
    ]);
    // Forfeited money is ours: it cannot be refunded, only the recognised 8,000 can (as a sales return).
    expect(await domainCode(finance.refundPayment({ idempotencyKey: `${orderId}:too-much`, orderId, amountFen: 8_001, reason: 'x' }))).toBe(
      'REFUND_EXCEEDS_CAPTURED',
    );
  });
});

describe('never refund more than was captured', () => {
  test('a refund above captured minus refunded is refused and changes nothing', async () => {
    const orderId = newOrderId('limit');
    const intentId = await paidOrder(orderId, 5_000);
    await finance.refundPayment({ idempotencyKey: `${orderId}:r1`, orderId, amountFen: 4_000, reason: 'partial' });
    expect(await domainCode(finance.refundPayment({ idempotencyKey: `${orderId}:r2`, orderId, amountFen: 1_001, reason: 'more' }))).toBe(
      'REFUND_EXCEEDS_CAPTURED',
    );
    await finance.refundPayment({ idempotencyKey: `${orderId}:r3`, orderId, amountFen: 1_000, reason: 'rest' });
    expect(await domainCode(finance.refundPayment({ idempotencyKey: `${orderId}:r4`, orderId, amountFen: 1, reason: 'none left' }))).toBe(
      'REFUND_EXCEEDS_CAPTURED',
    );
    expect((await sandbox.getIntent(intentId)).refundedFen).toBe(5_000);
    expect((await finance.paymentsForOrder(orderId))[0]).toMatchObject({ capturedFen: 5_000, refundedFen: 5_000 });
    expect(await ledgerEntries(orderId, 'REFUND')).toBe(2);
  });

  test('a refund of an order that was never captured is refused', async () => {
    const orderId = newOrderId('uncaptured');
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen: 900 });
    await sandbox.pay(intentId);
    expect(await domainCode(finance.refundPayment({ idempotencyKey: `${orderId}:r`, orderId, amountFen: 1, reason: 'x' }))).toBe('REFUND_EXCEEDS_CAPTURED');
  });

  test('two concurrent refunds that together exceed the captured amount: exactly one succeeds', async () => {
    for (let round = 0; round < 5; round += 1) {
      const orderId = newOrderId('race');
      const intentId = await paidOrder(orderId, 1_000);
      const results = await Promise.allSettled([
        finance.refundPayment({ idempotencyKey: `${orderId}:a`, orderId, amountFen: 600, reason: 'a' }),
        finance.refundPayment({ idempotencyKey: `${orderId}:b`, orderId, amountFen: 700, reason: 'b' }),
      ]);
      const fulfilled = results.filter((result) => result.status === 'fulfilled');
      const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect((rejected[0].reason as DomainError).code).toBe('REFUND_EXCEEDS_CAPTURED');
      const refunded = (await sandbox.getIntent(intentId)).refundedFen;
      expect([600, 700]).toContain(refunded);
      expect((await finance.paymentsForOrder(orderId))[0].refundedFen).toBe(refunded);
      expect(await providerTransactions(intentId, 'refund')).toBe(1);
      expect(await ledgerEntries(orderId, 'REFUND')).toBe(1);
    }
  });

  test('the database itself refuses refunded > captured', async () => {
    const orderId = newOrderId('check');
    const intentId = await paidOrder(orderId, 700);
    await expect(env.pool.query('UPDATE finance.payments SET refunded_fen = 701 WHERE intent_id = $1', [intentId])).rejects.toThrow(/check constraint/);
  });

  test('a refund spans the deposit and the final payment, latest first, and splits unearned from recognised', async () => {
    const orderId = newOrderId('presale');
    const deposit = await paidOrder(orderId, 2_000, 'deposit');
    const final = await paidOrder(orderId, 8_000, 'final');
    await finance.refundPayment({ idempotencyKey: `${orderId}:before-completion`, orderId, amountFen: 1_000, reason: 'line 1' });
    await finance.recognizeRevenue({ idempotencyKey: `${orderId}:revenue`, orderId });
    const outcome = await finance.refundPayment({ idempotencyKey: `${orderId}:after-sales`, orderId, amountFen: 8_000, reason: 'return' });
    expect(outcome.refunds.map((refund) => [refund.intentId, refund.amountFen])).toEqual([
      [final, 7_000],
      [deposit, 1_000],
    ]);
    expect((await sandbox.getIntent(final)).refundedFen).toBe(8_000);
    expect((await sandbox.getIntent(deposit)).refundedFen).toBe(1_000);
    const refunds = (await finance.entriesForOrder(orderId)).filter((entry) => entry.kind === 'REFUND');
    expect(refunds.map((entry) => entry.lines)).toEqual([
      [{ account: 'liability:customer_prepayments', debitFen: 1_000, creditFen: 0 }, { account: 'cash:provider', debitFen: 0, creditFen: 1_000 }],
      [{ account: 'revenue:sales_returns', debitFen: 7_000, creditFen: 0 }, { account: 'cash:provider', debitFen: 0, creditFen: 7_000 }],
      [{ account: 'revenue:sales_returns', debitFen: 1_000, creditFen: 0 }, { account: 'cash:provider', debitFen: 0, creditFen: 1_000 }],
    ]);
  });
});

describe('provider failures and retries', () => {
  test('the provider fails twice after refunding; retrying with one key refunds exactly once', async () => {
    const orderId = newOrderId('flaky-refund');
    const intentId = await paidOrder(orderId, 3_000);
    await sandbox.addBehaviour({ action: 'error', operation: 'refund', orderId, count: 2, phase: 'after' });
    const input = { idempotencyKey: `${orderId}:refund`, orderId, amountFen: 2_500, reason: 'flaky' };
    let attempts = 0;
    let outcome;
    while (!outcome && attempts < 10) {
      attempts += 1;
      outcome = await finance.refundPayment(input).catch((error: Error) => {
        expect(error.name).toBe('ProviderUnavailableError');
        return undefined;
      });
    }
    expect(attempts).toBe(3);
    expect(outcome!.refunds).toEqual([expect.objectContaining({ intentId, amountFen: 2_500, state: 'SUCCEEDED' })]);
    expect(await providerTransactions(intentId, 'refund')).toBe(1);
    expect((await sandbox.getIntent(intentId)).refundedFen).toBe(2_500);
    expect(await ledgerEntries(orderId, 'REFUND')).toBe(1);
    expect((await finance.paymentsForOrder(orderId))[0].refundedFen).toBe(2_500);
  });

  test('the provider fails twice before capturing; retrying with one key captures exactly once', async () => {
    const orderId = newOrderId('flaky-capture');
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen: 4_200 });
    await sandbox.pay(intentId);
    await sandbox.addBehaviour({ action: 'error', operation: 'capture', orderId, count: 2 });
    const input = { idempotencyKey: `${orderId}:capture`, orderId, intentId };
    await expect(finance.capturePayment(input)).rejects.toThrow(/scripted capture failure/);
    await expect(finance.capturePayment(input)).rejects.toThrow(/scripted capture failure/);
    const captured = await finance.capturePayment(input);
    expect(captured.capturedFen).toBe(4_200);
    expect(await providerTransactions(intentId, 'capture')).toBe(1);
    expect(await ledgerEntries(orderId, 'PAYMENT_CAPTURED')).toBe(1);
  });

  test('a declined refund books nothing and releases the reserved amount', async () => {
    const orderId = newOrderId('declined-refund');
    const intentId = await paidOrder(orderId, 2_000);
    await sandbox.addBehaviour({ action: 'decline', operation: 'refund', orderId, count: 1 });
    expect(await domainCode(finance.refundPayment({ idempotencyKey: `${orderId}:r1`, orderId, amountFen: 2_000, reason: 'x' }))).toBe('REFUND_DECLINED');
    expect((await finance.paymentsForOrder(orderId))[0].refundedFen).toBe(0);
    expect(await ledgerEntries(orderId, 'REFUND')).toBe(0);
    // The declined key stays declined; a new request can refund the full amount.
    expect(await domainCode(finance.refundPayment({ idempotencyKey: `${orderId}:r1`, orderId, amountFen: 2_000, reason: 'x' }))).toBe('REFUND_DECLINED');
    await finance.refundPayment({ idempotencyKey: `${orderId}:r2`, orderId, amountFen: 2_000, reason: 'x' });
    expect((await sandbox.getIntent(intentId)).refundedFen).toBe(2_000);
  });
});

describe('cancelling an intent (the compensation of createPaymentIntent)', () => {
  test('voids the intent once; the buyer can no longer pay and the forward call is refused', async () => {
    const orderId = newOrderId('cancel');
    const key = `${orderId}:intent`;
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: key, orderId, amountFen: 1_500 });
    expect((await finance.cancelPaymentIntent({ idempotencyKey: key, intentId })).outcome).toBe('undone');
    expect((await finance.cancelPaymentIntent({ idempotencyKey: key })).outcome).toBe('already');
    expect((await sandbox.getIntent(intentId)).status).toBe('cancelled');
    expect((await finance.paymentsForOrder(orderId))[0].state).toBe('CANCELLED');
    expect((await sandbox.pay(intentId)).outcome).toBe('failed');
    expect(await domainCode(finance.createPaymentIntent({ idempotencyKey: key, orderId, amountFen: 1_500 }))).toBe('ALREADY_COMPENSATED');
  });

  test('a captured payment cannot be cancelled: it must be refunded', async () => {
    const orderId = newOrderId('cancel-captured');
    await paidOrder(orderId, 1_500);
    expect(await domainCode(finance.cancelPaymentIntent({ idempotencyKey: `${orderId}:pay:intent` }))).toBe('PAYMENT_ALREADY_CAPTURED');
  });

  test('a late payment is voided when only authorised, refunded when captured', async () => {
    const authorised = newOrderId('late-auth');
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: `${authorised}:intent`, orderId: authorised, amountFen: 600 });
    await sandbox.pay(intentId);
    const voided = await finance.refundLatePayment({ idempotencyKey: `${authorised}:late`, orderId: authorised, intentId, amountFen: 600 });
    expect(voided.outcome).toBe('voided');
    expect((await sandbox.getIntent(intentId)).status).toBe('cancelled');

    const captured = newOrderId('late-captured');
    const capturedIntent = await paidOrder(captured, 700);
    const input = { idempotencyKey: `${captured}:late`, orderId: captured, intentId: capturedIntent, amountFen: 700 };
    expect(await finance.refundLatePayment(input)).toEqual({ intentId: capturedIntent, outcome: 'refunded', amountFen: 700 });
    expect(await finance.refundLatePayment(input)).toEqual({ intentId: capturedIntent, outcome: 'refunded', amountFen: 700 });
    expect((await sandbox.getIntent(capturedIntent)).refundedFen).toBe(700);
    expect(await ledgerEntries(captured, 'REFUND')).toBe(1);
  });
});
