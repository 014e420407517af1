import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { migrate } from '../../infra/migrate';
import { freePort } from '../../infra/temporal';
import { smokeTestWorkflow } from '../../workflows';
import { customerAuth, TEST_JWT_SECRET, TEST_WEBHOOK_SECRET } from '../support/api';
import { eventually } from '../support/api-server';
import { hasStackTrace, lastLine, startEngineProcess, type EngineProcess } from '../support/engine-process';

/**
 * Issue 9, case 10: a PostgreSQL restart must not take the engine down. A PostgreSQL of this file's
 * own (the run's shared one must never be restarted), an API process and a worker process on it; then
 * PostgreSQL stops under them and comes back on the same data and port.
 */
let postgres: EngineProcess;
let databaseUrl: string;
let dataDir: string;
let pgPort: number;
let api: EngineProcess;
let worker: EngineProcess;
let apiUrl: string;
let temporal: TemporalClient;
const taskQueue = `restart-${randomBytes(4).toString('hex')}`;

/** Starts (or, on the same folder and port, restarts) this file's PostgreSQL. */
async function startPostgres(): Promise<EngineProcess> {
  const server = startEngineProcess('test/support/postgres-process.ts', {}, [dataDir, String(pgPort)]);
  await server.waitForOutput(/^ready /m);
  databaseUrl = /^ready (\S+)/m.exec(server.output())![1];
  return server;
}

beforeAll(async () => {
  dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'pg-restart-')), 'postgres');
  pgPort = await freePort();
  postgres = await startPostgres();
  await migrate(databaseUrl);

  const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS!;
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TASK_QUEUE: taskQueue,
    DB_POOL_MAX: '4',
    JWT_SECRET: TEST_JWT_SECRET,
    PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  };
  api = startEngineProcess('api/main.ts', { ...env, API_HOST: '127.0.0.1', API_PORT: String(apiPort) });
  worker = startEngineProcess('workers/main.ts', { ...env, WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE! });
  await Promise.all([api.waitForOutput(/listening on/), worker.waitForOutput(/polling task queue/)]);
  temporal = new TemporalClient({ connection: await Connection.connect({ address: temporalAddress }) });
}, 180_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await temporal?.connection.close();
  await postgres?.stop();
  rmSync(path.dirname(dataDir), { recursive: true, force: true });
}, 60_000);

const listOrders = () => fetch(`${apiUrl}/orders?customerId=mem_restart`, { headers: { authorization: customerAuth('mem_restart') } });

async function smokeRows(workflowId: string): Promise<number> {
  const client = new PgClient({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM ops.smoke_tests WHERE workflow_id = $1', [workflowId])).rowCount ?? 0;
  } finally {
    await client.end();
  }
}

test('the API and the worker live through a PostgreSQL restart: 503 during it, served and retried after', async () => {
  // Both processes hold open connections when PostgreSQL goes away: every pool has idle clients.
  const warm = await Promise.all([listOrders(), listOrders(), listOrders()]);
  expect(warm.map((response) => response.status)).toEqual([200, 200, 200]);
  const before = await temporal.workflow.execute(smokeTestWorkflow, { taskQueue, workflowId: `before-${taskQueue}`, args: ['before'] });
  expect(before.workflowId).toBe(`before-${taskQueue}`);

  await postgres.stop();

  // During the outage: a problem+json 503, and an activity that keeps being retried.
  const during = await listOrders();
  expect(during.status).toBe(503);
  expect(during.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(await during.json()).toMatchObject({ status: 503, title: 'Service unavailable' });
  const workflowId = `during-${taskQueue}`;
  const handle = await temporal.workflow.start(smokeTestWorkflow, { taskQueue, workflowId, args: ['during the outage'] });
  const retrying = await eventually(async () => {
    const { raw } = await handle.describe();
    const attempt = raw.pendingActivities?.[0]?.attempt ?? 0;
    return attempt >= 2 ? attempt : undefined;
  }, 30_000, 'the smoke-test activity to be retried');
  expect(retrying).toBeGreaterThanOrEqual(2);
  expect(api.alive()).toBe(true);
  expect(worker.alive()).toBe(true);

  postgres = await startPostgres();

  // After it: the same processes serve again, and the retried activity completes its write once.
  const after = await eventually(async () => {
    const response = await listOrders();
    return response.status === 200 ? response : undefined;
  }, 30_000, 'the API to answer 200 again');
  expect(await after.json()).toEqual({ orders: [] });
  const result = await handle.result();
  expect(result.workflowId).toBe(workflowId);
  expect(await smokeRows(workflowId)).toBe(1);
  expect(api.alive()).toBe(true);
  expect(worker.alive()).toBe(true);
}, 180_000);

test('both processes stop cleanly on SIGTERM, saying "stopped", without a stack trace', async () => {
  const printedBefore = [api.output().length, worker.output().length];
  const [apiCode, workerCode] = await Promise.all([api.stop(), worker.stop()]);
  expect({ apiCode, workerCode }).toEqual({ apiCode: 0, workerCode: 0 });
  [api, worker].forEach((process, index) => {
    const printedWhileStopping = process.output().slice(printedBefore[index]);
    expect(lastLine(printedWhileStopping)).toMatch(/\bstopped\b/);
    expect(hasStackTrace(printedWhileStopping)).toBe(false);
  });
}, 60_000);
