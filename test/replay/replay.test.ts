import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { HISTORIES_DIR } from '../support/histories';

/**
 * Recorded histories of the order scenarios (standard happy path, payment timeout, buyer cancel;
 * presale and flash-sale happy paths; a refund request with its order) replayed
 * against the current workflow code: a change that would break running orders (non-determinism)
 * fails here, before it reaches production. Fixtures: test/replay/histories, see support/histories.ts.
 * The replay runs in plain Node (scripts/replay-histories.ts): the SDK's protobuf JSON conversion does
 * not work inside jest's module sandbox.
 */
const fixtures = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.json')).sort();

test('the recorded scenarios are all there', () => {
  expect(fixtures).toEqual(
    expect.arrayContaining([
      'standard-buyer-cancel.json',
      'standard-happy-path.json',
      'standard-payment-timeout.json',
      'presale-paid-in-full.json',
      'flash-sale-happy-path.json',
      'refund-only-before-shipment-order.json',
      'refund-only-before-shipment-request.json',
    ]),
  );
});

test('every recorded history replays against the current workflow code', async () => {
  const script = path.join(__dirname, '..', '..', 'scripts', 'replay-histories.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, HISTORIES_DIR, process.env.TEST_WORKFLOW_BUNDLE!], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`replay failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  const results = stdout.trim().split('\n').map((line) => JSON.parse(line) as { workflowId: string; error: string | null });
  expect(results.map((result) => result.workflowId)).toEqual(fixtures.map((file) => file.replace(/\.json$/, '')));
  expect(results.filter((result) => result.error)).toEqual([]);
});
