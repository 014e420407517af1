import { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { INVARIANTS } from '../../bench/chaos/invariants';
import { listEvents } from '../../modules/events/outbox';
import type { OrderView } from '../../workflows/order/definitions';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';
import { typesOf } from './support';

/**
 * The transactional outbox: an order's events are written in the transaction of the write that
 * records the fact, so a worker that dies after that commit and before the server hears of it
 * leaves exactly one event, and the retry on another worker adds none.
 */
let env: TestEnv;
let api: TestApi;
const shop = storefront(() => api);

beforeAll(async () => {
  env = await createTestEnv();
  api = await startTestApi(env);
});
afterAll(async () => {
  await api.close();
  await env.close();
});

/** The chaos run's invariant over the whole database: every recorded fact has its one event, and no event lacks its fact. */
async function eventsWithoutEffectsOrEffectsWithoutEvents() {
  const invariant = INVARIANTS.find((candidate) => candidate.name.startsWith('one event per effect'))!;
  return (await env.pool.query(invariant.sql)).rows;
}

async function eventCount(eventId: string): Promise<number> {
  const found = await env.pool.query<{ n: string }>('SELECT count(*) AS n FROM events.outbox WHERE event_id = $1', [eventId]);
  return Number(found.rows[0].n);
}

test('a worker killed between the PAID projection and its acknowledgement: order.paid exists exactly once, the order goes on', async () => {
  await addSku(env.pool, 'sku_ev_kill', 3_000, 10);
  await addMember(env.pool, 'mem_ev_kill');
  let reachedEffect!: () => void;
  const effectCommitted = new Promise<void>((resolve) => (reachedEffect = resolve));
  let armed = true;
  // After the activity's transaction committed, the worker "dies": the result is never reported.
  const dieAfterPaidProjection: ActivityInterceptorsFactory = () => ({
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        const view = input.args[0] as OrderView | undefined;
        if (armed && Context.current().info.activityType === 'projectOrder' && view?.status === 'PAID') {
          armed = false;
          reachedEffect();
          await Context.current().cancelled; // until the worker is shut down under it
        }
        return result;
      },
    },
  });
  const first = await env.startWorker({ interceptors: { activity: [dieAfterPaidProjection] } });
  const placed = await shop.placeOrder('mem_ev_kill', { lines: [{ skuId: 'sku_ev_kill', quantity: 2 }] });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  await shop.pay(order.payment.intentId!);
  await Promise.race([effectCommitted, new Promise((_, reject) => setTimeout(() => reject(new Error('the PAID projection never ran')), 45_000))]);
  expect(await eventCount(`${order.orderId}:paid`)).toBe(1);
  await first.stop();

  const second = await env.startWorker();
  try {
    // The lost projection is retried on the new worker (same transaction, same event id: nothing new).
    await shop.waitForStatus('mem_ev_kill', order.orderId, 'PAID', 60_000);
    await shop.ship(order.orderId);
    await shop.deliver(order.orderId);
    const completed = await shop.waitForStatus('mem_ev_kill', order.orderId, 'COMPLETED', 60_000);

    // Wait for the outbox itself rather than assume the status read and the event commit together.
    const events = await eventually(async () => {
      const found = await listEvents(env.pool, { orderId: order.orderId });
      return found.some((event) => event.type === 'order.completed') ? found : undefined;
    }, 60_000, 'order.completed in the outbox');
    expect(typesOf(events, order.orderId)).toEqual(['order.placed', 'order.paid', 'parcel.shipped', 'parcel.delivered', 'order.completed']);
    expect(events.map((event) => event.eventId)).toEqual([
      `${order.orderId}:placed`,
      `${order.orderId}:paid`,
      `${order.orderId}-p1:shipped`,
      `${order.orderId}-p1:delivered`,
      `${order.orderId}:completed`,
    ]);
    expect(await eventCount(`${order.orderId}:paid`)).toBe(1);
    // occurredAt is the workflow's time of the fact (its timeline entry), not the time of the write.
    const paidEntry = completed.timeline.find((entry) => entry.event === 'paid')!;
    const paid = events.find((event) => event.type === 'order.paid')!;
    expect(paid.occurredAt).toBe(new Date(paidEntry.at).toISOString());
    expect(paid).toMatchObject({ customerId: 'mem_ev_kill', version: 1, data: { paidFen: 6_000 } });
    expect(events.find((event) => event.type === 'parcel.shipped')!.data).toEqual({ parcelId: `${order.orderId}-p1`, carrier: 'SF', trackingNumber: 'SF1' });
    // Ids and amounts only: no name, phone or address anywhere in the events.
    expect(JSON.stringify(events)).not.toMatch(/phone|address|name/i);
    expect(await eventsWithoutEffectsOrEffectsWithoutEvents()).toEqual([]);
  } finally {
    await second.stop();
  }
});

test('no event without its effect: a rejected placement writes order.rejected only, and the outbox is append-only', async () => {
  await addMember(env.pool, 'mem_ev_reject');
  await addSku(env.pool, 'sku_ev_scarce', 1_000, 1);
  const worker = await env.startWorker();
  try {
    const placed = await shop.placeOrder('mem_ev_reject', { lines: [{ skuId: 'sku_ev_scarce', quantity: 5 }] });
    expect(placed.status).toBe(422);
    const orderId = await eventually(async () => {
      const found = await env.pool.query<{ order_id: string }>(`SELECT order_id FROM events.outbox WHERE customer_id = 'mem_ev_reject'`);
      return found.rows[0]?.order_id;
    }, 30_000, 'the rejection event');
    const events = await listEvents(env.pool, { orderId });
    expect(typesOf(events, orderId)).toEqual(['order.rejected']);
    expect(events[0].data).toEqual({ code: 'OUT_OF_STOCK' });
    await expect(env.pool.query(`DELETE FROM events.outbox WHERE order_id = $1`, [orderId])).rejects.toThrow(/append-only/);
    expect(await eventsWithoutEffectsOrEffectsWithoutEvents()).toEqual([]);
    // The invariant sees an event whose fact is missing.
    await env.pool.query(
      `INSERT INTO events.outbox (event_id, type, version, order_id, occurred_at, data) VALUES ($1, 'order.paid', 1, $2, now(), '{"paidFen": 1}')`,
      [`${orderId}:paid`, orderId],
    );
    expect(await eventsWithoutEffectsOrEffectsWithoutEvents()).toEqual(
      expect.arrayContaining([{ event_id: `${orderId}:paid`, problem: 'event without effect' }, { event_id: `${orderId}:paid`, problem: 'order.paid without captured money' }]),
    );
  } finally {
    await worker.stop();
  }
});
