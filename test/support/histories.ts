import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestEnv } from './harness';

export const HISTORIES_DIR = path.join(__dirname, '..', 'replay', 'histories');

/**
 * With RECORD_HISTORIES=1, saves the finished history of an order's workflow as a replay fixture
 * (test/replay/histories/<name>.json), in the JSON the Temporal CLI and UI export. Re-record after an
 * intended, versioned workflow change:  RECORD_HISTORIES=1 npx jest test/orders
 * A new patch keeps the recordings from before it (running orders replay them) and adds its own:
 * RECORD_HISTORIES_AS=<suffix> writes <name>.<suffix>.json instead.
 */
export async function recordHistory(env: TestEnv, orderId: string, name: string, options: { running?: boolean } = {}): Promise<void> {
  await recordWorkflowHistory(env, `order-${orderId}`, name, options);
}

/**
 * The same for any workflow (a refund request, a group). `running`: record it as it is now, stopped
 * mid-flight (a worker that picks up a running order replays exactly such a history).
 */
export async function recordWorkflowHistory(env: TestEnv, workflowId: string, name: string, options: { running?: boolean } = {}): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  if (!options.running) await env.temporal.workflow.getHandle(workflowId).result().catch(() => undefined);
  const binary = execFileSync('bash', [path.join(__dirname, '..', '..', 'scripts', 'ensure-temporal.sh')], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const json = execFileSync(binary, ['workflow', 'show', '--workflow-id', workflowId, '--address', process.env.TEST_TEMPORAL_ADDRESS!, '--output', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const suffix = process.env.RECORD_HISTORIES_AS ? `.${process.env.RECORD_HISTORIES_AS}` : '';
  writeFileSync(path.join(HISTORIES_DIR, `${name}${suffix}.json`), json);
}
