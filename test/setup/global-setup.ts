import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Client } from 'pg';
import { migrate } from '../../infra/migrate';
import { quoteIdentifier } from '../../infra/database';
import type { Stack } from '../../infra/stack';
import { startStackChild } from '../../infra/stack-child';
import { ensureTemporalBinary } from '../../infra/temporal';
import { WORKFLOWS_PATH } from '../../workers/worker';

export interface TestRunState {
  stack: Stack;
  scratchDir: string;
  adminDatabaseUrl: string;
  templateDatabase: string;
}

/**
 * Once per `npm test`: start the servers (in a process of their own, infra/stack-process.ts), migrate
 * a template database, bundle the workflow code.
 * What the test files need is passed through environment variables (jest workers inherit them).
 */
export default async function globalSetup(): Promise<void> {
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'order-engine-test-'));
  // The Temporal CLI: found, cached, or built now from source with progress (what `npm start` does),
  // so `npm ci && npm test` is enough on a machine with Go. An external cluster needs none.
  const env = { ...process.env };
  if (!env.TEMPORAL_ADDRESS) env.TEMPORAL_BINARY = await ensureTemporalBinary();
  const stack = await startStackChild({ kind: 'test', scratchDir, env });
  const { adminDatabaseUrl, temporalAddress } = stack;

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

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
