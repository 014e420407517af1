import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { smokeTestWorkflow } from '../../workflows';
import { lastLine, PROJECT_ROOT, startEngineProcess, type EngineProcess } from '../support/engine-process';
import { createTestEnv, type TestEnv } from '../support/harness';
import { freePort } from '../../infra/temporal';

/**
 * The production build as the image runs it: `tsc -p tsconfig.build.json` into a scratch folder, the
 * workflow bundle made by dist/scripts/bundle-workflows.js, then plain `node dist/...` (no tsx) for
 * migrations, the API and the worker against this run's servers, and the worker's healthcheck.
 */
const run = promisify(execFile);
let env: TestEnv;
let scratch: string;
let api: EngineProcess | undefined;
let worker: EngineProcess | undefined;

beforeAll(async () => {
  env = await createTestEnv();
  scratch = mkdtempSync(path.join(tmpdir(), 'prod-build-'));
  // dist/ beside node_modules/ and db/migrations/, as in the image's /app.
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(scratch, 'node_modules'));
  symlinkSync(path.join(PROJECT_ROOT, 'db'), path.join(scratch, 'db'));
  // `npm run build` into the scratch folder: tsc on the entry points, then the development tools removed.
  await run(process.execPath, [path.join(PROJECT_ROOT, 'scripts/build.mjs'), path.join(scratch, 'dist')], { cwd: PROJECT_ROOT });
  await run(process.execPath, [path.join(scratch, 'dist/scripts/bundle-workflows.js'), path.join(scratch, 'dist/workflow-bundle.js')], { cwd: scratch });
}, 480_000); // tsc on a loaded machine takes minutes

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await env.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('the build holds no development tool: no sandbox provider, no dev stack, no seeding, no tests', () => {
  const dist = path.join(scratch, 'dist');
  for (const devOnly of ['modules/finance/sandbox', 'scripts/start.js', 'scripts/seed.js', 'scripts/token.js', 'infra/postgres.js', 'infra/stack.js', 'infra/temporal.js', 'test', 'bench']) {
    expect([devOnly, existsSync(path.join(dist, devOnly))]).toEqual([devOnly, false]);
  }
  // Nothing compiled requires the sandbox statically (infra/dev-tools.js computes its path and refuses production).
  const requiresSandbox = compiledFiles(dist).filter((file) => /require\(["'][./\w-]*sandbox["']\)/.test(readFileSync(file, 'utf8')));
  expect(requiresSandbox).toEqual([]);
  expect(existsSync(path.join(dist, 'api/main.js')) && existsSync(path.join(dist, 'workers/main.js'))).toBe(true);
});

function compiledFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

test('node dist/...: migrations, then the API answers /healthz and the worker runs a workflow; both stop cleanly', async () => {
  const port = await freePort();
  const engineEnv = {
    NODE_ENV: 'production',
    DATABASE_URL: env.databaseUrl,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TASK_QUEUE: env.taskQueue,
    // Production refuses the published test secrets: fresh ones.
    JWT_SECRET: randomBytes(24).toString('hex'),
    PAYMENT_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    API_KEYS: 'smoke-key=admin:ops_smoke',
    METRICS_TOKEN: randomBytes(24).toString('hex'),
    // Production refuses the sandbox: a real provider's configuration (nothing is paid in this test).
    ...alipayConfiguration(),
  };
  const migrate = await run(process.execPath, [path.join(scratch, 'dist/scripts/migrate.js')], { cwd: scratch, env: { PATH: process.env.PATH, ...engineEnv } });
  expect(migrate.stdout).toMatch(/database is up to date/);

  api = startEngineProcess(path.join(scratch, 'dist/api/main.js'), { ...engineEnv, API_HOST: '127.0.0.1', API_PORT: String(port) });
  worker = startEngineProcess(path.join(scratch, 'dist/workers/main.js'), { ...engineEnv, WORKFLOW_BUNDLE: path.join(scratch, 'dist/workflow-bundle.js') });
  await Promise.all([api.waitForOutput(/listening on/), worker.waitForOutput(/polling task queue/)]);

  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok' });
  // The sandbox's pay page, controls and webhook receiver do not exist in production.
  for (const [method, route] of [['GET', '/sandbox/intents/pi_x'], ['POST', '/sandbox/intents/pi_x/pay'], ['POST', '/payments/webhook']]) {
    const response = await fetch(`http://127.0.0.1:${port}${route}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
    expect([route, response.status]).toEqual([route, 404]);
  }
  const workflowId = `prod-smoke-${env.id}`;
  const result = await env.temporal.workflow.execute(smokeTestWorkflow, { taskQueue: env.taskQueue, workflowId, args: ['from dist'] });
  expect(result.workflowId).toBe(workflowId);
  const healthcheck = await run(process.execPath, [path.join(scratch, 'dist/scripts/worker-health.js')], { cwd: scratch, env: { PATH: process.env.PATH, ...engineEnv } });
  expect(healthcheck.stderr).toBe('');

  const [apiCode, workerCode] = await Promise.all([api.stop(), worker.stop()]);
  expect({ apiCode, workerCode }).toEqual({ apiCode: 0, workerCode: 0 });
  expect(lastLine(api.output())).toMatch(/\bstopped\b/);
  expect(lastLine(worker.output())).toMatch(/\bstopped\b/);
}, 120_000);

function alipayConfiguration(): Record<string, string> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    PAYMENT_PROVIDER: 'alipay',
    ALIPAY_APP_ID: '2021000000000001',
    ALIPAY_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    ALIPAY_PUBLIC_KEY: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}
