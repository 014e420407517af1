import type { Pool } from 'pg';

/**
 * Counts the statements (each one round trip) the pool's clients send while `work` runs: the
 * prototype's query is wrapped, so every client of the pool is counted, old or new. Tests of the
 * round trips an operation takes run one at a time in their file.
 */
export async function countRoundTrips(pool: Pool, work: () => Promise<unknown>): Promise<number> {
  const client = await pool.connect();
  const proto = Object.getPrototypeOf(client) as { query: (...args: unknown[]) => unknown };
  client.release();
  const original = proto.query;
  let count = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    count += 1;
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  return count;
}
