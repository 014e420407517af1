import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createLogger, loggerSettingsFromEnv } from '../infra/logger';
import { WORKFLOWS_PATH } from '../workers/worker';

/**
 * Replays workflow histories (JSON, as the Temporal CLI or UI exports them) against the current
 * workflow code and prints one JSON line per history: a non-deterministic change shows as an error.
 *   npm run replay -- [folder=test/replay/histories] [prebuilt-bundle.js]
 */
async function main(): Promise<void> {
  // The SDK's own log lines go to stderr: stdout carries only the results, one JSON line each.
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => process.stderr.write(`[${entry.level}] ${entry.message}\n`)),
    telemetryOptions: { logging: { filter: 'WARN', forward: {} } },
  });
  const folder = process.argv[2] ?? path.join(__dirname, '..', 'test', 'replay', 'histories');
  const bundlePath = process.argv[3];
  const files = readdirSync(folder).filter((file) => file.endsWith('.json')).sort();
  async function* histories() {
    for (const file of files) {
      yield { workflowId: file.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(readFileSync(path.join(folder, file), 'utf8'))) };
    }
  }
  const options = bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_PATH };
  let failed = 0;
  for await (const result of Worker.runReplayHistories(options, histories())) {
    if (result.error) failed += 1;
    process.stdout.write(`${JSON.stringify({ workflowId: result.workflowId, error: result.error ? String(result.error) : null })}\n`);
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  // stdout carries the results: messages go to stderr.
  createLogger({ ...loggerSettingsFromEnv(), destination: pino.destination(2) }).fatal({ err: error }, 'replay failed');
  process.exit(2);
});
