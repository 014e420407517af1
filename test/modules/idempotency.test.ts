import type { Pool, PoolClient } from 'pg';
import { applyOnce, applyStatementOnce, compensateOnce, findOperation, sqlInteger, sqlIntegerArray, sqlText, sqlTextArray, sqlTimestamp } from '../../modules/shared/idempotency';
import { AlreadyCompensatedError, IdempotencyKeyReusedError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';
import { countRoundTrips } from '../support/round-trips';

// The exactly-once log every module uses, on a table of its shape: BEGIN and COMMIT ride along
// with the claim and the result (three round trips for a one-statement effect), and nothing of
// that may cost a guarantee.
const log = { schema: 'idem_test' };
let env: TestEnv;
let pool: Pool;

beforeAll(async () => {
  env = await createTestEnv();
  pool = env.pool;
  await pool.query(`CREATE SCHEMA idem_test;
    CREATE TABLE idem_test.operations (key text PRIMARY KEY, operation text NOT NULL,
      state text NOT NULL CHECK (state IN ('APPLIED', 'COMPENSATED')), result jsonb, compensation jsonb,
      applied_at timestamptz NOT NULL DEFAULT now(), compensated_at timestamptz);
    CREATE TABLE idem_test.counter (id int PRIMARY KEY, n int NOT NULL);
    INSERT INTO idem_test.counter VALUES (1, 0);
    CREATE TABLE idem_test.entries (order_id text NOT NULL, amount int NOT NULL);
    CREATE TABLE idem_test.frozen (order_id text PRIMARY KEY, reason text NOT NULL);`);
});
afterAll(async () => {
  await env.close();
});

async function counter(): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT n FROM idem_test.counter WHERE id = 1')).rows[0].n;
}

/** The effect: one statement that adds `by` and returns the new total. */
function add(by: number) {
  return async (client: PoolClient) => {
    const row = await client.query<{ n: number }>('UPDATE idem_test.counter SET n = n + $1 WHERE id = 1 RETURNING n', [by]);
    return { total: row.rows[0].n, note: "it's a \\ 'quoted' \"result\" 价格" };
  };
}

const roundTrips = (work: () => Promise<unknown>) => countRoundTrips(work);

test('an effect runs once per key, its result is stored and replayed, in three round trips', async () => {
  const before = await counter();
  const trips = await roundTrips(() => applyOnce(pool, log, 'ord_1:add', 'add', add(5)));
  expect(trips).toBe(3);
  const again = await applyOnce(pool, log, 'ord_1:add', 'add', add(5));
  expect(again).toEqual({ total: before + 5, note: "it's a \\ 'quoted' \"result\" 价格" });
  expect(await counter()).toBe(before + 5);
  const stored = await findOperation<{ total: number }>(pool, log, 'ord_1:add');
  expect(stored).toMatchObject({ operation: 'add', state: 'APPLIED', result: { total: before + 5 } });
});

test('concurrent calls with one key apply the effect once and all get its result', async () => {
  const before = await counter();
  const results = await Promise.all(Array.from({ length: 12 }, () => applyOnce(pool, log, 'ord_2:add', 'add', add(3))));
  expect(await counter()).toBe(before + 3);
  expect(new Set(results.map((result) => result.total))).toEqual(new Set([before + 3]));
});

test('an effect that throws leaves neither the effect nor the claim, so a retry applies it', async () => {
  const before = await counter();
  await expect(
    applyOnce(pool, log, 'ord_3:add', 'add', async (client) => {
      await add(7)(client);
      throw new Error('provider down');
    }),
  ).rejects.toThrow('provider down');
  expect(await counter()).toBe(before);
  expect(await findOperation(pool, log, 'ord_3:add')).toBeUndefined();
  await applyOnce(pool, log, 'ord_3:add', 'add', add(7));
  expect(await counter()).toBe(before + 7);
});

test('a key of another operation is refused; a compensated key is not applied again', async () => {
  await applyOnce(pool, log, 'ord_4:add', 'add', add(1));
  await expect(applyOnce(pool, log, 'ord_4:add', 'subtract', add(-1))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);

  const before = await counter();
  const undone = await compensateOnce(pool, log, 'ord_4:add', 'add', async (client, applied: { total: number }) => {
    await add(-1)(client);
    return { undid: applied.total };
  });
  expect(undone.outcome).toBe('undone');
  expect(await counter()).toBe(before - 1);
  const repeated = await compensateOnce(pool, log, 'ord_4:add', 'add', async () => ({ undid: -1 }));
  expect(repeated).toEqual({ outcome: 'already', result: undone.result });
  expect(await counter()).toBe(before - 1);
  await expect(applyOnce(pool, log, 'ord_4:add', 'add', add(1))).rejects.toBeInstanceOf(AlreadyCompensatedError);
  expect(await counter()).toBe(before - 1);
});

test('compensating an effect that never ran leaves a tombstone that refuses the late forward call', async () => {
  const before = await counter();
  expect(await compensateOnce(pool, log, 'ord_5:add', 'add', async () => 'undone')).toEqual({ outcome: 'nothing' });
  await expect(applyOnce(pool, log, 'ord_5:add', 'add', add(9))).rejects.toBeInstanceOf(AlreadyCompensatedError);
  expect(await counter()).toBe(before);
  // Racing compensations of one applied key undo it once.
  await applyOnce(pool, log, 'ord_6:add', 'add', add(2));
  const outcomes = await Promise.all(
    Array.from({ length: 6 }, () => compensateOnce(pool, log, 'ord_6:add', 'add', async (client) => add(-2)(client))),
  );
  expect(outcomes.filter((outcome) => outcome.outcome === 'undone')).toHaveLength(1);
  expect(await counter()).toBe(before);
});

// applyStatementOnce: an effect that is one statement, claimed and stored with it.
function addEntry(orderId: string, amount: number) {
  return {
    guards: { frozen: 'SELECT reason FROM idem_test.frozen WHERE order_id = $1' },
    effects: ['entry AS (INSERT INTO idem_test.entries (order_id, amount) SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM claimed))'],
    values: [orderId, amount],
  };
}

async function entries(orderId: string): Promise<number[]> {
  return (await pool.query<{ amount: number }>('SELECT amount FROM idem_test.entries WHERE order_id = $1', [orderId])).rows.map((row) => row.amount);
}

test('a one-statement effect is claimed, applied and stored in one round trip, once per key under concurrency', async () => {
  const trips = await roundTrips(() => applyStatementOnce(pool, log, 'ord_7:entry', 'entry', { amount: 4 }, addEntry('ord_7', 4)));
  expect(trips).toBe(1);
  expect(await findOperation(pool, log, 'ord_7:entry')).toMatchObject({ operation: 'entry', state: 'APPLIED', result: { amount: 4 } });
  // A retry answers the stored result, even when asked with another one, and writes nothing.
  expect(await applyStatementOnce(pool, log, 'ord_7:entry', 'entry', { amount: 99 }, addEntry('ord_7', 99))).toEqual({ result: { amount: 4 } });
  const racing = await Promise.all(Array.from({ length: 12 }, (_, i) => applyStatementOnce(pool, log, 'ord_8:entry', 'entry', { amount: 10 + i }, addEntry('ord_8', 10 + i))));
  expect(await entries('ord_7')).toEqual([4]);
  const [stored] = await entries('ord_8');
  expect(await entries('ord_8')).toHaveLength(1);
  expect(new Set(racing.map((outcome) => ('result' in outcome ? outcome.result.amount : -1)))).toEqual(new Set([stored]));
});

test('a guard with a row refuses: nothing is claimed or written, and the same key applies once the guard is gone', async () => {
  await pool.query(`INSERT INTO idem_test.frozen VALUES ('ord_9', 'chargeback')`);
  expect(await applyStatementOnce(pool, log, 'ord_9:entry', 'entry', { amount: 5 }, addEntry('ord_9', 5))).toEqual({ refused: 'frozen', value: 'chargeback' });
  expect(await findOperation(pool, log, 'ord_9:entry')).toBeUndefined();
  expect(await entries('ord_9')).toEqual([]);
  await pool.query(`DELETE FROM idem_test.frozen WHERE order_id = 'ord_9'`);
  expect(await applyStatementOnce(pool, log, 'ord_9:entry', 'entry', { amount: 5 }, addEntry('ord_9', 5))).toEqual({ result: { amount: 5 } });
  // Applied before the guard appeared: the stored result answers, as applyOnce's would.
  await pool.query(`INSERT INTO idem_test.frozen VALUES ('ord_9', 'later')`);
  expect(await applyStatementOnce(pool, log, 'ord_9:entry', 'entry', { amount: 5 }, addEntry('ord_9', 5))).toEqual({ result: { amount: 5 } });
  expect(await entries('ord_9')).toEqual([5]);
});

test('a one-statement effect refuses a key of another operation and a compensated key', async () => {
  await applyOnce(pool, log, 'ord_10:add', 'add', add(1));
  await expect(applyStatementOnce(pool, log, 'ord_10:add', 'entry', { amount: 1 }, addEntry('ord_10', 1))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  expect(await compensateOnce(pool, log, 'ord_11:entry', 'entry', async () => 'undone')).toEqual({ outcome: 'nothing' });
  await expect(applyStatementOnce(pool, log, 'ord_11:entry', 'entry', { amount: 1 }, addEntry('ord_11', 1))).rejects.toBeInstanceOf(AlreadyCompensatedError);
  expect(await entries('ord_10')).toEqual([]);
  expect(await entries('ord_11')).toEqual([]);
});

test('the statement an effect starts with rides with the claim: its rows reach the effect, still three round trips', async () => {
  const before = await counter();
  const seen: unknown[] = [];
  const lockCounter = `SELECT n, ${sqlTextArray(["it's", 'a\\b'])} AS quoted FROM idem_test.counter WHERE id = 1 FOR UPDATE`;
  const effect = async (client: PoolClient, rows: { n: number; quoted: string[] }[]) => {
    seen.push(rows);
    return add(rows[0].n === before ? 2 : 100)(client);
  };
  const trips = await roundTrips(() => applyOnce(pool, log, 'ord_12:add', 'add', effect, lockCounter));
  expect(trips).toBe(3);
  expect(seen).toEqual([[{ n: before, quoted: ["it's", 'a\\b'] }]]);
  expect(await counter()).toBe(before + 2);
  // A retry answers the stored result; the effect does not run again.
  expect((await applyOnce(pool, log, 'ord_12:add', 'add', effect, lockCounter)).total).toBe(before + 2);
  expect(seen).toHaveLength(1);
});

test('several opening statements run in their order, the rows of each reaching the effect', async () => {
  const before = await counter();
  const seen: unknown[] = [];
  const opening = ['SELECT n FROM idem_test.counter WHERE id = 1 FOR UPDATE', `SELECT ${sqlText('second')} AS label`, `SELECT ${sqlText("third's")} AS label`];
  const trips = await roundTrips(() =>
    applyOnce(
      pool,
      log,
      'ord_13:add',
      'add',
      async (client, first, rest) => {
        seen.push(first, ...rest);
        return add(1)(client);
      },
      opening,
    ),
  );
  expect(trips).toBe(3);
  expect(seen).toEqual([[{ n: before }], [{ label: 'second' }], [{ label: "third's" }]]);
  expect(await counter()).toBe(before + 1);
});

test('writes left for the last round trip travel with the result and COMMIT: two round trips in all', async () => {
  const before = await counter();
  const lockCounter = 'SELECT n FROM idem_test.counter WHERE id = 1 FOR UPDATE';
  const effect = async (_client: PoolClient, rows: { n: number }[], _then: unknown, finishWith: (statement: string) => void) => {
    finishWith(`UPDATE idem_test.counter SET n = n + ${sqlInteger(3)} WHERE id = 1`);
    finishWith(`INSERT INTO idem_test.entries (order_id, amount) VALUES (${sqlText("ord_14's")}, ${sqlInteger(rows[0].n)})`);
    return { seen: rows[0].n };
  };
  const trips = await roundTrips(() => applyOnce(pool, log, 'ord_14:add', 'add', effect, lockCounter));
  expect(trips).toBe(2);
  expect(await counter()).toBe(before + 3);
  expect((await pool.query("SELECT amount FROM idem_test.entries WHERE order_id = 'ord_14''s'")).rows).toEqual([{ amount: before }]);
  expect((await findOperation(pool, log, 'ord_14:add'))?.result).toEqual({ seen: before });
  // A retry answers the stored result; the last writes do not run again.
  expect(await applyOnce(pool, log, 'ord_14:add', 'add', effect, lockCounter)).toEqual({ seen: before });
  expect(await counter()).toBe(before + 3);
});

test('a last write that fails rolls back the effect and the claim: the key stays free, nothing is written', async () => {
  const before = await counter();
  const failing = async (client: PoolClient, _rows: unknown[], _then: unknown, finishWith: (statement: string) => void) => {
    await add(7)(client);
    finishWith(`INSERT INTO idem_test.entries (order_id, amount) VALUES (${sqlText('ord_15')}, ${sqlInteger(1)})`);
    finishWith('UPDATE idem_test.counter SET n = n / 0 WHERE id = 1');
    return { done: true };
  };
  await expect(applyOnce(pool, log, 'ord_15:add', 'add', failing)).rejects.toThrow(/division by zero/);
  expect(await counter()).toBe(before);
  expect((await pool.query("SELECT 1 FROM idem_test.entries WHERE order_id = 'ord_15'")).rowCount).toBe(0);
  expect(await findOperation(pool, log, 'ord_15:add')).toBeUndefined();
  // The key was not taken: a later call applies the effect.
  expect((await applyOnce(pool, log, 'ord_15:add', 'add', add(1))).total).toBe(before + 1);
});

test('literals for statements of the simple protocol: integers and times are checked, arrays typed', async () => {
  expect(sqlInteger(42)).toBe('42');
  expect(sqlInteger(-3)).toBe('-3');
  for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) expect(() => sqlInteger(bad)).toThrow(TypeError);
  expect(() => sqlTimestamp(new Date(Number.NaN))).toThrow(TypeError);
  const at = new Date('2026-12-03T08:09:10.123Z');
  const row = (await pool.query(`SELECT ${sqlTimestamp(at)} AS at, ${sqlIntegerArray([1, -2, 3])} AS numbers, ${sqlIntegerArray([])} AS none`)).rows[0];
  expect(row).toEqual({ at, numbers: [1, -2, 3], none: [] });
});
