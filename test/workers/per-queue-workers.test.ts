import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { createSandboxProvider } from '../../modules/finance/sandbox';
import { createEngineWorker, type EngineWorker, type WorkerRole } from '../../workers/worker';
import { orderWorkflowId } from '../../workflows/order/definitions';
import { startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/**
 * Scale-out by task queue: one worker per role (orders workflows; finance, inventory and member /
 * marketing activities), as the per-queue entry points run them, serve a standard order end to end;
 * each module's activities were scheduled on, and served from, its own queue.
 */
let env: TestEnv;
let api: TestApi;
let connection: NativeConnection;
const running: { worker: EngineWorker; done: Promise<void> }[] = [];
const shop = storefront(() => api);

beforeAll(async () => {
  env = await createTestEnv();
  connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const payments = createSandboxProvider({ pool: env.pool });
  for (const role of ['orders', 'finance', 'inventory', 'member'] as WorkerRole[]) {
    const worker = await createEngineWorker({
      connection,
      namespace: 'default',
      taskQueue: env.taskQueue,
      pool: env.pool,
      payments,
      role,
      workflowSource: { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! } },
      overrides: { shutdownGraceTime: '2s' },
    });
    running.push({ worker, done: worker.run() });
  }
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_queues', 2_000, 5);
  await addMember(env.pool, 'mem_queues', 0);
});
afterAll(async () => {
  await api?.close();
  for (const { worker } of running) worker.shutdown();
  await Promise.all(running.map(({ done }) => done));
  await connection?.close();
  await env?.close();
});

test('each role polls only its own queue', () => {
  expect(running.map(({ worker }) => worker.taskQueues)).toEqual([
    [env.taskQueue],
    [`${env.taskQueue}-finance`],
    [`${env.taskQueue}-inventory`],
    [`${env.taskQueue}-member`],
  ]);
});

test('an order is served end to end by the per-queue workers, module activities on module queues', async () => {
  const placed = await shop.placeOrder('mem_queues', { lines: [{ skuId: 'sku_queues', quantity: 2 }] });
  expect(placed.status).toBe(201);
  const orderId = placed.body.orderId;
  await shop.pay(placed.body.payment.intentId);
  await shop.waitForStatus('mem_queues', orderId, 'PAID', 60_000);
  await shop.ship(orderId);
  await shop.deliver(orderId);
  await shop.waitForStatus('mem_queues', orderId, 'COMPLETED', 60_000);

  const stock = await env.pool.query<{ on_hand: number; reserved: number }>(`SELECT on_hand, reserved FROM inventory.stock WHERE sku_id = 'sku_queues'`);
  expect(stock.rows[0]).toEqual({ on_hand: 3, reserved: 0 });

  const history = await env.temporal.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
  const queueOf = new Map<string, string>();
  const local = new Set<string>();
  for (const event of history.events ?? []) {
    if (event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_MARKER_RECORDED) {
      const marker = event.markerRecordedEventAttributes!;
      if (marker.markerName === 'core_local_activity') local.add(localActivityType(marker.details?.data?.payloads?.[0]?.data));
      continue;
    }
    if (event.eventType !== temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) continue;
    const scheduled = event.activityTaskScheduledEventAttributes!;
    queueOf.set(scheduled.activityType!.name!, scheduled.taskQueue!.name!);
  }
  // After payment, each module's effects run on its own queue.
  expect(queueOf.get('settlePayment')).toBe(`${env.taskQueue}-finance`);
  expect(queueOf.get('recognizeRevenue')).toBe(`${env.taskQueue}-finance`);
  expect(queueOf.get('awardPendingPoints')).toBe(`${env.taskQueue}-member`);
  expect(queueOf.get('completeOrderPoints')).toBe(`${env.taskQueue}-member`);
  expect(queueOf.get('commitParcelStock')).toBe(`${env.taskQueue}-inventory`);
  // Placement (the buyer waits on it) and the order's own records are local activities of the
  // orders worker: no activity task on any queue.
  // Pricing is one step (priceOrder); the address goes with the projection (patch fewer-steps-per-order).
  expect([...local].sort()).toEqual(['createPaymentIntent', 'openParcels', 'priceOrder', 'projectOrder', 'reserveStock']);
  for (const name of local) expect(queueOf.has(name)).toBe(false);
});

/** The activity type a local activity's marker names (its data payload is the JSON of the marker's fields). */
function localActivityType(data: Uint8Array | null | undefined): string {
  return (JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { activity_type?: string }).activity_type ?? '?';
}
