import { Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities';
import { orderIdFor } from '../../api/orders';
import { createSandboxProvider } from '../../modules/finance/sandbox';
import { changeAddressUpdate, orderWorkflowId, placementResultUpdate, type OrderView } from '../../workflows/order/definitions';
import { TEST_AUTH, testApiSettings } from '../support/api';
import { startTestApi } from '../support/api-server';
import { TEST_ADDRESS } from '../support/fixtures';
import { createTestEnv } from '../support/harness';
import { recordWorkflowHistory } from '../support/histories';
import { caseKit, caseTimeouts, stopCase, type CaseContext, type PhasedOrder } from './kit';

/**
 * An update that arrives while a local activity started in an earlier workflow task still runs.
 *
 * A projection that keeps failing (the database is away for a while) is retried inside the workflow
 * task; past 8 s (80% of the task's 10 s timeout) the SDK heartbeats the task, and an update sent
 * meanwhile arrives in the next task. The SDK (1.24) can replay such an update out of order, a
 * nondeterminism error that leaves the run stuck (the chaos run of session 12 left a group-buy order
 * so; ../replay/update-during-local-retries.test.ts shows it on the SDK). Orders now act on an update
 * and answer it only while no local activity runs (patch order-updates-after-local-steps).
 *
 * Each case holds the placement's projection (AWAITING_PAYMENT) failing for 9 s. Then it checks what
 * the callers got (each only after the projection is written), and that the run's history replays.
 */
jest.setTimeout(90_000);

const OUTAGE_MS = 9_000;
/** Members whose orders' AWAITING_PAYMENT projection fails until the time given. */
const outages = new Map<string, number>();
let context: CaseContext | undefined;

beforeAll(async () => {
  const env = await createTestEnv();
  const activities = createActivities({ pool: env.pool, payments: createSandboxProvider({ pool: env.pool }), auth: TEST_AUTH });
  await env.startWorker({
    activities: {
      ...activities,
      async projectOrder(view: OrderView, options?: Parameters<typeof activities.projectOrder>[1]) {
        const until = outages.get(view.customerId);
        if (until !== undefined && view.phase === 'AWAITING_PAYMENT' && Date.now() < until) throw new Error('the projection store is unavailable (test outage)');
        return activities.projectOrder(view, options);
      },
    },
  });
  const timeouts = caseTimeouts({ paymentMs: 60_000 });
  context = { env, api: await startTestApi(env, timeouts, testApiSettings(env, timeouts)) };
});
afterAll(() => stopCase(context));

const kit = caseKit(() => {
  if (!context) throw new Error('the case has not started');
  return context;
});

const EventType = { WORKFLOW_TASK_COMPLETED: 7, MARKER_RECORDED: 25, UPDATE_ACCEPTED: 41 } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A placement whose projection fails for OUTAGE_MS; `during` runs 2 s in, while it is retried. */
async function placeDuringOutage<T>(during: (orderId: string, memberId: string) => Promise<T>) {
  const { skuId, memberId } = await kit.shop({ stock: 10 });
  const key = kit.next('key');
  const orderId = orderIdFor(memberId, key);
  outages.set(memberId, Date.now() + OUTAGE_MS);
  const placing = kit.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }] }, key).then((response) => ({ response, at: Date.now() }));
  await sleep(2_000);
  const meanwhile = await during(orderId, memberId);
  const placed = await placing;
  return { orderId, memberId, placed, meanwhile, recoveredAt: outages.get(memberId)! };
}

/** The run's history: the projection was retried across workflow tasks with an update taken in between; and it replays. */
async function expectHeartbeatedAndReplayable(orderId: string, name: string) {
  const handle = kit.env().temporal.workflow.getHandle(orderWorkflowId(orderId));
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const typeOf = (event: temporal.api.history.v1.IHistoryEvent) => Number(event.eventType);
  const activityOf = (event: temporal.api.history.v1.IHistoryEvent) => {
    const data = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
    return data ? (JSON.parse(Buffer.from(data).toString()) as { activity_type?: string }).activity_type : undefined;
  };
  const projected = events.findIndex((event) => typeOf(event) === EventType.MARKER_RECORDED && activityOf(event) === 'projectOrder');
  expect(projected).toBeGreaterThan(0);
  const tasksBefore = events.slice(0, projected).filter((event) => typeOf(event) === EventType.WORKFLOW_TASK_COMPLETED).length;
  const updatesBefore = events.slice(0, projected).filter((event) => typeOf(event) === EventType.UPDATE_ACCEPTED).length;
  expect({ tasksBefore: tasksBefore >= 2, updatesBefore: updatesBefore >= 1 }).toEqual({ tasksBefore: true, updatesBefore: true });
  await expect(Worker.runReplayHistory({ workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! } }, history, orderWorkflowId(orderId))).resolves.toBeUndefined();
  // RECORD_HISTORIES=1: the replay fixture.
  await recordWorkflowHistory(kit.env(), orderWorkflowId(orderId), name, { running: true });
}

test('a placement asked again while its projection is retried answers once the order is shown, to both callers; the run replays', async () => {
  const { orderId, memberId, placed, meanwhile, recoveredAt } = await placeDuringOutage((orderId) =>
    // What the API does for a retried placement or a group-buy member's order: the placement update on the running order.
    kit
      .env()
      .temporal.workflow.getHandle(orderWorkflowId(orderId))
      .executeUpdate(placementResultUpdate)
      .then((view) => ({ view, at: Date.now() })),
  );
  expect([placed.response.status, placed.response.body.status]).toEqual([201, 'PENDING_PAYMENT']);
  expect(meanwhile.view.status).toBe('PENDING_PAYMENT');
  await expectHeartbeatedAndReplayable(orderId, 'standard-placement-asked-during-projection-retries');
  // Neither answered before the projection was written: the buyer's next read sees what it was told.
  expect(Math.min(placed.at, meanwhile.at)).toBeGreaterThanOrEqual(recoveredAt);
  expect((await kit.projection(orderId))?.status).toBe('PENDING_PAYMENT');
  expect((await kit.getOrder(memberId, orderId)).status).toBe('PENDING_PAYMENT');
});

test('an address change sent while the placement projection is retried waits for it, then changes the address once; the run replays', async () => {
  const moved = { ...TEST_ADDRESS, districtCode: '310101', street: '南京东路 1 号' };
  // Sent as the API sends it after its checks (the API itself cannot read the order until its projection is written: 503).
  const { orderId, memberId, placed, meanwhile, recoveredAt } = await placeDuringOutage((orderId, memberId) =>
    kit
      .env()
      .temporal.workflow.getHandle(orderWorkflowId(orderId))
      .executeUpdate(changeAddressUpdate, { args: [{ address: moved, by: `customer ${memberId}` }] })
      .then((view) => ({ view, at: Date.now() })),
  );
  expect([placed.response.status, placed.response.body.status]).toEqual([201, 'PENDING_PAYMENT']);
  expect([meanwhile.view.status, meanwhile.view.shipping?.addressVersion]).toEqual(['PENDING_PAYMENT', 2]);
  expect(meanwhile.at).toBeGreaterThanOrEqual(recoveredAt);
  const order = (await kit.getOrder(memberId, orderId)) as PhasedOrder & { shippingAddress?: { districtCode: string } };
  expect([order.shippingAddress?.districtCode, order.shipping?.addressVersion]).toEqual(['310101', 2]);
  expect(order.timeline.filter((entry) => entry.event === 'shipping address changed')).toHaveLength(1);
  await expectHeartbeatedAndReplayable(orderId, 'standard-address-changed-during-projection-retries');
});

test('a group-buy member order, whose placement is asked after its start, answers once shown while its projection is retried; the run replays', async () => {
  // The group-buy route starts the member's order, then asks for its placement: that update arrives in the task after the heartbeat.
  const { campaignId } = await kit.createGroupBuy({ groupSize: 2 });
  const memberId = await kit.member();
  outages.set(memberId, Date.now() + OUTAGE_MS);
  const joined = await kit.joinGroupBuy(memberId, campaignId);
  expect([joined.status, Date.now() >= outages.get(memberId)!]).toEqual(['PENDING_PAYMENT', true]);
  await expectHeartbeatedAndReplayable(joined.orderId, 'group-member-placed-during-projection-retries');
  expect((await kit.projection(joined.orderId))?.status).toBe('PENDING_PAYMENT');
});
