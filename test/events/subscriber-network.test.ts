import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../infra/config';
import { DEFAULT_EVENT_DELIVERY, eventDeliveryFromConfig } from '../../infra/event-dispatchers';
import { createEventDelivery } from '../../modules/events/delivery';
import { addressAllowed, subscriberNetworkPolicy } from '../../modules/events/subscriber-network';
import { createSubscriptionService } from '../../modules/events/subscriptions';
import { API_KEYS, testApiSettings } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * Webhook subscribers in production may be on public addresses and on the networks ops list
 * (EVENTS_SUBSCRIBER_NETWORKS), never on loopback, private, link-local (cloud metadata) or reserved
 * ranges otherwise: checked when the subscription is created (422, nothing stored) and at each
 * delivery's connection (the event is not sent; the delivery is retried and dead-lettered like any
 * failure, and ops see why).
 */
let env: TestEnv;
let api: TestApi;
let receiver: http.Server;
let received = 0;

beforeAll(async () => {
  env = await createTestEnv();
  receiver = http.createServer((req, res) => {
    received += 1;
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const settings = testApiSettings(env);
  // Production's policy (nothing listed), with the test's http receiver.
  api = await startTestApi(env, undefined, { ...settings, events: { ...DEFAULT_EVENT_DELIVERY, network: subscriberNetworkPolicy([]) } });
});
afterAll(async () => {
  await api?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await env?.close();
});

test('which addresses a subscriber may be on, with and without listed networks', () => {
  const none = subscriberNetworkPolicy([]);
  const refused = ['127.0.0.1', '10.1.2.3', '172.20.0.5', '192.168.1.10', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', '::ffff:127.0.0.1', '::ffff:169.254.169.254', 'fe80::1', 'fd12:3456::1'];
  expect(refused.filter((address) => addressAllowed(none, address))).toEqual([]);
  const publicOnes = ['8.8.8.8', '1.1.1.1', '203.0.114.7', '2606:4700:4700::1111', '::ffff:8.8.4.4'];
  expect(publicOnes.filter((address) => !addressAllowed(none, address))).toEqual([]);
  const intranet = subscriberNetworkPolicy(['10.1.0.0/16', 'fd00::/8']);
  expect(['10.1.2.3', '10.1.255.1', 'fd12:3456::1'].map((address) => addressAllowed(intranet, address))).toEqual([true, true, true]);
  expect(['10.2.0.1', '127.0.0.1', '169.254.169.254'].map((address) => addressAllowed(intranet, address))).toEqual([false, false, false]);
  expect(() => subscriberNetworkPolicy(['10.0.0.0'])).toThrow(/CIDR/);
  expect(() => subscriberNetworkPolicy(['erp.local/24'])).toThrow(/CIDR/);
});

test('creating a subscription to a loopback or metadata address is 422 and stores nothing', async () => {
  const before = await env.pool.query('SELECT count(*)::int AS n FROM events.subscriptions');
  for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:9/hook']) {
    const created = await request(api.url).post('/admin/subscriptions').set('X-API-Key', API_KEYS.admin).send({ url, eventTypes: ['*'], secret: 'a-secret-of-16-chars' });
    expect({ url, status: created.status, type: created.body.type }).toEqual({ url, status: 422, type: 'https://order-engine.dev/problems/subscriber-address-refused' });
  }
  const after = await env.pool.query('SELECT count(*)::int AS n FROM events.subscriptions');
  expect(after.rows[0].n).toBe(before.rows[0].n);
});

test('a delivery connects only where the policy allows, checked as it connects: refused, nothing sent; listed, delivered', async () => {
  const { port } = receiver.address() as AddressInfo;
  const subscriptions = createSubscriptionService({ pool: env.pool, defaultMaxAttempts: 3 });
  // Registered without the API's check (as if the name had resolved elsewhere then).
  const subscription = await subscriptions.create({ url: `http://localhost:${port}/hook`, eventTypes: ['*'], secret: 'a-secret-of-16-chars' }, 'admin:test');
  const eventId = `net-test-${env.id}:placed`;
  const inserted = await env.pool.query<{ seq: string }>(
    `INSERT INTO events.outbox (event_id, type, version, order_id, customer_id, occurred_at, data) VALUES ($1, 'order.placed', 1, 'ord_net', 'mem_net', now(), '{}') RETURNING seq`,
    [eventId],
  );
  const attempt = { subscriptionId: subscription.id, eventId, seq: Number(inserted.rows[0].seq), attempt: 1 };

  const guarded = createEventDelivery({ pool: env.pool, network: subscriberNetworkPolicy([]) });
  const refused = await guarded.deliver(attempt);
  expect(refused.delivered).toBe(false);
  expect(refused.error).toMatch(/not a public address/);
  expect(received).toBe(0);
  const row = await env.pool.query('SELECT status, last_error FROM events.deliveries WHERE subscription_id = $1 AND event_id = $2', [subscription.id, eventId]);
  expect(row.rows[0].status).toBe('RETRYING');
  expect(row.rows[0].last_error).toMatch(/localhost is at (127\.0\.0\.1|::1)/);

  const listed = createEventDelivery({ pool: env.pool, network: subscriberNetworkPolicy(['127.0.0.0/8', '::1/128']) });
  expect((await listed.deliver({ ...attempt, attempt: 2 })).delivered).toBe(true);
  expect(received).toBe(1);
});

test('the policy from the configuration: on in production (public only, plus EVENTS_SUBSCRIBER_NETWORKS), off elsewhere unless networks are listed; a bad network stops the start', () => {
  const development = loadConfig({});
  expect(eventDeliveryFromConfig(development).network).toBeUndefined();
  const production = eventDeliveryFromConfig({ ...development, NODE_ENV: 'production' }).network!;
  expect(['127.0.0.1', '10.20.1.1', '93.184.216.34'].map((address) => addressAllowed(production, address))).toEqual([false, false, true]);
  const intranet = eventDeliveryFromConfig(loadConfig({ EVENTS_SUBSCRIBER_NETWORKS: '10.20.0.0/16, fd00::/8' })).network!;
  expect(['10.20.1.1', '10.21.0.1', 'fd00::5'].map((address) => addressAllowed(intranet, address))).toEqual([true, false, true]);
  expect(() => loadConfig({ EVENTS_SUBSCRIBER_NETWORKS: '10.20.0.0/16,intranet' })).toThrow(ConfigError);
});
