import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../../api/app';
import { loadConfig } from '../../infra/config';
import { loadSandboxModule } from '../../infra/dev-tools';
import { createConfiguredPayments } from '../../infra/payments';
import { createAlipayProvider } from '../../modules/finance';
import { createSandboxProvider, type SandboxProvider } from '../../modules/finance/sandbox';
import { API_KEYS, testApiSettings } from '../support/api';
import { createTestEnv, type TestEnv } from '../support/harness';

/** The sandbox is a development tool: its controls need an admin, and production never serves it. */
let env: TestEnv;
let sandbox: SandboxProvider;
beforeAll(async () => {
  env = await createTestEnv();
  sandbox = createSandboxProvider({ pool: env.pool });
});
afterAll(async () => {
  await sandbox.close();
  await env.close();
});

const SANDBOX_PATHS: [method: 'get' | 'post' | 'delete', path: string][] = [
  ['post', '/sandbox/intents/pi_any/pay'],
  ['get', '/sandbox/intents/pi_any'],
  ['post', '/sandbox/behaviour'],
  ['delete', '/sandbox/behaviour'],
  ['get', '/sandbox/transactions'],
];

test('outside production the pay page is open and the control endpoints need the admin role', async () => {
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env), sandbox });
  const intent = await sandbox.createPaymentIntent({ idempotencyKey: 'gate:intent', orderId: 'ord_gate', amountFen: 100, currency: 'CNY' });
  expect((await request(app).get(`/sandbox/intents/${intent.intentId}`)).status).toBe(200);
  expect((await request(app).post(`/sandbox/intents/${intent.intentId}/pay`).send({})).body).toMatchObject({ outcome: 'succeeded' });

  const scripted = { action: 'error', operation: 'refund' };
  const anonymous = await request(app).post('/sandbox/behaviour').send(scripted);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers['content-type']).toMatch(/problem\+json/);
  expect((await request(app).post('/sandbox/behaviour').set('X-API-Key', API_KEYS.support).send(scripted)).status).toBe(403);
  expect((await request(app).get('/sandbox/transactions').query({ from: '2026-01-01', to: '2027-01-01' })).status).toBe(401);
  expect((await request(app).delete('/sandbox/behaviour')).status).toBe(401);
  expect(Number((await env.pool.query('SELECT count(*) AS n FROM finance_sandbox.behaviours')).rows[0].n)).toBe(0);

  expect((await request(app).post('/sandbox/behaviour').set('X-API-Key', API_KEYS.admin).send(scripted)).status).toBe(201);
  expect((await request(app).get('/sandbox/transactions').set('X-API-Key', API_KEYS.admin).query({ from: '2026-01-01', to: '2027-01-01' })).status).toBe(200);
  expect((await request(app).delete('/sandbox/behaviour').set('X-API-Key', API_KEYS.admin)).status).toBe(204);
});

test('in production the sandbox is never served: createApp refuses it, and with a real provider every /sandbox path is 404', async () => {
  const settings = { ...testApiSettings(env), production: true };
  expect(() => createApp({ pool: env.pool, temporal: env.temporal, settings, sandbox })).toThrow('never served in production');

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const alipay = createAlipayProvider({
    appId: '2021000000000002',
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    alipayPublicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    gateway: 'http://127.0.0.1:9/gateway.do',
    notifyUrl: 'http://127.0.0.1:9/payments/alipay/notify',
  });
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings, alipay });
  for (const [method, path] of SANDBOX_PATHS) {
    const response = await request(app)[method](path).set('X-API-Key', API_KEYS.admin).send({ action: 'error' });
    expect([path, response.status]).toEqual([path, 404]);
  }
  expect(Number((await env.pool.query('SELECT count(*) AS n FROM finance_sandbox.behaviours')).rows[0].n)).toBe(0);
});

test('production code reaches the sandbox only through the dev-tools door, which refuses production', () => {
  expect(() => loadSandboxModule({ production: true })).toThrow('not part of the production build');
  expect(loadSandboxModule({ production: false }).createSandboxProvider).toBe(createSandboxProvider);
});

test('the configured payments follow PAYMENT_PROVIDER, and a hand-built production config never gets the sandbox', async () => {
  const development = createConfiguredPayments(loadConfig({ NODE_ENV: 'development' }), env.pool, { sendWebhooks: false });
  expect(development.sandbox).toBeDefined();
  expect(development.alipay).toBeUndefined();
  await development.close();
  const forged = { ...loadConfig({ NODE_ENV: 'development' }), NODE_ENV: 'production' as const };
  expect(() => createConfiguredPayments(forged, env.pool, { sendWebhooks: false })).toThrow('not available with NODE_ENV=production');
});
