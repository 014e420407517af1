import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { adminUrlFor, quoteIdentifier } from '../../infra/database';
import { migrate } from '../../infra/migrate';
import { startEmbeddedPostgres, type EmbeddedPostgresOptions, type RunningPostgres } from '../../infra/postgres';
import { freePort, startDevServer } from '../../infra/temporal';
import { WORKFLOWS_PATH } from '../../workers/worker';

/**
 * The chaos run's own servers: an embedded PostgreSQL on a free port in the scratch folder (restartable,
 * so the run can take it down once mid-run) and an in-memory Temporal dev server; or DATABASE_URL /
 * TEMPORAL_ADDRESS when given (a fresh database is created on that server, and PostgreSQL is then
 * not restarted: it is not ours). Loopback only.
 */
export interface ChaosStack {
  databaseUrl: string;
  temporalAddress: string;
  /** The dev server's process when the stack started one (benchmarks read its CPU time). */
  temporalPid?: number;
  /** The embedded PostgreSQL's postmaster, when the stack started one (it changes at a restart). */
  postgresPid(): number | undefined;
  /** Path of the prebuilt workflow bundle the worker processes load (bundled once, not at each restart). */
  workflowBundle: string;
  /** False when PostgreSQL is external. */
  canRestartPostgres: boolean;
  /** Fast shutdown of PostgreSQL, `downMs` of outage, start again on the same port and data. */
  restartPostgres(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

type Log = (line: string) => void;

/** `temporalDbFile`: the dev server keeps its state in this SQLite file instead of memory (bench/orders-inflight measures its size). */
export async function startChaosStack(env: NodeJS.ProcessEnv, scratchDir: string, runId: string, log: Log, stackOptions: { temporalDbFile?: string } = {}): Promise<ChaosStack> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => log(`stop failed: ${error}`));
  };
  try {
    let databaseUrl: string;
    let postgres: RunningPostgres | undefined;
    let options: EmbeddedPostgresOptions | undefined;
    if (env.DATABASE_URL) {
      databaseUrl = await createFreshDatabase(env.DATABASE_URL, `chaos_${runId}`);
      log(`PostgreSQL: external, database chaos_${runId}`);
    } else {
      options = {
        dataDir: path.join(scratchDir, 'postgres'),
        port: await freePort(),
        databaseName: 'order_engine',
        persistent: true, // survives the mid-run restart; the scratch folder goes at the end
        postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
      };
      postgres = await startEmbeddedPostgres(options);
      stops.push(() => postgres!.stop());
      databaseUrl = postgres.databaseUrl;
      log(`PostgreSQL: embedded on 127.0.0.1:${options.port}`);
    }
    await migrate(databaseUrl);

    let temporalAddress = env.TEMPORAL_ADDRESS;
    let temporalPid: number | undefined;
    if (!temporalAddress) {
      const temporal = await startDevServer({ port: await freePort(), stateDir: path.join(scratchDir, 'temporal'), dbFile: stackOptions.temporalDbFile });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
      temporalPid = temporal.pid;
    }
    log(`Temporal: ${temporalAddress}`);

    const workflowBundle = env.CHAOS_WORKFLOW_BUNDLE || (await bundle(scratchDir));
    return {
      databaseUrl,
      temporalAddress,
      temporalPid,
      workflowBundle,
      canRestartPostgres: Boolean(postgres),
      postgresPid: () => (options ? postmasterPid(options.dataDir) : undefined),
      async restartPostgres(downMs: number) {
        if (!postgres || !options) return;
        await postgres.stop();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        postgres = await startEmbeddedPostgres(options);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The first line of PostgreSQL's postmaster.pid in its data folder. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function createFreshDatabase(databaseUrl: string, name: string): Promise<string> {
  const admin = new PgClient({ connectionString: adminUrlFor(databaseUrl) });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function bundle(scratchDir: string): Promise<string> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (message: string) => console.error(message) },
  });
  const file = path.join(scratchDir, 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}

/**
 * One of the engine's processes (API or worker) as a child: restarted when it exits unless the run
 * is stopping; SIGKILL on demand. Counts its starts and the exits nobody asked for (a crash).
 */
export interface Supervised {
  readonly name: string;
  starts: number;
  kills: number;
  unexpectedExits: { at: string; code: number | null; signal: string | null }[];
  /** How long each start took until the ready line (ms). */
  startupMs: number[];
  /** The running child's process id (benchmarks read its CPU time). */
  pid(): number | undefined;
  /** Resolves when the process printed its ready line. */
  ready(): Promise<void>;
  kill(): void;
  stop(): Promise<void>;
}

export function supervise(name: string, entry: string, env: NodeJS.ProcessEnv, readyPattern: RegExp, logDir: string, log: Log): Supervised {
  mkdirSync(logDir, { recursive: true });
  const output = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  let child: ChildProcess | undefined;
  let stopping = false;
  let killRequested = false;
  let readyWaiters: (() => void)[] = [];
  let isReady = false;

  const state: Supervised = {
    name,
    starts: 0,
    kills: 0,
    unexpectedExits: [],
    startupMs: [],
    pid: () => child?.pid,
    ready: () => (isReady ? Promise.resolve() : new Promise<void>((resolve) => readyWaiters.push(resolve))),
    kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      killRequested = true;
      state.kills += 1;
      isReady = false;
      child.kill('SIGKILL');
    },
    async stop() {
      stopping = true;
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => current.kill('SIGKILL'), 15_000);
        current.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        current.kill('SIGTERM');
      });
      output.end();
    },
  };

  function start() {
    state.starts += 1;
    isReady = false;
    const startedAt = Date.now();
    // BENCH_CPU_PROF=<dir>: each process writes a V8 CPU profile there when it exits (where the CPU goes).
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const started = spawn(process.execPath, [...profile, ...(process.env.BENCH_PRELOAD ? ['--require', process.env.BENCH_PRELOAD] : []), '--import', 'tsx', entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const onData = (chunk: Buffer) => {
      output.write(chunk);
      if (!isReady && readyPattern.test(chunk.toString())) {
        isReady = true;
        state.startupMs.push(Date.now() - startedAt);
        for (const waiter of readyWaiters) waiter();
        readyWaiters = [];
      }
    };
    started.stdout!.on('data', onData);
    started.stderr!.on('data', onData);
    started.once('exit', (code, signal) => {
      output.write(`--- ${name} exited (code ${code}, signal ${signal}) at ${new Date().toISOString()}\n`);
      if (stopping) return;
      if (!killRequested) {
        state.unexpectedExits.push({ at: new Date().toISOString(), code, signal });
        log(`${name} exited by itself (code ${code}, signal ${signal}); restarting it`);
      }
      killRequested = false;
      // A process that dies at once (its database is down) is retried calmly, not in a tight loop.
      setTimeout(start, Date.now() - startedAt < 5_000 ? 2_000 : 300);
    });
  }
  // Whatever way the run ends, it leaves no engine process behind.
  process.once('exit', () => child?.kill('SIGKILL'));
  start();
  return state;
}
