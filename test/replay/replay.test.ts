import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR } from '../support/histories';

/**
 * Recorded histories of the order scenarios (happy path, payment timeout, buyer cancel) replayed
 * against the current workflow code: a change that would break running orders (non-determinism)
 * fails here, before it reaches production. Fixtures: test/replay/histories, see support/histories.ts.
 */
const fixtures = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.json')).sort();

test('the recorded scenarios are all there', () => {
  expect(fixtures).toEqual(expect.arrayContaining(['standard-buyer-cancel.json', 'standard-happy-path.json', 'standard-payment-timeout.json']));
});

test('every recorded history replays against the current workflow code', async () => {
  async function* histories() {
    for (const file of fixtures) {
      yield { workflowId: file.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8'))) };
    }
  }
  const results: { workflowId: string; error?: unknown }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! } }, histories())) {
    results.push({ workflowId: result.workflowId, error: result.error });
  }
  expect(results.map((result) => result.workflowId)).toEqual(fixtures.map((file) => file.replace(/\.json$/, '')));
  expect(results.filter((result) => result.error)).toEqual([]);
});
