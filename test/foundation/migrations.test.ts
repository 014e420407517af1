import { Client, Pool } from 'pg';
import { quoteIdentifier } from '../../infra/database';
import { migrate } from '../../infra/migrate';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

/** A pool on the scratch database; its connections may still be closing when the database is dropped. */
function scratchPool(url: string): Pool {
  const pool = new Pool({ connectionString: url });
  pool.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') throw error;
  });
  return pool;
}

/** A fresh, empty database on the test server (not cloned from the template). */
async function withEmptyDatabase(run: (url: string) => Promise<void>): Promise<void> {
  const adminUrl = process.env.TEST_ADMIN_DATABASE_URL!;
  const name = `${env.databaseName}_empty`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    await run(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    await admin.end();
  }
}

test('migrations apply to an empty database, then find nothing left to do', async () => {
  await withEmptyDatabase(async (url) => {
    const lines: string[] = [];
    const applied = await migrate(url, (line) => lines.push(line));
    expect(applied).toEqual(expect.arrayContaining(['0001_foundation', '0002_ops']));
    expect(applied).toEqual([...applied].sort());
    // One line per migration, none of node-pg-migrate's notices about our readable 0001_ prefixes.
    expect(lines).toEqual(applied.map((name) => `migrated: ${name}`));

    const again = await migrate(url);
    expect(again).toEqual([]);

    const pool = scratchPool(url);
    try {
      const recorded = await pool.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY id');
      expect(recorded.rows.map((row) => row.name)).toEqual(applied);
      const tables = await pool.query<{ table: string }>(
        `SELECT table_schema || '.' || table_name AS table FROM information_schema.tables
         WHERE table_schema IN ('api', 'ops') ORDER BY 1`,
      );
      expect(tables.rows.map((row) => row.table)).toEqual(['api.idempotency_keys', 'ops.smoke_tests']);
    } finally {
      await pool.end();
    }
  });
});

test('concurrent migrators (several workers starting at once) apply each migration once', async () => {
  await withEmptyDatabase(async (url) => {
    const results = await Promise.allSettled([migrate(url), migrate(url), migrate(url)]);
    const appliedLists = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<string[]>).value);
    // node-pg-migrate's advisory lock makes the others fail fast or find nothing to do; never apply twice.
    const total = appliedLists.flat();
    expect(new Set(total).size).toBe(total.length);
    const pool = scratchPool(url);
    try {
      const recorded = await pool.query('SELECT name FROM pgmigrations');
      expect(recorded.rowCount).toBe(new Set(total).size);
      expect(await migrate(url)).toEqual([]);
    } finally {
      await pool.end();
    }
  });
});

test('the cloned test database is migrated already', async () => {
  const recorded = await env.pool.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY id');
  expect(recorded.rows.map((row) => row.name)).toContain('0001_foundation');
});
