import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Client } from 'pg';
import { migrate } from '../../infra/migrate';
import { quoteIdentifier } from '../../infra/database';
import { WORKFLOWS_PATH } from '../../workers/worker';

export interface TestRunState {
  stack: ChildProcess;
  scratchDir: string;
  adminDatabaseUrl: string;
  templateDatabase: string;
}

/**
 * Once per `npm test`: start the servers, migrate a template database, bundle the workflow code.
 * What the test files need is passed through environment variables (jest workers inherit them).
 */
export default async function globalSetup(): Promise<void> {
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'order-engine-test-'));
  const stack = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'stack-process.ts'), scratchDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
  });
  const ready = await firstLine(stack);
  const { adminDatabaseUrl, temporalAddress } = JSON.parse(ready) as { adminDatabaseUrl: string; temporalAddress: string };

  // A name per run, so two runs against one external server (DATABASE_URL) do not collide.
  const templateDatabase = `oe_template_${process.pid}_${Date.now().toString(36)}`;
  const admin = new Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${quoteIdentifier(templateDatabase)}`);
  await admin.end();
  const templateUrl = new URL(adminDatabaseUrl);
  templateUrl.pathname = `/${templateDatabase}`;
  await migrate(templateUrl.toString());

  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const bundlePath = path.join(scratchDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);

  process.env.TEST_ADMIN_DATABASE_URL = adminDatabaseUrl;
  process.env.TEST_TEMPLATE_DATABASE = templateDatabase;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.TEST_TEMPORAL_ADDRESS = temporalAddress;
  (globalThis as unknown as { __orderEngineTestRun: TestRunState }).__orderEngineTestRun = {
    stack,
    scratchDir,
    adminDatabaseUrl,
    templateDatabase,
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('test servers did not start within 5 minutes')), 300_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`test servers failed to start (exit code ${code}); see the messages above`));
    });
  });
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
