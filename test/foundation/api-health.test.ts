import request from 'supertest';
import { Pool } from 'pg';
import { createApp } from '../../api/app';
import { testApiSettings } from '../support/api';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

test('GET /readyz reports PostgreSQL, Temporal and a polling worker', async () => {
  const worker = await env.startWorker();
  try {
    const response = await request(createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env) })).get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.checks).toMatchObject({ postgres: { ok: true }, temporal: { ok: true }, workers: { ok: true } });
    expect(response.body.checks.workers.pollers).toBeGreaterThanOrEqual(1);
  } finally {
    await worker.stop();
  }
});

test('GET /readyz answers 503 naming PostgreSQL when it is unreachable; /healthz (liveness) stays 200', async () => {
  const deadPool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
  deadPool.on('error', () => undefined); // it never holds a connection; a listener all the same
  try {
    const app = createApp({ pool: deadPool, temporal: env.temporal, settings: testApiSettings(env) });
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body.status).toBe('degraded');
    expect(response.body.checks.postgres.ok).toBe(false);
    expect(response.body.checks.postgres.error).toEqual(expect.any(String));
    expect(response.body.checks.temporal.ok).toBe(true);
    const live = await request(app).get('/healthz');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
  } finally {
    await deadPool.end();
  }
});

test('unknown routes and malformed JSON are problem+json, not 500', async () => {
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env) });
  const missing = await request(app).get('/no-such-thing');
  expect(missing.status).toBe(404);
  expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(missing.body).toMatchObject({ status: 404, title: 'Not found' });

  const malformed = await request(app).post('/healthz').set('content-type', 'application/json').send('{"broken":');
  expect(malformed.status).toBe(400);
  expect(malformed.headers['content-type']).toMatch(/^application\/problem\+json/);
});

test('the OpenAPI document and its docs page are served', async () => {
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env) });
  const doc = await request(app).get('/openapi.json');
  expect(doc.status).toBe(200);
  expect(doc.body.openapi).toBe('3.1.0');
  expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
  const page = await request(app).get('/docs');
  expect(page.status).toBe(200);
  expect(page.text).toContain('/openapi.json');
});
