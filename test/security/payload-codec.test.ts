import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createEncryptionCodec } from '../../infra/payload-codec';
import { API_KEYS, customerAuth, staffAuth, testApiSettings } from '../support/api';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type RunningWorker, type TestEnv } from '../support/harness';

/** Payloads in Temporal are AES-256-GCM ciphertext; staff read them through the codec endpoint. */
const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const codec = createEncryptionCodec([k2, k1]);
const UI_ORIGIN = 'http://127.0.0.1:8233';
const SECRET_REASON = 'call me on 13800138000 at Room 1201, 88 Nanjing Road';

let env: TestEnv;
let worker: RunningWorker;
let server: http.Server;
let url: string;

beforeAll(async () => {
  env = await createTestEnv();
  worker = await env.startWorker({ dataConverter: { payloadCodecs: [codec] } });
  const temporal = new Client({ connection: env.temporal.connection, namespace: 'default', dataConverter: { payloadCodecs: [codec] } });
  const app = createApp({
    pool: env.pool,
    temporal,
    settings: { ...testApiSettings(env), codec: { codecs: [codec], corsOrigins: [UI_ORIGIN] } },
    log: () => undefined,
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await addSku(env.pool, 'sku_codec', 1_000, 5);
  await addMember(env.pool, 'mem_codec');
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await worker?.stop();
  await env?.close();
});

test('round trip, key rotation (old key still decrypts), unknown key refused', async () => {
  const payload = defaultPayloadConverter.toPayload({ reason: SECRET_REASON });
  const [encrypted] = await createEncryptionCodec([k1]).encode([payload]);
  expect(Buffer.from(encrypted.data!).toString('latin1')).not.toContain('13800138000');
  expect(Buffer.from(encrypted.metadata!['encryption-key-id']).toString()).toBe('k1');
  expect(defaultPayloadConverter.fromPayload((await codec.decode([encrypted]))[0])).toEqual({ reason: SECRET_REASON });
  const [byNewKey] = await codec.encode([payload]);
  expect(Buffer.from(byNewKey.metadata!['encryption-key-id']).toString()).toBe('k2');
  await expect(createEncryptionCodec([k1]).decode([byNewKey])).rejects.toThrow(/unknown key k2/);
});

test("a cancel reason is ciphertext in the order's history; the codec endpoint decodes it for staff only", async () => {
  const placed = await request(url).post('/orders').set('Authorization', customerAuth('mem_codec')).set('Idempotency-Key', 'codec-order-1').send({ lines: [{ skuId: 'sku_codec', quantity: 1 }] });
  expect(placed.status).toBe(201);
  const cancelled = await request(url).post(`/orders/${placed.body.orderId}/cancel`).set('Authorization', customerAuth('mem_codec')).send({ reason: SECRET_REASON });
  expect(cancelled.status).toBe(200);

  // What the Temporal server stores (and `temporal workflow show` prints): no plaintext.
  const history = await env.temporal.workflow.getHandle(`order-${placed.body.orderId}`).fetchHistory();
  const raw = JSON.stringify(history);
  const payloads = (history.events ?? []).flatMap((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads ?? []);
  expect(payloads.length).toBeGreaterThan(0);
  expect(raw).not.toContain('13800138000');
  expect(Buffer.concat(payloads.map((payload) => Buffer.from(payload.data!))).toString('latin1')).not.toContain('13800138000');

  const body = {
    payloads: payloads.map((payload) => ({
      metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
      data: Buffer.from(payload.data!).toString('base64'),
    })),
  };
  const decoded = await request(url).post('/codec/decode').set('Authorization', staffAuth('support', 'agent_li')).set('Origin', UI_ORIGIN).send(body);
  expect(decoded.status).toBe(200);
  expect(decoded.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  const texts = decoded.body.payloads.map((payload: { data: string }) => Buffer.from(payload.data, 'base64').toString());
  expect(texts.join('\n')).toContain('13800138000');

  expect((await request(url).post('/codec/decode').send(body)).status).toBe(401);
  expect((await request(url).post('/codec/decode').set('Authorization', customerAuth('mem_codec')).send(body)).status).toBe(403);
  expect((await request(url).post('/codec/decode').set('X-API-Key', API_KEYS.carrier).send(body)).status).toBe(403);
  const preflight = await request(url).options('/codec/decode').set('Origin', UI_ORIGIN).set('Access-Control-Request-Method', 'POST');
  expect(preflight.status).toBe(204);
  expect(preflight.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  const otherOrigin = await request(url).options('/codec/decode').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
  expect(otherOrigin.headers['access-control-allow-origin']).toBeUndefined();
});
