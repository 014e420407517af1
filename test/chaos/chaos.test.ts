import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunReport } from '../../bench/chaos/report';

/**
 * The chaos run (bench/chaos, `npm run chaos`) in small: a few dozen orders of every type and path
 * while activities fail 10% of attempts, the worker is SIGKILLed now and then, PostgreSQL restarts
 * once and webhooks are duplicated and reordered. It uses this jest run's Temporal server (its own
 * task queue) and the workflow bundle of the run, and starts a PostgreSQL of its own, since it
 * restarts it. Every invariant must hold.
 */
const ROOT = path.resolve(__dirname, '..', '..');
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'chaos-test-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runChaos(args: string[]): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    CHAOS_WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
  };
  delete env.DATABASE_URL; // its own PostgreSQL: the run restarts it
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'chaos', 'run.ts'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

test('a short chaos run: every order ends or waits correctly, and every invariant holds', async () => {
  const reportFile = path.join(scratch, 'report.json');
  const { code, output } = await runChaos([
    '--orders', '28', '--spread', '20', '--kill-every', '10-16', '--fault-rate', '0.1', '--settle', '150', '--deadline', '540', '--seed', 'npm-test', '--report', reportFile,
  ]);
  let report: RunReport;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport;
  } catch {
    throw new Error(`the chaos run wrote no report (exit ${code}):\n${output.slice(-4_000)}`);
  }
  // The chaos happened: faults on both sides of the effect, kills, a PostgreSQL restart, duplicated webhooks.
  expect(report.faults.before).toBeGreaterThan(0);
  expect(report.faults.after).toBeGreaterThan(0);
  expect(report.worker.kills).toBeGreaterThan(0);
  expect(report.postgresRestarts).toBe(1);
  expect(report.webhooks.duplicated).toBeGreaterThan(0);
  expect(Object.keys(report.endStates).sort()).toEqual(['FLASH_SALE', 'GROUP_BUY', 'PRESALE', 'STANDARD']);
  // And nothing was lost, doubled or left stuck.
  expect(report.violations).toEqual([]);
  expect(report.failedWorkflows).toEqual([]);
  expect(code).toBe(0);
}, 600_000);
