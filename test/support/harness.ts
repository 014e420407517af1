import { randomBytes } from 'node:crypto';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { Client as PgClient, Pool } from 'pg';
import { connectWorkerConnection } from '../../infra/temporal-connection';
import { quoteIdentifier } from '../../infra/database';
import { createActivities } from '../../activities';
import { createSandboxProvider } from '../../modules/finance/sandbox';
import { TEST_AUTH } from './api';
import { activityOnly, engineWorkerObservability, runTogether, type EngineWorker } from '../../workers/worker';
import { ACTIVITY_GROUPS, moduleTaskQueue } from '../../workflows/shared/task-queues';

/**
 * One per test file: its own database (cloned from the migrated template of this run) and its own
 * task queue on the shared Temporal server, so test files run in parallel without sharing state.
 *
 *   const env = await createTestEnv();   // in beforeAll
 *   await env.close();                   // in afterAll
 */
export interface TestEnv {
  /** Unique per file: used in database name, task queue and ids. */
  id: string;
  databaseName: string;
  databaseUrl: string;
  pool: Pool;
  temporal: TemporalClient;
  taskQueue: string;
  /**
   * Starts a worker with the real activities on this file's task queue, and beside it the module
   * queues' activity workers (workflows/shared/task-queues.ts), as one process of the engine has them;
   * stop them with `stop()`.
   */
  startWorker(overrides?: Partial<WorkerOptions>): Promise<RunningWorker>;
  close(): Promise<void>;
}

export interface RunningWorker {
  /** The worker of the file's task queue (workflows and the activities on it). */
  worker: Worker;
  /** It and the module queues' workers. */
  all: EngineWorker;
  stop(): Promise<void>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests with \`npm test\` (jest globalSetup provides it)`);
  return value;
}

export async function createTestEnv(): Promise<TestEnv> {
  const id = randomBytes(4).toString('hex');
  const adminUrl = required('TEST_ADMIN_DATABASE_URL');
  const template = required('TEST_TEMPLATE_DATABASE');
  const databaseName = `${template.replace('oe_template_', 'oe_test_')}_${id}`;
  await cloneDatabase(adminUrl, template, databaseName);
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  const databaseUrl = url.toString();
  const pool = new Pool({ connectionString: databaseUrl, max: 20 });
  // close() drops the database WITH (FORCE): connections still closing are terminated (57P01). Expected.
  pool.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') console.error('test pool error', error);
  });

  const temporalAddress = required('TEST_TEMPORAL_ADDRESS');
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new TemporalClient({ connection, namespace: 'default' });
  const taskQueue = `test-${id}`;
  let nativeConnection: NativeConnection | undefined;
  const workers: RunningWorker[] = [];

  return {
    id,
    databaseName,
    databaseUrl,
    pool,
    temporal,
    taskQueue,
    async startWorker(overrides = {}) {
      nativeConnection ??= await connectWorkerConnection({ address: temporalAddress, namespace: 'default' });
      const options: WorkerOptions = {
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        workflowBundle: { codePath: required('TEST_WORKFLOW_BUNDLE') },
        // The workers' side of the sandbox provider: it records webhooks, the test API's side sends them.
        activities: createActivities({ pool, payments: createSandboxProvider({ pool }), auth: TEST_AUTH }),
        // The engine's activity counters (workers/activity-metrics.ts), as production workers have them.
        ...engineWorkerObservability(),
        shutdownGraceTime: '2s',
        ...overrides,
      };
      const worker = await Worker.create(options);
      const modules = await Promise.all(ACTIVITY_GROUPS.map((group) => Worker.create(activityOnly({ ...options, taskQueue: moduleTaskQueue(taskQueue, group) }))));
      const all = runTogether([worker, ...modules]);
      const running = all.run();
      const handle: RunningWorker = {
        worker,
        all,
        async stop() {
          all.shutdown();
          await running;
          workers.splice(workers.indexOf(handle), 1);
        },
      };
      workers.push(handle);
      return handle;
    },
    async close() {
      for (const running of [...workers]) await running.stop();
      await nativeConnection?.close();
      await connection.close();
      await pool.end();
      await dropDatabase(adminUrl, databaseName);
    },
  };
}

/** Clones under an advisory lock: PostgreSQL refuses two clones of one template at the same moment. */
async function cloneDatabase(adminUrl: string, template: string, target: string): Promise<void> {
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [template]);
    await admin.query(`CREATE DATABASE ${quoteIdentifier(target)} TEMPLATE ${quoteIdentifier(template)}`);
  } finally {
    await admin.end();
  }
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
