import { eventually as eventuallyAsync } from '../support/api-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import request from 'supertest';
import { createFinanceService, signWebhook, verifyWebhookSignature, type FinanceService } from '../../modules/finance';
import { createSandboxProvider, createSandboxRouter, type SandboxProvider, type WebhookEvent } from '../../modules/finance/sandbox';
import { authenticate, requireRole } from '../../api/auth';
import { API_KEYS, testApiSettings } from '../support/api';
import { createTestEnv, type TestEnv } from '../support/harness';

const SECRET = 'whsec_test_secret';

interface Delivery {
  event: WebhookEvent;
  rawBody: string;
  signature: string;
  receivedAt: number;
  status: number;
}

let env: TestEnv;
let server: Server;
let sandbox: SandboxProvider;
let finance: FinanceService;
const deliveries: Delivery[] = [];
/** Event ids the receiver answers 500 for, as many times as listed. */
const failuresToAnswer: string[] = [];

beforeAll(async () => {
  env = await createTestEnv();
  const receiver = express();
  receiver.post('/payments/webhook', express.raw({ type: '*/*' }), (req, res) => {
    const rawBody = (req.body as Buffer).toString('utf8');
    const event = JSON.parse(rawBody) as WebhookEvent;
    const failIndex = failuresToAnswer.indexOf(event.id);
    const status = failIndex >= 0 ? 500 : 204;
    if (failIndex >= 0) failuresToAnswer.splice(failIndex, 1);
    deliveries.push({ event, rawBody, signature: String(req.header('X-Sandbox-Signature')), receivedAt: Date.now(), status });
    res.status(status).end();
  });
  server = await new Promise<Server>((resolve) => {
    const listening = receiver.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  sandbox = createSandboxProvider({
    pool: env.pool,
    webhook: { url: `http://127.0.0.1:${port}/payments/webhook`, secret: SECRET, baseDelayMs: 50 },
  });
  finance = createFinanceService({ pool: env.pool, provider: sandbox });
});

afterAll(async () => {
  await sandbox.close();
  await new Promise((resolve) => server.close(resolve));
  await env.close();
});

async function eventually<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The sandbox's router as the API mounts it: control endpoints for admins only. */
const sandboxApp = () =>
  express().use(createSandboxRouter(sandbox, { guardControl: [authenticate(testApiSettings(env).auth), requireRole('admin')] }));
const asAdmin = { 'X-API-Key': API_KEYS.admin };

const accepted = (eventId: string) => () => deliveries.find((delivery) => delivery.event.id === eventId && delivery.status === 204);

describe('webhooks', () => {
  test('a payment is announced asynchronously by a signed webhook, after the pay call returned', async () => {
    const app = sandboxApp();
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: 'ord_hook:intent', orderId: 'ord_hook', amountFen: 4_321 });
    await request(app).post('/sandbox/behaviour').set(asAdmin).send({ action: 'delay', orderId: 'ord_hook', delayMs: 300, count: 1 }).expect(201);

    const paidAt = Date.now();
    const paid = await request(app).post(`/sandbox/intents/${intentId}/pay`).expect(200);
    expect(paid.body).toMatchObject({ intentId, status: 'authorized', outcome: 'succeeded' });
    expect(deliveries.find((delivery) => delivery.event.id === paid.body.eventId)).toBeUndefined();

    const delivery = await eventually(accepted(paid.body.eventId));
    expect(delivery.receivedAt - paidAt).toBeGreaterThanOrEqual(290);
    expect(delivery.event).toMatchObject({
      type: 'payment.succeeded',
      data: { orderId: 'ord_hook', intentId, amountFen: 4_321, currency: 'CNY' },
    });
    expect(delivery.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, delivery.signature, delivery.rawBody, 300)).toBe(true);
    // Paying again is a no-op: no second event.
    expect((await request(app).post(`/sandbox/intents/${intentId}/pay`).expect(200)).body.outcome).toBe('already');
  });

  test('verifyWebhookSignature rejects a tampered body, a wrong secret, a stale timestamp and garbage', () => {
    const rawBody = JSON.stringify({ id: 'evt_1', type: 'payment.succeeded', data: { amountFen: 100 } });
    const now = Math.floor(Date.now() / 1000);
    const header = signWebhook(SECRET, rawBody, now);
    expect(verifyWebhookSignature(SECRET, header, rawBody, 300)).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, rawBody.replace('100', '999'), 300)).toBe(false);
    expect(verifyWebhookSignature('whsec_other', header, rawBody, 300)).toBe(false);
    const stale = signWebhook(SECRET, rawBody, now - 301);
    expect(verifyWebhookSignature(SECRET, stale, rawBody, 300)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stale, rawBody, 600)).toBe(true);
    expect(verifyWebhookSignature(SECRET, undefined, rawBody, 300)).toBe(false);
    expect(verifyWebhookSignature(SECRET, 't=abc,v1=zz', rawBody, 300)).toBe(false);
    const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
    expect(verifyWebhookSignature(SECRET, flipped, rawBody, 300)).toBe(false);
  });

  test('a declined payment produces a payment.failed event and leaves the intent payable', async () => {
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: 'ord_decline:intent', orderId: 'ord_decline', amountFen: 999 });
    await sandbox.addBehaviour({ action: 'decline', operation: 'pay', orderId: 'ord_decline', count: 1 });
    const declined = await sandbox.pay(intentId);
    expect(declined.outcome).toBe('failed');
    const delivery = await eventually(accepted(declined.eventId!));
    expect(delivery.event).toMatchObject({ type: 'payment.failed', data: { intentId, orderId: 'ord_decline', failureReason: 'card_declined' } });
    expect(verifyWebhookSignature(SECRET, delivery.signature, delivery.rawBody, 300)).toBe(true);
    expect((await sandbox.getIntent(intentId)).status).toBe('requires_payment');
    expect((await sandbox.pay(intentId)).outcome).toBe('succeeded');
  });

  test('a receiver answering 500 gets the same event again (same id) until it accepts', async () => {
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: 'ord_retry:intent', orderId: 'ord_retry', amountFen: 1_200 });
    await sandbox.addBehaviour({ action: 'delay', orderId: 'ord_retry', delayMs: 100, count: 1 });
    const paid = await sandbox.pay(intentId);
    failuresToAnswer.push(paid.eventId!, paid.eventId!);
    await eventually(accepted(paid.eventId!));
    const attempts = deliveries.filter((delivery) => delivery.event.id === paid.eventId);
    expect(attempts.map((attempt) => attempt.status)).toEqual([500, 500, 204]);
    // Backoff from a 50 ms base: 50 ms, then 100 ms.
    expect(attempts[1].receivedAt - attempts[0].receivedAt).toBeGreaterThanOrEqual(45);
    expect(attempts[2].receivedAt - attempts[1].receivedAt).toBeGreaterThanOrEqual(95);
    // The receiver answered before the sandbox wrote down the delivery: wait for that write.
    const stored = await eventuallyAsync(async () => {
      const rows = await env.pool.query('SELECT attempts, delivered_at IS NOT NULL AS delivered FROM finance_sandbox.webhook_events WHERE id = $1', [paid.eventId]);
      return rows.rows[0]?.delivered ? rows.rows : undefined;
    }, 5_000, 'the delivery to be recorded');
    expect(stored).toEqual([{ attempts: 3, delivered: true }]);
  });

  test('a refund is announced by a refund.succeeded event with the provider refund id', async () => {
    const { intentId } = await finance.createPaymentIntent({ idempotencyKey: 'ord_refund_hook:intent', orderId: 'ord_refund_hook', amountFen: 3_000 });
    await sandbox.pay(intentId);
    await finance.capturePayment({ idempotencyKey: 'ord_refund_hook:capture', orderId: 'ord_refund_hook', intentId });
    const outcome = await finance.refundPayment({ idempotencyKey: 'ord_refund_hook:refund', orderId: 'ord_refund_hook', amountFen: 1_000, reason: 'x' });
    const refundId = outcome.refunds[0].providerRefundId;
    const delivery = await eventually(() =>
      deliveries.find((candidate) => candidate.event.type === 'refund.succeeded' && candidate.event.data.refundId === refundId),
    );
    expect(delivery.event.data).toMatchObject({ intentId, orderId: 'ord_refund_hook', amountFen: 1_000 });
    const ids = deliveries.filter((candidate) => candidate.status === 204).map((candidate) => candidate.event.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('events written by a sandbox without a webhook target are sent by one that has it', async () => {
    const silent = createSandboxProvider({ pool: env.pool });
    const { intentId } = await silent.createPaymentIntent({ idempotencyKey: 'ord_outbox:intent', orderId: 'ord_outbox', amountFen: 50, currency: 'CNY' });
    const paid = await silent.pay(intentId);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(deliveries.find((delivery) => delivery.event.id === paid.eventId)).toBeUndefined();
    expect(await sandbox.deliverPending()).toBeGreaterThanOrEqual(1);
    await eventually(accepted(paid.eventId!));
    await silent.close();
  });
});

describe('sandbox HTTP endpoints', () => {
  test('unknown intents are 404, bad behaviours 400, and the transaction list covers a range', async () => {
    const app = sandboxApp();
    await request(app).post('/sandbox/intents/pi_nope/pay').expect(404);
    // The control endpoints need an admin: anonymous callers are 401, other roles 403, and nothing is scripted.
    await request(app).post('/sandbox/behaviour').send({ action: 'error' }).expect(401);
    await request(app).post('/sandbox/behaviour').set('X-API-Key', API_KEYS.warehouse).send({ action: 'error' }).expect(403);
    await request(app).get('/sandbox/transactions').query({ from: new Date().toISOString(), to: new Date().toISOString() }).expect(401);
    await request(app).delete('/sandbox/behaviour').expect(401);
    expect(Number((await env.pool.query("SELECT count(*) AS n FROM finance_sandbox.behaviours WHERE action = 'error'")).rows[0].n)).toBe(0);
    await request(app).post('/sandbox/behaviour').set(asAdmin).send({ action: 'explode' }).expect(400);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const listed = await request(app).get('/sandbox/transactions').set(asAdmin).query({ from, to }).expect(200);
    expect(listed.body).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'refund', orderId: 'ord_refund_hook', amountFen: 1_000 })]));
    await request(app).delete('/sandbox/behaviour').set(asAdmin).expect(204);
    expect(Number((await env.pool.query('SELECT count(*) AS n FROM finance_sandbox.behaviours')).rows[0].n)).toBe(0);
  });
});

describe('scripting', () => {
  /** The pool, counting the statements that read or consume the sandbox's behaviours (its own and its clients'). */
  function countingBehaviourReads(pool: TestEnv['pool']) {
    const counted = { reads: 0 };
    const count = (query: unknown) => {
      const text = typeof query === 'string' ? query : (query as { text?: string }).text ?? '';
      if (text.includes('finance_sandbox.behaviours')) counted.reads += 1;
    };
    const watch = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(object, property) {
          const value = Reflect.get(object, property, object) as unknown;
          if (property === 'query') return (query: unknown, ...rest: unknown[]) => (count(query), (value as (...args: unknown[]) => unknown).apply(object, [query, ...rest]));
          if (property === 'connect') return async () => watch(await (value as () => Promise<object>).apply(object));
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
        },
      });
    return { pool: watch(pool), counted };
  }

  test('with nothing scripted a call reads the behaviours once; a behaviour added before a call applies to it', async () => {
    await sandbox.clearBehaviours();
    const { pool, counted } = countingBehaviourReads(env.pool);
    const provider = createSandboxProvider({ pool });
    try {
      const intent = await provider.createPaymentIntent({ idempotencyKey: 'ord_script:intent', orderId: 'ord_script', amountFen: 1_000, currency: 'CNY' });
      await provider.pay(intent.intentId);
      await provider.capture({ idempotencyKey: 'ord_script:capture', intentId: intent.intentId, amountFen: 1_000 });
      // createIntent (error before and after), pay (decline, webhook delay), capture (before, after, delay): one read each.
      expect(counted.reads).toBe(3);

      await provider.addBehaviour({ action: 'error', operation: 'refund', phase: 'after', count: 1 });
      counted.reads = 0;
      const refund = provider.refund({ idempotencyKey: 'ord_script:refund', intentId: intent.intentId, amountFen: 400 });
      await expect(refund).rejects.toThrow(/scripted refund failure \(after the effect\)/);
      expect(counted.reads).toBeGreaterThan(1);
      // The refund was made before the lost response: the provider's books have it once.
      expect(await provider.getIntent(intent.intentId)).toMatchObject({ capturedFen: 1_000, refundedFen: 400 });
    } finally {
      await provider.close();
      await sandbox.clearBehaviours();
    }
  });
});
