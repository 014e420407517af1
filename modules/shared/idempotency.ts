import type { Pool, PoolClient } from 'pg';
import { withTransaction } from './db';
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

export async function applyOnce<T>(
  pool: Pool,
  log: OperationLog,
  key: string,
  operation: string,
  effect: (client: PoolClient) => Promise<T>,
): Promise<T> {
  return withTransaction(pool, async (client) => {
    const claimed = await client.query(
      `INSERT INTO ${log.schema}.operations (key, operation, state) VALUES ($1, $2, 'APPLIED')
       ON CONFLICT (key) DO NOTHING`,
      [key, operation],
    );
    if (claimed.rowCount === 0) {
      const existing = await readOperation<T>(client, log, key);
      if (existing.operation !== operation) throw new IdempotencyKeyReusedError(key, operation, existing.operation);
      if (existing.state === 'COMPENSATED') throw new AlreadyCompensatedError(key);
      return existing.result as T;
    }
    const result = await effect(client);
    await client.query(`UPDATE ${log.schema}.operations SET result = $2 WHERE key = $1`, [key, JSON.stringify(result ?? null)]);
    return result;
  });
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
  return withTransaction(pool, async (client) => {
    const tombstone = await client.query(
      `INSERT INTO ${log.schema}.operations (key, operation, state, compensated_at) VALUES ($1, $2, 'COMPENSATED', now())
       ON CONFLICT (key) DO NOTHING`,
      [key, operation],
    );
    if (tombstone.rowCount === 1) return { outcome: 'nothing' as const };
    const existing = await readOperation<T>(client, log, key, true);
    if (existing.operation !== operation) throw new IdempotencyKeyReusedError(key, operation, existing.operation);
    if (existing.state === 'COMPENSATED') return { outcome: 'already' as const, result: (existing.compensation ?? undefined) as C };
    const result = await undo(client, existing.result as T);
    await client.query(
      `UPDATE ${log.schema}.operations SET state = 'COMPENSATED', compensation = $2, compensated_at = now() WHERE key = $1`,
      [key, JSON.stringify(result ?? null)],
    );
    return { outcome: 'undone' as const, result };
  });
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
