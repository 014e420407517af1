import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { quoteIdentifier } from '../../infra/database';
import type { TestRunState } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const run = (globalThis as unknown as { __orderEngineTestRun?: TestRunState }).__orderEngineTestRun;
  if (!run) return;
  // On an external server (DATABASE_URL) leave nothing behind; a throwaway server goes away whole.
  if (process.env.DATABASE_URL) {
    const admin = new Client({ connectionString: run.adminDatabaseUrl });
    await admin.connect();
    const leftovers = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
      [run.templateDatabase, `${run.templateDatabase.replace('oe_template_', 'oe_test_')}%`],
    );
    for (const { datname } of leftovers.rows) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(datname)} WITH (FORCE)`);
    await admin.end();
  }
  await run.stack.stop();
  rmSync(run.scratchDir, { recursive: true, force: true });
}
