import { rootLogger } from './logger';
import { Client, Pool } from 'pg';

/** Small helpers for managing databases on a PostgreSQL server. */

/** Creates the database if it does not exist yet (idempotent, safe against a concurrent creator). */
export async function ensureDatabase(adminUrl: string, databaseName: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${quoteIdentifier(databaseName)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // duplicate_database: someone else created it first
      });
    }
  } finally {
    await client.end();
  }
}

export function quoteIdentifier(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** The maintenance-database URL of the server that `databaseUrl` points at. */
export function adminUrlFor(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}


export interface PoolSettings {
  connectionString: string;
  max?: number;
  /** Where the pool reports a broken idle connection (a PostgreSQL restart, a network cut). */
  log?: (line: string) => void;
}

/**
 * Every pg Pool of the engine comes from here. A pool emits 'error' when an idle connection breaks
 * (PostgreSQL restarted or went away); without a listener Node treats that as an uncaught error and
 * the whole process dies. With one, the broken connection is dropped, the next query opens a new one,
 * and queries made while the server is down fail (the API answers 503, activities are retried).
 * One line per outage, not one per connection: a restart breaks every idle connection at once.
 */
export function createPool(settings: PoolSettings): Pool {
  const pool = new Pool({ connectionString: settings.connectionString, max: settings.max });
  const log = settings.log ?? ((line: string) => rootLogger().warn(line));
  let reportedAt = 0;
  pool.on('error', (error) => {
    if (Date.now() - reportedAt < 10_000) return;
    reportedAt = Date.now();
    log(`PostgreSQL connection lost (${describeError(error)}); reconnecting on the next query`);
  });
  return pool;
}

/** SQLSTATEs that say the server is not there for us right now, not that the statement is wrong. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/**
 * Whether an error means "PostgreSQL is unreachable" (down, restarting, refusing connections), looked
 * for along the `cause` chain and inside AggregateErrors (a host that resolves to several addresses).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((known) => message.startsWith(known))) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

function describeError(error: Error & { code?: string }): string {
  return error.code ? `${error.code}: ${error.message}` : error.message;
}
