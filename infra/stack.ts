import path from 'node:path';
import type { Config } from './config';
import { migrate } from './migrate';
import { adminUrlFor, ensureDatabase } from './database';
import { startEmbeddedPostgres } from './postgres';
import { freePort, startDevServer } from './temporal';

/**
 * The servers the engine needs: PostgreSQL and Temporal. Each is either external (DATABASE_URL,
 * TEMPORAL_ADDRESS) or started here and stopped by `stop()`.
 */
export interface Stack {
  databaseUrl: string;
  adminDatabaseUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  stop(): Promise<void>;
}

type Log = (line: string) => void;

/** The engine's stack for `npm start`: persistent data under DATA_DIR, UI on TEMPORAL_UI_PORT. */
export async function startDevStack(config: Config, log: Log): Promise<Stack> {
  const dataDir = path.resolve(config.DATA_DIR);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => log(`stop failed: ${error}`));
  };
  try {
    let databaseUrl = config.DATABASE_URL;
    let adminDatabaseUrl = databaseUrl ? adminUrlFor(databaseUrl) : '';
    if (!databaseUrl) {
      log(`Starting embedded PostgreSQL on 127.0.0.1:${config.EMBEDDED_PG_PORT} (data: ${path.join(dataDir, 'postgres')})`);
      const postgres = await startEmbeddedPostgres({
        dataDir: path.join(dataDir, 'postgres'),
        port: config.EMBEDDED_PG_PORT,
        databaseName: 'order_engine',
        persistent: true,
      });
      stops.push(postgres.stop);
      databaseUrl = postgres.databaseUrl;
      adminDatabaseUrl = postgres.adminUrl;
    }
    log('Applying database migrations');
    await migrate(databaseUrl, log);

    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress) {
      log('Starting the Temporal dev server');
      const temporal = await startDevServer({
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFile: path.join(dataDir, 'temporal', 'temporal.db'),
        stateDir: path.join(dataDir, 'temporal'),
        log,
      });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
      temporalUiUrl = temporal.uiUrl;
    }
    return { databaseUrl, adminDatabaseUrl, temporalAddress, temporalUiUrl, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The stack for a test run: a throwaway PostgreSQL (no fsync) and an in-memory headless Temporal on
 * free ports, so a test run never touches the developer's `.data/` or a running engine.
 * DATABASE_URL / TEMPORAL_ADDRESS still point tests at external servers when set.
 */
export async function startTestStack(env: NodeJS.ProcessEnv, scratchDir: string, log: Log): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => log(`stop failed: ${error}`));
  };
  try {
    let adminDatabaseUrl = env.DATABASE_URL ? adminUrlFor(env.DATABASE_URL) : '';
    if (!adminDatabaseUrl) {
      const postgres = await startEmbeddedPostgres({
        dataDir: path.join(scratchDir, 'postgres'),
        port: await freePort(),
        databaseName: 'postgres',
        persistent: false,
        postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
      });
      stops.push(postgres.stop);
      adminDatabaseUrl = postgres.adminUrl;
    }
    let temporalAddress = env.TEMPORAL_ADDRESS;
    if (!temporalAddress) {
      const temporal = await startDevServer({ port: await freePort(), stateDir: path.join(scratchDir, 'temporal'), log });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
    }
    return { databaseUrl: adminDatabaseUrl, adminDatabaseUrl, temporalAddress, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}


