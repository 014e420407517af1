import { Client } from 'pg';

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

