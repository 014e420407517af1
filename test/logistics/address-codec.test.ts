import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createEncryptionCodec } from '../../infra/payload-codec';
import { customerAuth, testApiSettings } from '../support/api';
import { addMember, addSku, TEST_ADDRESS } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * The shipping address is personal data: with the payload codec on, no history event of the order
 * carries it in plain text (placement input, the change-address update, activity inputs), nor do its
 * search attributes; the codec decodes it back for staff.
 */
const codec = createEncryptionCodec([{ id: 'k1', key: randomBytes(32) }]);
const ADDRESS = { ...TEST_ADDRESS, recipient: '王小明', mobile: '+447911123456', street: '长乐路 777 弄 9 号' };
const CHANGED = { ...ADDRESS, mobile: '13700001111', street: '淮海中路 999 号' };

let env: TestEnv;
let server: http.Server;
let url: string;
let temporal: Client;

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker({ dataConverter: { payloadCodecs: [codec] } });
  temporal = new Client({ connection: env.temporal.connection, namespace: 'default', dataConverter: { payloadCodecs: [codec] } });
  server = http.createServer(createApp({ pool: env.pool, temporal, settings: testApiSettings(env) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await addSku(env.pool, 'sku_pii', 1_000, 5);
  await addMember(env.pool, 'mem_pii');
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await env?.close();
});

/** Every payload anywhere in a history (inputs, results, memo, search attributes). */
function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (!value || typeof value !== 'object') return found;
  if (ArrayBuffer.isView(value)) return found;
  const record = value as Record<string, unknown>;
  if ('data' in record && 'metadata' in record && ArrayBuffer.isView(record.data)) found.push(record as Payload);
  for (const inner of Object.values(record)) payloadsIn(inner, found);
  return found;
}

test('with the codec on, the address is in no history event in plain text; the codec gives it back', async () => {
  const placed = await request(url).post('/orders').set('Authorization', customerAuth('mem_pii')).set('Idempotency-Key', 'pii-order-1')
    .send({ lines: [{ skuId: 'sku_pii', quantity: 1 }], shippingAddress: ADDRESS });
  expect(placed.status).toBe(201);
  const changed = await request(url).post(`/orders/${placed.body.orderId}/address`).set('Authorization', customerAuth('mem_pii')).send({ address: CHANGED });
  expect(changed.status).toBe(200);

  const history = await env.temporal.workflow.getHandle(`order-${placed.body.orderId}`).fetchHistory();
  const payloads = payloadsIn(history);
  expect(payloads.length).toBeGreaterThan(5);
  const bytes = Buffer.concat(payloads.map((payload) => Buffer.from(payload.data!)));
  for (const secret of [ADDRESS.mobile, ADDRESS.street, ADDRESS.recipient, CHANGED.mobile, CHANGED.street]) {
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
  }
  // The same payloads decoded: the address was there, encrypted.
  const decoded = Buffer.concat(
    (await codec.decode(payloads.filter((payload) => payload.metadata?.['encryption-key-id']))).map((payload) => Buffer.from(payload.data!)),
  );
  expect(decoded.includes(Buffer.from(ADDRESS.street))).toBe(true);
  expect(decoded.includes(Buffer.from(CHANGED.street))).toBe(true);
  // Search attributes (never encrypted) hold none of it.
  const description = await temporal.workflow.getHandle(`order-${placed.body.orderId}`).describe();
  const attributes = JSON.stringify(description.typedSearchAttributes);
  expect(attributes).toContain('app');
  for (const secret of [ADDRESS.mobile, ADDRESS.street, CHANGED.street]) expect(attributes).not.toContain(secret);
});
