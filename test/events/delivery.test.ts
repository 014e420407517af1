import Ajv2020 from 'ajv/dist/2020';
import request from 'supertest';
import { createActivities } from '../../activities';
import { registerEventConsumers, type EventDeliverySettings } from '../../infra/event-dispatchers';
import { listEvents } from '../../modules/events/outbox';
import { createSubscriptionService } from '../../modules/events/subscriptions';
import { createSandboxProvider } from '../../modules/finance/sandbox';
import { eventDispatcherWorkflow } from '../../workflows/events/dispatcher';
import { dispatcherStatusQuery, dispatcherWorkflowId } from '../../workflows/events/definitions';
import { recordWorkflowHistory } from '../support/histories';
import type { OutboxEvent } from '../../modules/events/types';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, TEST_AUTH, testApiSettings } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type RunningWorker, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';
import { flakyConsumer, startSubscriber } from './support';

/**
 * Delivery of the outbox: webhook subscribers over real HTTP (signed, retried with backoff, dead
 * letters, replay) and in-process consumers, by one dispatcher workflow per subscription.
 */
const DELIVERY: EventDeliverySettings = { timing: { pollMs: 300, retryInitialMs: 100, retryMaxMs: 400 }, defaultMaxAttempts: 5 };
const SECRET = 'subscriber-secret-0123456789';
let env: TestEnv;
let api: TestApi;
const workers: RunningWorker[] = [];
const consumer = flakyConsumer('test-recorder');
const shop = storefront(() => api);
const admin = () => request(api.url);

beforeAll(async () => {
  env = await createTestEnv();
  api = await startTestApi(env, undefined, { ...testApiSettings(env), events: DELIVERY });
  workers.push(await env.startWorker({ activities: createActivities({ pool: env.pool, payments: createSandboxProvider({ pool: env.pool }), auth: TEST_AUTH, eventConsumers: [consumer] }) }));
  await registerEventConsumers(env.temporal, { pool: env.pool, taskQueue: env.taskQueue, consumers: [consumer], delivery: DELIVERY });
});
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await api.close();
  await env.close();
});

async function subscribe(url: string, body: object = {}): Promise<string> {
  const created = await admin().post('/admin/subscriptions').set('X-API-Key', API_KEYS.admin).send({ url, eventTypes: ['*'], secret: SECRET, ...body });
  expect(created.status).toBe(201);
  expect(created.body.secret).toBeUndefined();
  return created.body.id as string;
}

async function paidOrder(memberId: string, skuId: string): Promise<OrderView> {
  const placed = await shop.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect(placed.status).toBe(201);
  await shop.pay((placed.body as OrderView).payment.intentId!);
  const paid = await shop.waitForStatus(memberId, (placed.body as OrderView).orderId, 'PAID', 60_000);
  // Wait for the outbox itself rather than assume the status read and the event commit together.
  await outboxHas(paid.orderId, 'order.paid');
  return paid;
}

function outboxHas(orderId: string, type: string): Promise<OutboxEvent[]> {
  return eventually(async () => {
    const events = await listEvents(env.pool, { orderId });
    return events.some((event) => event.type === type) ? events : undefined;
  }, 60_000, `${type} of ${orderId} in the outbox`);
}

function bySeq(events: OutboxEvent[]): OutboxEvent[] {
  return [...events].sort((a, b) => a.seq - b.seq);
}

test('a subscriber failing 3 times per event gets each event once, in order per order, signed; so does an in-process consumer', async () => {
  const subscriber = await startSubscriber(SECRET, (_eventId, attempt) => (attempt <= 3 ? 503 : 200));
  try {
    const subscriptionId = await subscribe(subscriber.url);
    await addSku(env.pool, 'sku_ev_flaky', 2_000, 20);
    await addMember(env.pool, 'mem_ev_a');
    await addMember(env.pool, 'mem_ev_b');
    const [first, second] = await Promise.all([paidOrder('mem_ev_a', 'sku_ev_flaky'), paidOrder('mem_ev_b', 'sku_ev_flaky')]);
    const cancelled = await request(api.url).post(`/orders/${second.orderId}/cancel`).set('X-API-Key', API_KEYS.support).send({ reason: 'changed mind' });
    expect(cancelled.status).toBe(200);
    await shop.waitForStatus('mem_ev_b', second.orderId, 'CANCELLED', 60_000);
    await outboxHas(second.orderId, 'order.cancelled');

    const expected = bySeq([...(await listEvents(env.pool, { orderId: first.orderId })), ...(await listEvents(env.pool, { orderId: second.orderId }))]);
    expect(expected.map((event) => event.type)).toEqual(expect.arrayContaining(['order.placed', 'order.paid', 'order.cancelled']));
    await eventually(async () => (subscriber.acknowledged().length >= expected.length ? true : undefined), 90_000, 'every event acknowledged');

    const acknowledged = subscriber.acknowledged();
    expect(acknowledged.map((event) => event.eventId).sort()).toEqual(expected.map((event) => event.eventId).sort()); // each once
    for (const orderId of [first.orderId, second.orderId]) {
      const arrived = acknowledged.filter((event) => event.orderId === orderId).map((event) => event.eventId);
      expect(arrived).toEqual(expected.filter((event) => event.orderId === orderId).map((event) => event.eventId));
    }
    for (const event of expected) {
      expect(subscriber.received.filter((entry) => entry.event.eventId === event.eventId).map((entry) => entry.status)).toEqual([503, 503, 503, 200]);
    }
    expect(subscriber.received.every((entry) => entry.signatureValid)).toBe(true);
    expect(acknowledged[0]).toEqual(expected.find((event) => event.eventId === acknowledged[0].eventId));
    const deliveries = await env.pool.query(`SELECT status, attempts FROM events.deliveries WHERE subscription_id = $1`, [subscriptionId]);
    expect(deliveries.rows).toHaveLength(expected.length);
    expect(deliveries.rows.every((row) => row.status === 'DELIVERED' && row.attempts === 4)).toBe(true);

    // The in-process consumer (refuses each first delivery): every order and parcel event once, in order.
    await eventually(async () => (expected.every((event) => consumer.consumed.some((seen) => seen.eventId === event.eventId)) ? true : undefined), 60_000, 'the consumer');
    const consumedOfTheseOrders = consumer.consumed.filter((event) => event.orderId === first.orderId || event.orderId === second.orderId);
    expect(consumedOfTheseOrders.map((event) => event.seq)).toEqual(expected.map((event) => event.seq));
    expect(expected.every((event) => consumer.attempts.get(event.eventId) === 2)).toBe(true);
  } finally {
    await subscriber.close();
  }
});

test('a subscriber down for good: its events are dead-lettered after maxAttempts, visible to ops, and replayed once it is back', async () => {
  let up = false;
  const subscriber = await startSubscriber(SECRET, () => (up ? 204 : 500));
  try {
    const subscriptionId = await subscribe(subscriber.url, { eventTypes: ['order.placed', 'order.paid'], maxAttempts: 2 });
    await addSku(env.pool, 'sku_ev_down', 1_500, 5);
    await addMember(env.pool, 'mem_ev_down');
    const order = await paidOrder('mem_ev_down', 'sku_ev_down');
    const deadLetters = await eventually(async () => {
      const listed = await admin().get(`/admin/subscriptions/${subscriptionId}/dead-letters`).set('X-API-Key', API_KEYS.admin);
      return listed.body.deadLetters?.length === 2 ? (listed.body.deadLetters as { eventId: string; seq: number; attempts: number }[]) : undefined;
    }, 60_000, 'two dead letters');
    expect(deadLetters.map((letter) => letter.eventId)).toEqual([`${order.orderId}:placed`, `${order.orderId}:paid`]);
    expect(deadLetters.every((letter) => letter.attempts === 2)).toBe(true);
    expect(subscriber.received).toHaveLength(4);

    const forbidden = await admin().post(`/admin/subscriptions/${subscriptionId}/replay?from=${deadLetters[0].seq}`).set('X-API-Key', API_KEYS.support);
    expect(forbidden.status).toBe(403);
    up = true;
    const replay = await admin().post(`/admin/subscriptions/${subscriptionId}/replay?from=${deadLetters[0].seq}`).set('X-API-Key', API_KEYS.admin);
    expect(replay.status).toBe(202);
    expect(replay.body.fromSeq).toBe(deadLetters[0].seq);
    await eventually(async () => (subscriber.acknowledged().length === 2 ? true : undefined), 60_000, 'the replayed events');
    expect(subscriber.acknowledged().map((event) => event.eventId)).toEqual([`${order.orderId}:placed`, `${order.orderId}:paid`]);
    const after = await admin().get(`/admin/subscriptions/${subscriptionId}/dead-letters`).set('X-API-Key', API_KEYS.admin);
    expect(after.body.deadLetters).toEqual([]);
    const audit = await env.pool.query(`SELECT action, actor FROM audit.events WHERE target_type = 'subscription' AND target_id = $1 ORDER BY id`, [subscriptionId]);
    expect(audit.rows.map((row) => row.action)).toEqual(['subscription.create', 'subscription.replay']);

    const listed = await admin().get('/admin/subscriptions').set('X-API-Key', API_KEYS.admin);
    expect(listed.body.subscriptions.map((sub: { id: string }) => sub.id)).toEqual(expect.arrayContaining([subscriptionId, 'consumer:test-recorder']));
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    // A replay fixture of the dispatcher: retries, timers, dead letters, the replay signal (mid-flight).
    await recordWorkflowHistory(env, dispatcherWorkflowId(subscriptionId), 'events-dispatcher-dead-letters-replayed-running', { running: true });
  } finally {
    await subscriber.close();
  }
});

test('the dispatcher keeps its history bounded: it continues as new with its cursor and delivers everything once', async () => {
  const subscriber = await startSubscriber(SECRET, () => 200);
  try {
    const subscriptions = createSubscriptionService({ pool: env.pool, defaultMaxAttempts: 3 });
    const subscription = await subscriptions.create({ url: subscriber.url, eventTypes: ['*'], secret: SECRET }, 'test:admin');
    const handle = await env.temporal.workflow.start(eventDispatcherWorkflow, {
      workflowId: dispatcherWorkflowId(subscription.id),
      taskQueue: env.taskQueue,
      args: [{ subscriptionId: subscription.id, timing: DELIVERY.timing, maxHistory: 40 }],
    });
    await addSku(env.pool, 'sku_ev_can', 1_000, 10);
    await addMember(env.pool, 'mem_ev_can');
    const orders = [await paidOrder('mem_ev_can', 'sku_ev_can'), await paidOrder('mem_ev_can', 'sku_ev_can')];
    const expected = bySeq((await Promise.all(orders.map((order) => listEvents(env.pool, { orderId: order.orderId })))).flat());
    await eventually(async () => (subscriber.acknowledged().length >= expected.length ? true : undefined), 60_000, 'the events');
    expect(subscriber.acknowledged().map((event) => event.eventId)).toEqual(expected.map((event) => event.eventId));
    const runs = await eventually(async () => {
      const found: string[] = [];
      for await (const run of env.temporal.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) found.push(run.runId);
      return found.length > 1 ? found : undefined;
    }, 30_000, 'a continued-as-new run');
    expect(new Set(runs).size).toBe(runs.length);
    expect((await handle.query(dispatcherStatusQuery)).afterSeq).toBeGreaterThanOrEqual(expected.at(-1)!.seq);
  } finally {
    await subscriber.close();
  }
});

test('a bad subscription is 400 and writes nothing', async () => {
  const before = await env.pool.query('SELECT count(*) AS n FROM events.subscriptions');
  for (const body of [
    { url: 'ftp://example.com/x', eventTypes: ['*'], secret: SECRET },
    { url: 'http://example.com/x', eventTypes: ['order.unknown'], secret: SECRET },
    { url: 'http://example.com/x', eventTypes: ['*'], secret: 'short' },
  ]) {
    const refused = await admin().post('/admin/subscriptions').set('X-API-Key', API_KEYS.admin).send(body);
    expect(refused.status).toBe(400);
  }
  const replay = await admin().post('/admin/subscriptions/sub_none/replay?from=yesterday').set('X-API-Key', API_KEYS.admin);
  expect(replay.status).toBe(400);
  const after = await env.pool.query('SELECT count(*) AS n FROM events.subscriptions');
  expect(after.rows[0].n).toBe(before.rows[0].n);
});

test('/events/schema.json is a valid JSON Schema that real events match, and the OpenAPI document lists every event as a webhook', async () => {
  const served = await request(api.url).get('/events/schema.json');
  expect(served.status).toBe(200);
  expect(served.headers['content-type']).toMatch(/application\/schema\+json/);
  const schema = JSON.parse(served.text);
  const ajv = new Ajv2020({ strict: false });
  const validate = ajv.compile(schema);
  const events = await listEvents(env.pool);
  expect(events.length).toBeGreaterThan(0);
  for (const event of events) expect({ event: event.eventId, valid: validate(event), errors: validate.errors ?? null }).toEqual({ event: event.eventId, valid: true, errors: null });
  expect(validate({ ...events[0], type: 'order.nope' })).toBe(false);
  expect(validate({ ...events[0], data: { ...events[0].data, payableFen: 'lots' } })).toBe(false);

  const openapi = await request(api.url).get('/openapi.json');
  expect(Object.keys(openapi.body.webhooks).sort()).toEqual(Object.keys(schema.$defs).sort());
  expect(Object.keys(openapi.body.webhooks)).toHaveLength(15);
});
