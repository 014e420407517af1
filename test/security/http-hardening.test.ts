import { createHash } from 'node:crypto';
import { Pool } from 'pg';
import request from 'supertest';
import { createApp } from '../../api/app';
import { consolePage } from '../../api/console';
import { docsPage } from '../../api/openapi';
import { testApiSettings } from '../support/api';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

const scriptHash = (page: string) => `'sha256-${createHash('sha256').update(/<script>([\s\S]*?)<\/script>/.exec(page)![1]).digest('base64')}'`;

test("helmet's headers, with a CSP that runs exactly the docs' and the console's inline scripts", async () => {
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env) });
  for (const path of ['/docs', '/support/console', '/openapi.json']) {
    const response = await request(app).get(path);
    expect(response.status).toBe(200);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    const csp = response.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(scriptHash(docsPage));
    expect(csp).toContain(scriptHash(consolePage));
    expect(csp).not.toContain('unsafe-inline');
  }
});

test('/healthz names the backend that is down without its error text', async () => {
  const deadPool = new Pool({ connectionString: 'postgres://secret_user:secret_pw@127.0.0.1:1/secret_db', connectionTimeoutMillis: 500 });
  const logged: string[] = [];
  try {
    const app = createApp({ pool: deadPool, temporal: env.temporal, settings: testApiSettings(env), log: (line) => logged.push(line) });
    const response = await request(app).get('/healthz');
    expect(response.status).toBe(503);
    expect(response.body.checks.postgres).toEqual({ ok: false, error: 'unreachable' });
    expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|secret/);
    expect(logged.join('\n')).toMatch(/postgres check failed/);
  } finally {
    await deadPool.end();
  }
});

test('bodies over 256 kB are 413 problem+json', async () => {
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env), log: () => undefined });
  const response = await request(app).post('/orders').set('content-type', 'application/json').send(JSON.stringify({ pad: 'x'.repeat(300_000) }));
  expect(response.status).toBe(413);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
});
