import { ApplicationFailure } from '@temporalio/common';
import { createFinanceActivities } from '../../activities/finance';
import { createSandboxProvider, type SandboxProvider } from '../../modules/finance/sandbox';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let buyer: SandboxProvider;

beforeAll(async () => {
  env = await createTestEnv();
  // The buyer's side of the sandbox (its payment page); the activities build their own provider.
  buyer = createSandboxProvider({ pool: env.pool });
});
afterAll(async () => {
  await buyer.close();
  await env.close();
});

test('the activities run a payment end to end on the sandbox provider', async () => {
  const finance = createFinanceActivities({ pool: env.pool, payments: createSandboxProvider({ pool: env.pool }) });
  const orderId = 'ord_activity';
  const intent = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen: 6_000, currency: 'CNY' });
  await buyer.pay(intent.intentId);
  await finance.recordPaymentSucceeded({ idempotencyKey: `${orderId}:paid`, orderId, intentId: intent.intentId, amountFen: 6_000 });
  await finance.capturePayment({ idempotencyKey: `${orderId}:capture`, orderId, intentId: intent.intentId, currency: 'CNY' });
  await finance.refundPayment({ idempotencyKey: `${orderId}:refund`, orderId, amountFen: 1_000, reason: 'one line returned' });
  const revenue = await finance.recognizeRevenue({ idempotencyKey: `${orderId}:revenue`, orderId, amountFen: 5_000, currency: 'CNY' });
  expect(revenue.amountFen).toBe(5_000);
  expect(await buyer.getIntent(intent.intentId)).toMatchObject({ capturedFen: 6_000, refundedFen: 1_000 });
  const balances = await env.pool.query<{ account: string; net: string }>(
    'SELECT account, SUM(debit_fen - credit_fen) AS net FROM finance.journal_lines GROUP BY account ORDER BY account',
  );
  expect(balances.rows.map((row) => [row.account, Number(row.net)])).toEqual([
    ['cash:provider', 5_000],
    ['liability:customer_prepayments', 0],
    ['revenue:sales', -5_000],
  ]);
});

test('a business refusal becomes a non-retryable ApplicationFailure typed with the error code', async () => {
  const finance = createFinanceActivities({ pool: env.pool, payments: buyer });
  const orderId = 'ord_activity_refused';
  await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen: 100, currency: 'CNY' });
  const failure = await finance.refundPayment({ idempotencyKey: `${orderId}:refund`, orderId, amountFen: 1, reason: 'nothing captured' }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'REFUND_EXCEEDS_CAPTURED', nonRetryable: true });
});

test('cancelPaymentIntent undoes createPaymentIntent with the same key, once', async () => {
  const finance = createFinanceActivities({ pool: env.pool, payments: buyer });
  const orderId = 'ord_activity_cancel';
  const intent = await finance.createPaymentIntent({ idempotencyKey: `${orderId}:intent`, orderId, amountFen: 300, currency: 'CNY' });
  expect(await finance.cancelPaymentIntent({ idempotencyKey: `${orderId}:intent`, intentId: intent.intentId })).toMatchObject({ outcome: 'undone' });
  expect(await finance.cancelPaymentIntent({ idempotencyKey: `${orderId}:intent`, intentId: intent.intentId })).toMatchObject({ outcome: 'already' });
  expect((await buyer.getIntent(intent.intentId)).status).toBe('cancelled');
  // Compensating a key whose forward never ran leaves a tombstone: the late forward call is refused.
  expect(await finance.cancelPaymentIntent({ idempotencyKey: `${orderId}:never` })).toMatchObject({ outcome: 'nothing' });
  await expect(finance.createPaymentIntent({ idempotencyKey: `${orderId}:never`, orderId, amountFen: 300, currency: 'CNY' })).rejects.toMatchObject({
    type: 'ALREADY_COMPENSATED',
  });
  expect(Number((await env.pool.query(`SELECT count(*) AS n FROM finance_sandbox.intents WHERE order_id = $1`, [orderId])).rows[0].n)).toBe(1);
});
