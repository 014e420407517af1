import { existsSync } from 'node:fs';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import { Client } from 'pg';

/** Plain SQL migrations, one file per change, each with `-- Up Migration` / `-- Down Migration`. */
// From source (infra/) the folder is ../db/migrations; compiled (dist/infra/) it is ../../db/migrations.
export const MIGRATIONS_DIR = [path.resolve(__dirname, '..', 'db', 'migrations'), path.resolve(__dirname, '..', '..', 'db', 'migrations')].find(
  (dir) => existsSync(dir),
)!;

/**
 * Applies every pending migration. Safe to run from several processes at once (node-pg-migrate takes
 * an advisory lock) and on every start; returns the names of the migrations it applied.
 */
export async function migrate(databaseUrl: string, log: (line: string) => void = () => undefined): Promise<string[]> {
  // Our own client, closed whatever happens: the runner can leave its own open when it fails.
  const dbClient = new Client({ connectionString: databaseUrl });
  dbClient.on('error', (error) => log(`migration connection: ${error.message}`));
  await dbClient.connect();
  try {
    return await runMigrations(dbClient, log);
  } finally {
    await dbClient.end();
  }
}

async function runMigrations(dbClient: Client, log: (line: string) => void): Promise<string[]> {
  const applied = await runner({
    dbClient,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    migrationsSchema: 'public',
    checkOrder: true,
    singleTransaction: true,
    log: () => undefined,
    logger: { debug: () => undefined, info: () => undefined, warn: log, error: (line) => withoutTimestampNotice(line, log) },
  });
  for (const migration of applied) log(`migrated: ${migration.name}`);
  return applied.map((migration) => migration.name);
}

/**
 * node-pg-migrate reports (as an error, once per comparison while sorting) that a readable prefix such
 * as `0060_` is not a timestamp, then orders those files by name, which is what we want. The file names
 * are recorded in every existing database's `pgmigrations`, so they stay; only this notice is dropped.
 */
function withoutTimestampNotice(line: string, log: (line: string) => void): void {
  if (!line.startsWith("Can't determine timestamp")) log(line);
}
