import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HISTORIES_DIR } from '../support/histories';

/**
 * Recorded histories of every workflow type (standard happy path, payment timeout, buyer cancel;
 * presale paid, forfeited, cancelled and missed with a refundable deposit; flash-sale; group-buy
 * groups that succeed and fail with their member orders; a refund request with its order; orders
 * stopped mid-flight) replayed
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
      'presale-deposit-forfeited.json',
      'presale-buyer-cancel-refundable.json',
      'presale-missed-refundable.json',
      'group-succeeded.json',
      'group-failed.json',
      'group-buy-order-group-failed.json',
      'standard-needs-attention-retried.json',
      // parcels (issue 13): an order of two warehouses, shipped and delivered as two parcels
      'standard-two-parcels.json',
      // stopped mid-flight: a worker picking up a running order replays exactly this
      'standard-awaiting-payment-running.json',
      'group-buy-order-shipped-running.json',
      'standard-needs-attention-running.json',
      'events-dispatcher-dead-letters-replayed-running.json',
      // addresses and freight (patch shipping-address-and-freight): changed address, shipped, running; refunded in full with freight
      'standard-freight-address-changed-shipped-running.json',
      'standard-freight-refunded-in-full.json',
      // paid steps together (patch paid-steps-together): coupon used, points spent and awarded at once; one of them refused and resolved
      'standard-paid-steps-together-running.json',
      'standard-paid-step-resolved-running.json',
      // stock reserved while pricing (patch reserve-while-pricing): placed, and refused for stock
      'standard-reserved-while-pricing-running.json',
      'standard-out-of-stock-while-pricing.json',
    ]),
  );
});

/** The order scenarios as first recorded (before issue 17's patches). */
const firstRecordings = fixtures.filter((file) => !/\.((local|fewer)-steps|one-marker|updates-held)\.json$/.test(file) && !/^(group-succeeded|group-failed|events-dispatcher|placement-refused|standard-paid-step|standard-reserved-while|standard-out-of-stock-while)/.test(file));

/** What a recorded history's markers of `name` carry (core_patch: the patch; core_local_activity: the activity), in order. */
function markersOf(file: string, name: 'core_patch' | 'core_local_activity'): Record<string, unknown>[] {
  const history = JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as {
    events: { markerRecordedEventAttributes?: { markerName: string; details: Record<string, { payloads: { data: string }[] }> } }[];
  };
  const key = name === 'core_patch' ? 'patch-data' : 'data';
  return history.events
    .map((event) => event.markerRecordedEventAttributes)
    .filter((marker) => marker?.markerName === name)
    .map((marker) => JSON.parse(Buffer.from(marker!.details[key].payloads[0].data, 'base64').toString()) as Record<string, unknown>);
}

/** The OrderPhase values a recorded history's search-attribute upserts wrote, in order (JSON text). */
function phasesUpserted(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as {
    events: { upsertWorkflowSearchAttributesEventAttributes?: { searchAttributes: { indexedFields: Record<string, { data: string }> } } }[];
  };
  return history.events
    .map((event) => event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes.indexedFields.OrderPhase?.data)
    .filter((data): data is string => data !== undefined)
    .map((data) => Buffer.from(data, 'base64').toString());
}

test('every order scenario is recorded again with local steps (issue 17), beside its run from before', () => {
  // Runs from before the patch replay their activity tasks; runs with it replay local-activity markers.
  // placement-refused-*: recorded with local steps only (its patch came after them).
  const orderScenarios = firstRecordings;
  expect(orderScenarios.length).toBeGreaterThanOrEqual(17);
  for (const file of orderScenarios) expect(fixtures).toContain(file.replace(/\.json$/, '.local-steps.json'));
  for (const file of fixtures.filter((name) => name.endsWith('.local-steps.json'))) {
    expect(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')).toContain('"markerName": "core_local_activity"');
  }
});

test('every order scenario is recorded again with fewer local steps (issue 17): one patch marker, the newest', () => {
  // Runs started before fewer-steps-per-order replay the three pricing lookups and the placement's address
  // step (the recordings above); runs with it replay one pricing marker and no address step.
  // The refund request is a workflow of its own (its local records came with refund-request-local-records).
  const orderScenarios = [...firstRecordings.filter((file) => !file.endsWith('-request.json')), 'placement-refused-after-lost-task.json'];
  expect(orderScenarios.length).toBeGreaterThanOrEqual(18);
  for (const file of orderScenarios) expect(fixtures).toContain(file.replace(/\.json$/, '.fewer-steps.json'));
  const recorded = fixtures.filter((name) => name.endsWith('.fewer-steps.json'));
  for (const file of recorded) {
    const localActivities = markersOf(file, 'core_local_activity').map((marker) => marker.activity_type);
    expect({ file, patches: markersOf(file, 'core_patch').map((marker) => marker.id) }).toEqual({ file, patches: ['fewer-steps-per-order'] });
    expect({ file, replaced: localActivities.filter((type) => ['getSkusForOrder', 'quoteOrder', 'saveOrderAddress'].includes(type as string)) }).toEqual({ file, replaced: [] });
  }
  // Nothing is shown to ops while placing (the API starts the run with phase PLACING): the first
  // search attributes the run writes are those of the placement's outcome.
  for (const file of recorded) expect({ file, placing: phasesUpserted(file).filter((phase) => phase === '"PLACING"') }).toEqual({ file, placing: [] });
  // Standard and group-buy placements price in one step (the others price by their campaign's terms).
  const pricedInOne = recorded.filter((file) => markersOf(file, 'core_local_activity').some((marker) => marker.activity_type === 'priceOrder'));
  expect(pricedInOne.length).toBeGreaterThanOrEqual(12);
});

test('every order scenario is recorded again as runs start today (issue 17): one patch marker for all', () => {
  // Each marker is an event and a TemporalChangeVersion search-attribute write per order: a run started
  // with order-patches-in-one-marker records that one and no other, even where the later patches apply
  // (reserve-while-pricing, paid-steps-together, cancel-projects-its-refund).
  const orderScenarios = [
    ...firstRecordings.filter((file) => !file.endsWith('-request.json')),
    'placement-refused-after-lost-task.json',
    'standard-paid-steps-together-running.json',
    'standard-paid-step-resolved-running.json',
    'standard-reserved-while-pricing-running.json',
    'standard-out-of-stock-while-pricing.json',
  ];
  expect(orderScenarios.length).toBeGreaterThanOrEqual(22);
  for (const file of orderScenarios) expect(fixtures).toContain(file.replace(/\.json$/, '.one-marker.json'));
  for (const file of fixtures.filter((name) => name.endsWith('.one-marker.json'))) {
    expect({ file, patches: markersOf(file, 'core_patch').map((marker) => marker.id) }).toEqual({ file, patches: ['order-patches-in-one-marker'] });
  }
  // The later patches' behaviour is there without their markers: pricing and reserving at once.
  const placement = markersOf('standard-reserved-while-pricing-running.one-marker.json', 'core_local_activity').map((marker) => marker.activity_type);
  expect(placement.slice(0, 2).sort()).toEqual(['priceOrder', 'reserveStock']);
});

test('every order scenario is recorded again with its updates held while a local activity runs: the one marker now', () => {
  // Patch order-updates-after-local-steps: a run started with it records that one marker (it implies
  // order-patches-in-one-marker and every patch before). The runs recorded with the marker before it
  // keep replaying (above), their updates answered as they were.
  for (const file of fixtures.filter((name) => name.endsWith('.one-marker.json'))) expect(fixtures).toContain(file.replace(/\.one-marker\.json$/, '.updates-held.json'));
  const held = fixtures.filter((name) => name.endsWith('.updates-held.json'));
  for (const file of held) {
    expect({ file, patches: markersOf(file, 'core_patch').map((marker) => marker.id) }).toEqual({ file, patches: ['order-updates-after-local-steps'] });
  }
  // The placements asked while their projection was retried across workflow tasks (updates-during-local-steps.test.ts).
  expect(held).toEqual(
    expect.arrayContaining([
      'standard-placement-asked-during-projection-retries.updates-held.json',
      'standard-address-changed-during-projection-retries.updates-held.json',
      'group-member-placed-during-projection-retries.updates-held.json',
    ]),
  );
});

test('the paid steps are recorded run together (patch paid-steps-together), once all done and once with one resolved by ops', () => {
  for (const file of ['standard-paid-steps-together-running.json', 'standard-paid-step-resolved-running.json']) {
    expect({ file, patches: markersOf(file, 'core_patch').map((marker) => marker.id) }).toEqual({ file, patches: expect.arrayContaining(['fewer-steps-per-order', 'paid-steps-together']) });
  }
});

test('placements without a coupon or points are recorded pricing and reserving at once (patch reserve-while-pricing)', () => {
  for (const file of ['standard-reserved-while-pricing-running.json', 'standard-out-of-stock-while-pricing.json']) {
    expect({ file, patches: markersOf(file, 'core_patch').map((marker) => marker.id) }).toEqual({ file, patches: expect.arrayContaining(['fewer-steps-per-order', 'reserve-while-pricing']) });
  }
});

type ReplayResult = { workflowId: string; error: string | null };

/** Runs scripts/replay-histories.ts on a folder; resolves with its per-history results (exit code aside). */
async function replay(folder: string): Promise<ReplayResult[]> {
  const script = path.join(__dirname, '..', '..', 'scripts', 'replay-histories.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, folder, process.env.TEST_WORKFLOW_BUNDLE!], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
    if (error.code === 1 && error.stdout) return { stdout: error.stdout }; // some histories did not replay
    throw new Error(`replay failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as ReplayResult);
}

test('every recorded history replays against the current workflow code', async () => {
  const results = await replay(HISTORIES_DIR);
  expect(results.map((result) => result.workflowId)).toEqual(fixtures.map((file) => file.replace(/\.json$/, '')));
  expect(results.filter((result) => result.error)).toEqual([]);
});

test('the replay catches a workflow whose steps no longer match its history', async () => {
  // The happy path's history, as if recorded from code that reserved stock before pricing: the
  // current code schedules another activity first, so replay must fail with a non-determinism error.
  const history = JSON.parse(readFileSync(path.join(HISTORIES_DIR, 'standard-happy-path.json'), 'utf8')) as {
    events: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[];
  };
  const firstActivity = history.events.find((event) => event.activityTaskScheduledEventAttributes)!;
  expect(firstActivity.activityTaskScheduledEventAttributes!.activityType.name).not.toBe('reserveStock');
  firstActivity.activityTaskScheduledEventAttributes!.activityType.name = 'reserveStock';
  const folder = mkdtempSync(path.join(os.tmpdir(), 'replay-drift-'));
  try {
    writeFileSync(path.join(folder, 'drifted.json'), JSON.stringify(history));
    const [result] = await replay(folder);
    expect(result.workflowId).toBe('drifted');
    expect(result.error).toMatch(/nondetermin/i);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
