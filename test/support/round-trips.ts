import { hookClientQuery } from './pg-query-hook';

/**
 * Counts the statements (each one round trip) the pool's clients send while `work` runs: every pg
 * client is counted, old or new. Tests of the round trips an operation takes run one at a time in
 * their file.
 */
export async function countRoundTrips(work: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const restore = hookClientQuery((_text, send) => {
    count += 1;
    return send();
  });
  try {
    await work();
  } finally {
    restore();
  }
  return count;
}
