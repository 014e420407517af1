import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import request from 'supertest';
import { createApp } from '../../api/app';
import { freePort } from '../../infra/temporal';
import { smokeTestWorkflow } from '../../workflows';
import { testApiSettings } from '../support/api';
import { eventually } from '../support/api-server';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * The standalone worker process (workers/main.ts) as a container runs it: JSON logs with the Temporal
 * context, the SDK's Prometheus endpoint, its own health endpoint; and the API's /readyz, which needs
 * a worker polling the task queue.
 */
let env: TestEnv;
let worker: ChildProcess | undefined;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await env.close();
});

function startWorkerProcess(ports: { metrics: number; health: number }): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../../workers/main.ts')], {
    env: {
      PATH: process.env.PATH,
      // test, not production: production refuses the sandbox payment provider this worker uses.
      NODE_ENV: 'test',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TASK_QUEUE: env.taskQueue,
      WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
      JWT_SECRET: 'worker-test-jwt-secret-0123',
      PAYMENT_WEBHOOK_SECRET: 'worker-test-webhook-secret-0123',
      METRICS_TOKEN: 'worker-test-metrics-token-0123',
      WORKER_METRICS_PORT: String(ports.metrics),
      WORKER_HEALTH_PORT: String(ports.health),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line));
    } catch {
      lines.push({ notJson: line });
    }
  });
  return child;
}

test('the worker serves SDK metrics and health, logs JSON with workflow context, and makes the API ready', async () => {
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env) });
  const notReady = await request(app).get('/readyz');
  expect(notReady.status).toBe(503);
  expect(notReady.body.checks).toMatchObject({ postgres: { ok: true }, temporal: { ok: true }, workers: { ok: false, pollers: 0 } });
  expect((await request(app).get('/healthz')).status).toBe(200);

  const ports = { metrics: await freePort(), health: await freePort() };
  worker = startWorkerProcess(ports);
  const health = `http://127.0.0.1:${ports.health}`;
  await eventually(async () => {
    if (worker!.exitCode !== null) throw new Error(`the worker exited (${worker!.exitCode}): ${JSON.stringify(lines.slice(-3))}`);
    return (await fetch(`${health}/healthz`)).status === 200 ? true : undefined;
  }, 90_000, 'the worker to be healthy');

  const result = await env.temporal.workflow.execute(smokeTestWorkflow, { taskQueue: env.taskQueue, workflowId: `smoke-obs-${env.id}`, args: ['metrics'] });
  expect(result.workflowId).toBe(`smoke-obs-${env.id}`);

  // The SDK's own metrics, Prometheus-style names (`_total`, `_seconds`).
  const sdk = await eventually(async () => {
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    return /temporal_activity_execution_latency_seconds_count\{[^}]*activity_type="recordSmokeTest"/.test(text) ? text : undefined;
  }, 30_000, 'SDK activity metrics');
  expect(sdk).toMatch(/temporal_workflow_completed_total\{[^}]*workflow_type="smokeTestWorkflow"[^}]*\} 1/);
  expect(sdk).toContain('temporal_num_pollers');
  // The worker's business metrics are on its health port.
  expect(await (await fetch(`${health}/metrics`)).text()).toContain('# HELP order_engine_compensations_total');

  // JSON lines (LOG_FORMAT=json, the production default); the activity's lines carry the workflow and activity context.
  expect(lines.filter((line) => 'notJson' in line)).toEqual([]);
  expect(lines).toContainEqual(expect.objectContaining({ service: 'worker', msg: `worker polling task queue "${env.taskQueue}"` }));
  expect(lines).toContainEqual(
    expect.objectContaining({ msg: 'Activity completed', activityType: 'recordSmokeTest', attempt: 1, workflowId: `smoke-obs-${env.id}`, taskQueue: env.taskQueue }),
  );
  expect(lines).toContainEqual(
    expect.objectContaining({ msg: 'Workflow completed', workflowType: 'smokeTestWorkflow', workflowId: `smoke-obs-${env.id}`, runId: expect.any(String) }),
  );

  const ready = await eventually(async () => {
    const response = await request(app).get('/readyz');
    return response.status === 200 ? response : undefined;
  }, 30_000, 'the API to be ready');
  expect(ready.body.checks.workers.pollers).toBeGreaterThanOrEqual(1);

  worker.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => worker!.once('exit', resolve));
  expect(code).toBe(0);
  expect(lines).toContainEqual(expect.objectContaining({ msg: 'worker drained and stopped' }));
}, 180_000);
