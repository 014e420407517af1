import fc from 'fast-check';
import { createFinanceService, type FinanceService } from '../../modules/finance';
import { createSandboxProvider, type SandboxProvider } from '../../modules/finance/sandbox';
import { postEntry } from '../../modules/finance/journal';
import { withTransaction } from '../../modules/shared/db';
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

type Action =
  | { type: 'pay'; order: number; amountFen: number }
  | { type: 'capture'; order: number; partial: boolean }
  | { type: 'refund'; order: number; amountFen: number; declinedByProvider: boolean }
  | { type: 'recognize'; order: number }
  | { type: 'forfeit'; order: number; amountFen: number };

const order = fc.nat(1);
// Weighted so that sequences often reach captured money before refunding, recognising or forfeiting it.
const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('pay' as const), order, amountFen: fc.integer({ min: 1, max: 20_000 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('capture' as const), order, partial: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({
      type: fc.constant('refund' as const),
      order,
      amountFen: fc.integer({ min: 1, max: 15_000 }),
      declinedByProvider: fc.integer({ min: 0, max: 4 }).map((draw) => draw === 0),
    }), },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('recognize' as const), order }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('forfeit' as const), order, amountFen: fc.integer({ min: 1, max: 6_000 }) }) },
);

interface ModelPayment {
  intentId: string;
  amountFen: number;
  capturedFen: number;
  refundedFen: number;
  forfeitedFen: number;
  captured: boolean;
}

interface ModelOrder {
  payments: ModelPayment[];
  unearnedFen: number;
  netRevenueFen: number;
}

const refundable = (payment: ModelPayment) => payment.capturedFen - payment.refundedFen - payment.forfeitedFen;

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

let run = 0;

/** Applies one action to the engine and to the model; a refusal must happen exactly when the model says so. */
async function apply(action: Action, orderId: string, model: ModelOrder, step: number): Promise<void> {
  const key = `${orderId}:${step}`;
  const captured = model.payments.filter((payment) => payment.captured);
  switch (action.type) {
    case 'pay': {
      const { intentId } = await finance.createPaymentIntent({ idempotencyKey: `${key}:intent`, orderId, amountFen: action.amountFen });
      await sandbox.pay(intentId);
      await finance.recordPaymentSucceeded({ idempotencyKey: `${key}:paid`, orderId, intentId, amountFen: action.amountFen });
      model.payments.push({ intentId, amountFen: action.amountFen, capturedFen: 0, refundedFen: 0, forfeitedFen: 0, captured: false });
      return;
    }
    case 'capture': {
      const payment = model.payments.find((candidate) => !candidate.captured);
      if (!payment) return;
      const amountFen = action.partial ? Math.ceil(payment.amountFen / 2) : payment.amountFen;
      await finance.capturePayment({ idempotencyKey: key, orderId, intentId: payment.intentId, amountFen });
      Object.assign(payment, { captured: true, capturedFen: amountFen });
      model.unearnedFen += amountFen;
      return;
    }
    case 'refund': {
      const availableFen = captured.reduce((sum, payment) => sum + refundable(payment), 0);
      if (action.declinedByProvider) await sandbox.addBehaviour({ action: 'decline', operation: 'refund', orderId, count: 1 });
      const refused = await refusal(finance.refundPayment({ idempotencyKey: key, orderId, amountFen: action.amountFen, reason: 'property' }));
      await sandbox.clearBehaviours();
      const expected = action.amountFen > availableFen ? 'REFUND_EXCEEDS_CAPTURED' : action.declinedByProvider ? 'REFUND_DECLINED' : undefined;
      expect(refused).toBe(expected);
      if (refused === 'REFUND_EXCEEDS_CAPTURED') return;
      // One part per payment, the latest first; a scripted decline hits the first part only, the others go through.
      let remaining = action.amountFen;
      let refundedFen = 0;
      let declinePending = action.declinedByProvider;
      for (const payment of [...captured].reverse()) {
        const take = Math.min(remaining, refundable(payment));
        remaining -= take;
        if (take === 0) continue;
        if (declinePending) {
          declinePending = false;
          continue;
        }
        payment.refundedFen += take;
        refundedFen += take;
      }
      const fromUnearned = Math.min(refundedFen, model.unearnedFen);
      model.unearnedFen -= fromUnearned;
      model.netRevenueFen -= refundedFen - fromUnearned;
      return;
    }
    case 'recognize': {
      const refused = await refusal(finance.recognizeRevenue({ idempotencyKey: key, orderId }).then((booking) => expect(booking.amountFen).toBe(model.unearnedFen)));
      expect(refused).toBe(model.payments.length === 0 ? 'ORDER_HAS_NO_PAYMENTS' : undefined);
      model.netRevenueFen += model.unearnedFen;
      model.unearnedFen = 0;
      return;
    }
    case 'forfeit': {
      const keepableFen = Math.min(captured.reduce((sum, payment) => sum + refundable(payment), 0), model.unearnedFen);
      const refused = await refusal(finance.forfeitDeposit({ idempotencyKey: key, orderId, amountFen: action.amountFen }));
      const expected = model.payments.length === 0 ? 'ORDER_HAS_NO_PAYMENTS' : action.amountFen > keepableFen ? 'FORFEIT_EXCEEDS_UNEARNED' : undefined;
      expect(refused).toBe(expected);
      if (refused) return;
      let remaining = action.amountFen;
      for (const payment of captured) {
        const take = Math.min(remaining, refundable(payment));
        payment.forfeitedFen += take;
        remaining -= take;
      }
      model.unearnedFen -= action.amountFen;
      return;
    }
  }
}

async function scalar(sql: string, params: unknown[] = []): Promise<number> {
  const result = await env.pool.query<{ value: string | null }>(sql, params);
  return Number(result.rows[0].value ?? 0);
}

test('after any sequence of payments, captures, refunds, recognitions and forfeits the books balance and match the provider', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(actionArbitrary, { minLength: 3, maxLength: 30, size: 'medium' }), async (actions) => {
      run += 1;
      const orderIds = [0, 1].map((index) => `prop_${run}_${index}`);
      const models: ModelOrder[] = orderIds.map(() => ({ payments: [], unearnedFen: 0, netRevenueFen: 0 }));
      for (const [step, action] of actions.entries()) await apply(action, orderIds[action.order], models[action.order], step);

      const unbalanced = await env.pool.query(
        'SELECT entry_id FROM finance.journal_lines GROUP BY entry_id HAVING SUM(debit_fen) <> SUM(credit_fen) OR COUNT(*) < 2',
      );
      expect(unbalanced.rows).toEqual([]);
      expect(await scalar('SELECT SUM(debit_fen) - SUM(credit_fen) AS value FROM finance.journal_lines')).toBe(0);

      const ledgerCash = await scalar(`SELECT SUM(debit_fen - credit_fen) AS value FROM finance.journal_lines WHERE account = 'cash:provider'`);
      const providerNet = await scalar('SELECT SUM(captured_fen - refunded_fen) AS value FROM finance_sandbox.intents');
      const providerTransactionsNet = await scalar(
        `SELECT SUM(CASE kind WHEN 'capture' THEN amount_fen ELSE -amount_fen END) AS value FROM finance_sandbox.transactions`,
      );
      expect(ledgerCash).toBe(providerNet);
      expect(providerTransactionsNet).toBe(providerNet);

      for (const [index, orderId] of orderIds.entries()) {
        const model = models[index];
        const balances = await env.pool.query<{ account: string; net_credit: string }>(
          `SELECT l.account, SUM(l.credit_fen - l.debit_fen) AS net_credit FROM finance.journal_lines l
             JOIN finance.journal_entries e ON e.id = l.entry_id WHERE e.order_id = $1 GROUP BY l.account`,
          [orderId],
        );
        const net = (account: string) => Number(balances.rows.find((row) => row.account === account)?.net_credit ?? 0);
        expect(net('liability:customer_prepayments')).toBe(model.unearnedFen);
        expect(net('revenue:sales') + net('revenue:sales_returns')).toBe(model.netRevenueFen);
        const payments = await finance.paymentsForOrder(orderId);
        expect(payments.map((payment) => [payment.intentId, payment.capturedFen, payment.refundedFen, payment.forfeitedFen])).toEqual(
          model.payments.map((payment) => [payment.intentId, payment.capturedFen, payment.refundedFen, payment.forfeitedFen]),
        );
        for (const payment of model.payments) {
          const intent = await sandbox.getIntent(payment.intentId);
          expect([intent.capturedFen, intent.refundedFen]).toEqual([payment.capturedFen, payment.refundedFen]);
        }
      }
    }),
    // A fixed seed by default: the coverage check below counts what the 40 runs reached, and with a new
    // seed each time it fell short now and then (a full run once drew only 3 of one kind). FC_SEED=<n>
    // explores other sequences; a failure prints the seed and the shrunk sequence.
    { numRuns: 40, seed: Number(process.env.FC_SEED ?? 20261202) },
  );
  // The runs explored every kind of booking, not only refusals.
  const kinds = await env.pool.query<{ kind: string; n: string }>(
    `SELECT kind, count(*) AS n FROM finance.journal_entries WHERE order_id LIKE 'prop_%' GROUP BY kind`,
  );
  const counts = Object.fromEntries(kinds.rows.map((row) => [row.kind, Number(row.n)]));
  for (const kind of ['PAYMENT_CAPTURED', 'REFUND', 'REVENUE_RECOGNISED', 'DEPOSIT_FORFEITED']) expect(counts[kind]).toBeGreaterThan(3);
});

describe('balance is enforced by the database as well as by code', () => {
  test('the deferred trigger rejects an unbalanced entry inserted with plain SQL, at commit', async () => {
    const client = await env.pool.connect();
    try {
      await client.query('BEGIN');
      const entry = await client.query<{ id: string }>(
        `INSERT INTO finance.journal_entries (idempotency_key, kind, order_id, currency) VALUES ('sql:unbalanced', 'REFUND', 'ord_sql', 'CNY') RETURNING id`,
      );
      await client.query(`INSERT INTO finance.journal_lines (entry_id, account, debit_fen) VALUES ($1, 'liability:customer_prepayments', 100)`, [entry.rows[0].id]);
      // Each statement is accepted: the check waits for the commit, so lines can be added one by one.
      await client.query(`INSERT INTO finance.journal_lines (entry_id, account, credit_fen) VALUES ($1, 'cash:provider', 99)`, [entry.rows[0].id]);
      await expect(client.query('COMMIT')).rejects.toThrow(/unbalanced/);
    } finally {
      client.release();
    }
    expect(await scalar(`SELECT count(*) AS value FROM finance.journal_entries WHERE idempotency_key = 'sql:unbalanced'`)).toBe(0);
  });

  test('an entry without lines is rejected at commit; a balanced one inserted with SQL commits', async () => {
    await expect(
      withTransaction(env.pool, (client) =>
        client.query(`INSERT INTO finance.journal_entries (idempotency_key, kind, currency) VALUES ('sql:empty', 'REFUND', 'CNY')`),
      ),
    ).rejects.toThrow(/unbalanced/);
    await withTransaction(env.pool, async (client) => {
      const entry = await client.query<{ id: string }>(
        `INSERT INTO finance.journal_entries (idempotency_key, kind, currency) VALUES ('sql:balanced', 'REFUND', 'CNY') RETURNING id`,
      );
      await client.query(
        `INSERT INTO finance.journal_lines (entry_id, account, debit_fen, credit_fen) VALUES ($1, 'revenue:sales_returns', 50, 0), ($1, 'cash:provider', 0, 50)`,
        [entry.rows[0].id],
      );
    });
    expect(await scalar(`SELECT count(*) AS value FROM finance.journal_entries WHERE idempotency_key IN ('sql:empty', 'sql:balanced')`)).toBe(1);
  });

  test('a line with both or neither side is refused, and the journal cannot be edited', async () => {
    await expect(
      withTransaction(env.pool, async (client) => {
        const entry = await client.query<{ id: string }>(
          `INSERT INTO finance.journal_entries (idempotency_key, kind, currency) VALUES ('sql:two-sided', 'REFUND', 'CNY') RETURNING id`,
        );
        await client.query(`INSERT INTO finance.journal_lines (entry_id, account, debit_fen, credit_fen) VALUES ($1, 'cash:provider', 10, 10)`, [entry.rows[0].id]);
      }),
    ).rejects.toThrow(/check constraint/);
    await expect(env.pool.query(`UPDATE finance.journal_lines SET debit_fen = debit_fen + 1 WHERE debit_fen > 0`)).rejects.toThrow(/append-only/);
    await expect(env.pool.query(`DELETE FROM finance.journal_entries`)).rejects.toThrow(/append-only/);
  });

  test('postEntry refuses an unbalanced entry before it reaches the database', async () => {
    const refused = await refusal(
      withTransaction(env.pool, (client) =>
        postEntry(client, {
          idempotencyKey: 'code:unbalanced',
          kind: 'REFUND',
          orderId: 'ord_code',
          currency: 'CNY',
          at: new Date(),
          lines: [
            { account: 'revenue:sales_returns', debitFen: 100, creditFen: 0 },
            { account: 'cash:provider', debitFen: 0, creditFen: 90 },
          ],
        }),
      ),
    );
    expect(refused).toBe('UNBALANCED_ENTRY');
    expect(await scalar(`SELECT count(*) AS value FROM finance.journal_entries WHERE idempotency_key = 'code:unbalanced'`)).toBe(0);
  });
});
