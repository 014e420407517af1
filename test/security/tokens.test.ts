import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createApp } from '../../api/app';
import { customerAuth, staffAuth, TEST_JWT_SECRET, TEST_STAFF_JWT_SECRET, testApiSettings } from '../support/api';
import { createTestEnv, type TestEnv } from '../support/harness';

/** Bearer tokens: jose verifies signature, iss, aud, iat and a bounded exp; staff tokens have their own key. */
let env: TestEnv;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  env = await createTestEnv();
  app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env), log: () => undefined });
});
afterAll(() => env.close());

const claims = (overrides: object = {}) => ({ sub: 'agent_1', role: 'support', iss: 'order-engine', aud: 'order-engine-api', ...overrides });
const now = () => Math.floor(Date.now() / 1000);
const sign = (payload: object, secret = TEST_STAFF_JWT_SECRET, options: jwt.SignOptions = { expiresIn: 600 }) =>
  `Bearer ${jwt.sign(payload, secret, { algorithm: 'HS256', ...options })}`;

test('staff and customer tokens from the test helpers are accepted', async () => {
  expect((await request(app).get('/support/refunds').set('Authorization', staffAuth('support', 'agent_1'))).status).toBe(200);
  expect((await request(app).get('/orders?customerId=mem_x').set('Authorization', customerAuth('mem_x'))).status).toBe(200);
});

test.each([
  ['no exp', sign(claims(), TEST_STAFF_JWT_SECRET, {}), ],
  ['exp far beyond the longest lifetime', sign(claims(), TEST_STAFF_JWT_SECRET, { expiresIn: 30 * 86_400 })],
  ['expired', sign(claims({ iat: now() - 7_200, exp: now() - 3_600 }), TEST_STAFF_JWT_SECRET, {})],
  ['no iat', sign(claims({ exp: now() + 600 }), TEST_STAFF_JWT_SECRET, { noTimestamp: true })],
  ['another issuer', sign(claims({ iss: 'someone-else' }))],
  ['another audience', sign(claims({ aud: 'another-api' }))],
  ['a staff role signed with the customer key', sign(claims({ role: 'admin' }), TEST_JWT_SECRET)],
  ['a customer signed with the staff key', sign(claims({ role: 'customer', sub: 'mem_x' }))],
  ['alg none', `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims(), iat: now(), exp: now() + 60 })).toString('base64url')}.`],
  ['a subject that is no id', sign(claims({ sub: 'agent 1; DROP TABLE' }))],
  ['a subject of 8,000 characters', sign(claims({ sub: 'a'.repeat(8_000) }))],
  ['an unknown role', sign(claims({ role: 'root' }))],
  ['a warehouse token without warehouses', sign(claims({ role: 'warehouse' }))],
  ['not a JWT', 'Bearer abc.def'],
])('a token with %s → 401 "invalid token" and nothing more', async (_name, authorization) => {
  const response = await request(app).get('/support/refunds').set('Authorization', authorization);
  expect(response.status).toBe(401);
  expect(response.body.detail).toBe('invalid token');
});

test('an unknown API key → 401 "invalid token"', async () => {
  const response = await request(app).get('/support/refunds').set('X-API-Key', 'guess');
  expect(response.status).toBe(401);
  expect(response.body.detail).toBe('invalid token');
});
