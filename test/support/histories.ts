import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestEnv } from './harness';

export const HISTORIES_DIR = path.join(__dirname, '..', 'replay', 'histories');

/**
 * With RECORD_HISTORIES=1, saves the finished history of an order's workflow as a replay fixture
 * (test/replay/histories/<name>.json). Re-record after an intended, versioned workflow change:
 *   RECORD_HISTORIES=1 npx jest test/orders
 */
export async function recordHistory(env: TestEnv, orderId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const handle = env.temporal.workflow.getHandle(`order-${orderId}`);
  await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}
