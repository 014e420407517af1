import type { Pool, PoolClient } from 'pg';

/** Runs `work` in one transaction on one connection; rolls back on any error. */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return withOwnTransaction(pool, async (client) => {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  });
}

/**
 * One connection for a transaction that `work` opens and commits itself (so BEGIN and COMMIT can
 * travel with other statements: modules/shared/idempotency.ts); anything that throws rolls back.
 */
export async function withOwnTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection that breaks between two statements (PostgreSQL restarting) reports it on the client,
  // not on a query; unheard, that error would end the process. The next statement fails instead, and
  // the pool discards the broken client on release.
  const ignoreBrokenConnection = () => undefined;
  client.on('error', ignoreBrokenConnection);
  try {
    return await work(client);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.removeListener('error', ignoreBrokenConnection);
    client.release();
  }
}

/** Wall clock, injectable so tests can move time (coupon validity, windows). */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
