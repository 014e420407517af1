import { escapeLiteral, type Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { withOwnTransaction } from './db';
import { AlreadyCompensatedError, IdempotencyKeyReusedError } from './errors';

/**
 * Exactly-once effects for module operations.
 *
 * Each module has an `<schema>.operations` table (same shape in every module, created by its own
 * migration):
 *
 *   key text PRIMARY KEY          -- business identity of the effect, e.g. 'ord_123:reserve-stock'
 *   operation text NOT NULL       -- which operation owns the key, e.g. 'reserve'
 *   state text NOT NULL           -- 'APPLIED' | 'COMPENSATED'
 *   result jsonb                  -- what the forward operation returned (replayed on a retry)
 *   compensation jsonb            -- what the compensation returned
 *   applied_at, compensated_at timestamptz
 *
 * The row is written in the same transaction as the effect, so the effect and its record commit
 * together or not at all. Concurrent calls with one key serialize on the primary key.
 *
 * - `applyOnce`: first call runs the effect and stores its result; later calls return that result.
 *   After the key was compensated it throws AlreadyCompensatedError (no resurrection).
 * - `compensateOnce`: undoes an applied effect once. When the forward operation never ran it leaves
 *   a COMPENSATED tombstone (an empty compensation), so a forward call arriving late is refused.
 */
export interface OperationLog {
  schema: string;
}

interface OperationRow<T> {
  operation: string;
  state: 'APPLIED' | 'COMPENSATED';
  result: T | null;
  compensation: unknown;
}

/**
 * A write the effect leaves for the last round trip: written with literals, sent before the stored
 * result and COMMIT, each a statement of its own in the order given. Nothing reads its rows, so a
 * check it needs is its own (a statement that raises, like a constraint or `expect_rows`): an error
 * there rolls back the effect and the claim with it.
 */
export type FinishWith = (statement: string) => void;

/**
 * `startsWith`: the statement(s) the effect begins with (reads, locks), written with literals (see
 * `sqlText`, `sqlTextArray`), sent in the same round trip as BEGIN and the claim, after the claim, each
 * a statement of its own (its own snapshot, in READ COMMITTED) in the order given. The first one's rows
 * reach the effect as `startedWith`, the others' as `thenStartedWith`. On a retry of an applied key
 * they ran for nothing, in a transaction that commits at once. `finishWith`: see FinishWith; an
 * effect that begins with its reads and ends with such writes takes two round trips in all.
 */
export async function applyOnce<T, R extends QueryResultRow = QueryResultRow>(
  pool: Pool,
  log: OperationLog,
  key: string,
  operation: string,
  effect: (client: PoolClient, startedWith: R[], thenStartedWith: QueryResultRow[][], finishWith: FinishWith) => Promise<T>,
  startsWith?: string | readonly string[],
): Promise<T> {
  const opening = typeof startsWith === 'string' ? [startsWith] : (startsWith ?? []);
  return withOwnTransaction(pool, async (client) => {
    // BEGIN and the claim travel in one round trip; the claim also reads a row that was already there.
    const results = await statements(
      client,
      `BEGIN; WITH claimed AS (
         INSERT INTO ${log.schema}.operations (key, operation, state) VALUES (${sqlText(key)}, ${sqlText(operation)}, 'APPLIED')
         ON CONFLICT (key) DO NOTHING RETURNING key)
       SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, o.operation, o.state, o.result, o.compensation
       FROM (SELECT 1) one LEFT JOIN ${log.schema}.operations o ON o.key = ${sqlText(key)}${opening.map((statement) => `; ${statement}`).join('')}`,
    );
    const claim = results[1].rows[0] as ClaimRow<T>;
    if (!claim.claimed) {
      // A row committed by a concurrent call after this statement's snapshot is read anew.
      const existing = claim.operation !== null ? claim : await readOperation<T>(client, log, key);
      if (existing.operation !== operation) throw new IdempotencyKeyReusedError(key, operation, existing.operation);
      if (existing.state === 'COMPENSATED') throw new AlreadyCompensatedError(key);
      await client.query('COMMIT');
      return existing.result as T;
    }
    const opened = results.slice(2).map((statement) => statement.rows);
    const last: string[] = [];
    const result = await effect(client, (opened[0] ?? []) as R[], opened.slice(1), (statement) => last.push(statement));
    // The effect's last writes, the result and COMMIT travel in one round trip.
    await client.query(
      `${last.map((statement) => `${statement}; `).join('')}UPDATE ${log.schema}.operations SET result = ${sqlText(JSON.stringify(result ?? null))}::jsonb WHERE key = ${sqlText(key)}; COMMIT`,
    );
    return result;
  });
}

/**
 * An effect that is one statement, whose result is known before it runs (what it stores is what it
 * was asked): `applyOnce` in one round trip and without BEGIN/COMMIT. The claim, the effect and the
 * stored result are one statement, so they commit together or not at all, as in `applyOnce`.
 *
 * - `guards`: CTEs read before the claim (`name AS (SELECT ...)`), each a refusal when it has a row:
 *   nothing is claimed or written then, and `refused` names the first guard that had one, with its
 *   first column's value (the caller turns it into its refusal).
 * - `effects`: data-modifying CTEs run only when the key was claimed now; they must say so
 *   (`... WHERE EXISTS (SELECT 1 FROM claimed)`).
 * - `values`: the statement's parameters; the key, the operation and the result follow as the last three.
 *
 * A key applied earlier answers its stored result before any guard is looked at, as `applyOnce` does.
 */
export async function applyStatementOnce<T>(
  pool: Pool,
  log: OperationLog,
  key: string,
  operation: string,
  result: T,
  statement: { guards: Record<string, string>; effects: string[]; values: unknown[] },
): Promise<{ result: T } | { refused: string; value: unknown }> {
  const n = statement.values.length;
  const [k, op, stored] = [`$${n + 1}`, `$${n + 2}`, `$${n + 3}`];
  const guardNames = Object.keys(statement.guards);
  const noGuard = guardNames.map((name) => `NOT EXISTS (SELECT 1 FROM ${name})`).join(' AND ') || 'true';
  const found = await pool.query<ClaimRow<T> & Record<string, unknown>>(
    `WITH ${guardNames.map((name) => `${name} AS (${statement.guards[name]})`).join(', ')}${guardNames.length ? ',' : ''}
       claimed AS (
         INSERT INTO ${log.schema}.operations (key, operation, state, result) SELECT ${k}, ${op}, 'APPLIED', ${stored}::jsonb WHERE ${noGuard}
         ON CONFLICT (key) DO NOTHING RETURNING key)${statement.effects.map((effect) => `, ${effect}`).join('')}
     SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, o.operation, o.state, o.result, o.compensation
            ${guardNames.map((name) => `, (SELECT row_to_json(x)::jsonb FROM (SELECT * FROM ${name} LIMIT 1) x) AS "row:${name}"`).join('')}
       FROM (SELECT 1) one LEFT JOIN ${log.schema}.operations o ON o.key = ${k}`,
    [...statement.values, key, operation, JSON.stringify(result ?? null)],
  );
  const row = found.rows[0];
  if (row.claimed) return { result };
  // A key there before this statement answers as applyOnce's would, before the guards.
  const existing = row.operation !== null ? row : await findOperation<T>(pool, log, key);
  if (existing) {
    if (existing.operation !== operation) throw new IdempotencyKeyReusedError(key, operation, existing.operation);
    if (existing.state === 'COMPENSATED') throw new AlreadyCompensatedError(key);
    return { result: existing.result as T };
  }
  for (const name of guardNames) {
    const guarded = row[`row:${name}`] as Record<string, unknown> | null;
    if (guarded) return { refused: name, value: Object.values(guarded)[0] };
  }
  throw new Error(`operation ${operation} (${key}) was neither claimed nor refused`);
}

export interface CompensationOutcome<C> {
  /** 'undone': the effect was reversed now; 'already': an earlier call did it; 'nothing': the forward never ran. */
  outcome: 'undone' | 'already' | 'nothing';
  result?: C;
}

export async function compensateOnce<T, C>(
  pool: Pool,
  log: OperationLog,
  key: string,
  operation: string,
  undo: (client: PoolClient, applied: T) => Promise<C>,
): Promise<CompensationOutcome<C>> {
  return withOwnTransaction(pool, async (client) => {
    const tombstone = await firstStatement<{ inserted: boolean }>(
      client,
      `BEGIN; WITH inserted AS (
         INSERT INTO ${log.schema}.operations (key, operation, state, compensated_at) VALUES (${sqlText(key)}, ${sqlText(operation)}, 'COMPENSATED', now())
         ON CONFLICT (key) DO NOTHING RETURNING key)
       SELECT EXISTS (SELECT 1 FROM inserted) AS inserted`,
    );
    if (tombstone.inserted) {
      await client.query('COMMIT');
      return { outcome: 'nothing' as const };
    }
    const existing = await readOperation<T>(client, log, key, true);
    if (existing.operation !== operation) throw new IdempotencyKeyReusedError(key, operation, existing.operation);
    if (existing.state === 'COMPENSATED') {
      await client.query('COMMIT');
      return { outcome: 'already' as const, result: (existing.compensation ?? undefined) as C };
    }
    const result = await undo(client, existing.result as T);
    await client.query(
      `UPDATE ${log.schema}.operations SET state = 'COMPENSATED', compensation = ${sqlText(JSON.stringify(result ?? null))}::jsonb,
       compensated_at = now() WHERE key = ${sqlText(key)}; COMMIT`,
    );
    return { outcome: 'undone' as const, result };
  });
}

interface ClaimRow<T> extends OperationRow<T> {
  claimed: boolean;
}

// BEGIN and COMMIT ride along with the first and last statements: the simple query protocol runs
// several statements in one round trip (a failing one skips the rest and leaves the transaction
// aborted). Values go in as escaped literals there: the simple protocol has no parameters.

/** The results of a multi-statement simple query, one per statement. */
async function statements(client: PoolClient, sql: string): Promise<QueryResult<QueryResultRow>[]> {
  return (await client.query(sql)) as unknown as QueryResult<QueryResultRow>[];
}

/** The first row of the last statement of a multi-statement simple query. */
async function firstStatement<R>(client: PoolClient, sql: string): Promise<R> {
  const results = await statements(client, sql);
  return results[results.length - 1].rows[0] as R;
}

/**
 * A string as an SQL literal (quotes and backslashes escaped by pg's own escapeLiteral), for a
 * statement of the simple protocol (the claims here, `applyOnce`'s `startsWith`).
 */
export function sqlText(value: string): string {
  return escapeLiteral(value);
}

/** Strings as an SQL text[] literal, for a statement of the simple protocol (`applyOnce`'s `startsWith`). */
export function sqlTextArray(values: readonly string[]): string {
  return `ARRAY[${values.map(sqlText).join(', ')}]::text[]`;
}

/** An integer as an SQL literal; anything but a safe integer is refused (it never reaches SQL text). */
export function sqlInteger(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer for SQL: ${String(value)}`);
  return String(value);
}

/** Integers as an SQL integer[] literal. */
export function sqlIntegerArray(values: readonly number[]): string {
  return `ARRAY[${values.map(sqlInteger).join(', ')}]::integer[]`;
}

/** A point in time as an SQL timestamptz literal (ISO 8601, UTC). */
export function sqlTimestamp(value: Date): string {
  if (Number.isNaN(value.getTime())) throw new TypeError('not a time for SQL: Invalid Date');
  return `${sqlText(value.toISOString())}::timestamptz`;
}

/** The stored record of an operation, or undefined. */
export async function findOperation<T>(pool: Pool | PoolClient, log: OperationLog, key: string) {
  const found = await pool.query<OperationRow<T>>(
    `SELECT operation, state, result, compensation FROM ${log.schema}.operations WHERE key = $1`,
    [key],
  );
  return found.rows[0];
}

async function readOperation<T>(client: PoolClient, log: OperationLog, key: string, lock = false): Promise<OperationRow<T>> {
  const found = await client.query<OperationRow<T>>(
    `SELECT operation, state, result, compensation FROM ${log.schema}.operations WHERE key = $1${lock ? ' FOR UPDATE' : ''}`,
    [key],
  );
  return found.rows[0];
}
