import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Test files run in parallel without sharing state: a separate jest run of exactly two files
 * (test/isolation) with two workers. Each file announces itself and waits for the other, so both pass
 * only if they ran at the same time; each then finds only its own row in its own database, written by
 * a workflow on its own task queue. (In the main run, jest's scheduling of files cannot be relied on
 * to put two particular files side by side, hence the separate run.)
 */
test('two test files run at the same time, each with its own database and task queue', async () => {
  const root = path.join(__dirname, '..', '..');
  const run = await promisify(execFile)(process.execPath, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '-c', 'jest.isolation.config.js', '--ci'], {
    cwd: root,
    env: { ...process.env, JEST_MAX_WORKERS: '2' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
    throw new Error(`the isolation run failed (exit ${error.code}):\n${error.stderr ?? ''}${error.stdout ?? ''}`);
  });
  const summary = run.stderr;
  expect(summary).toMatch(/Test Suites: 2 passed, 2 total/);
  expect(summary).toMatch(/Tests:\s+2 passed, 2 total/);
}, 180_000);
