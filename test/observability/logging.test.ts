import request from 'supertest';
import { createApp } from '../../api/app';
import { customerAuth, testApiSettings } from '../support/api';
import { createTestEnv, type TestEnv } from '../support/harness';
import { temporalLogger } from '../../infra/temporal-logger';
import { capturedLogger } from './support';

/** Structured logs: a request's id in its response, its problem body and its log lines; redaction. */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

test("the caller's X-Request-Id is echoed, put in the problem body and on the request's log line", async () => {
  const { logger, line: logLine } = capturedLogger();
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env), logger });
  const response = await request(app).get('/orders/ord_nope').set('Authorization', customerAuth('mem_x')).set('X-Request-Id', 'req-abc.123');
  expect(response.status).toBe(404);
  expect(response.headers['x-request-id']).toBe('req-abc.123');
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status: 404, requestId: 'req-abc.123' });

  const line = await logLine((entry) => entry.requestId === 'req-abc.123');
  expect(line).toMatchObject({ msg: 'request completed', level: 30, res: { statusCode: 404 }, req: { id: 'req-abc.123' } });
  expect((line!.req as { url: string }).url).toBe('/orders/ord_nope');
});

test('a missing or malformed X-Request-Id is replaced by a fresh one, the same in header, body and log', async () => {
  const { logger, lines, line } = capturedLogger();
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env), logger });
  const response = await request(app).post('/orders').set('X-Request-Id', 'not ok <script>').send({});
  expect(response.status).toBe(401);
  const id = response.headers['x-request-id'];
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.body.requestId).toBe(id);
  await line((entry) => entry.requestId === id);
  expect(lines().filter((entry) => entry.requestId === id)).toHaveLength(1);
});

test('an unhandled error is logged with its stack under the request id; the client sees only a 500 problem', async () => {
  const { logger, line } = capturedLogger();
  // A pool that fails the way a broken database does: the handler's first query throws.
  const brokenPool = { query: () => Promise.reject(new Error('connection reset by peer')) } as unknown as TestEnv['pool'];
  const app = createApp({ pool: brokenPool, temporal: env.temporal, settings: testApiSettings(env), logger });
  const response = await request(app).get('/orders?customerId=mem_x').set('Authorization', customerAuth('mem_x')).set('X-Request-Id', 'req-500');
  expect(response.status).toBe(500);
  expect(response.body).toMatchObject({ status: 500, requestId: 'req-500' });
  expect(JSON.stringify(response.body)).not.toContain('connection reset');
  const errorLine = await line((entry) => entry.requestId === 'req-500' && entry.level === 50 && typeof entry.err === 'object');
  expect((errorLine!.err as { message: string; stack: string }).message).toBe('connection reset by peer');
  expect((errorLine!.err as { stack: string }).stack).toContain('Error: connection reset by peer');
});

test('secrets and personal data never reach a line: no request headers, known keys and nested keys redacted', async () => {
  const { logger, lines, line } = capturedLogger();
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env), logger });
  const token = customerAuth('mem_secret');
  await request(app).get('/orders/ord_nope').set('Authorization', token).set('X-API-Key', 'key-should-not-leak').set('X-Request-Id', 'req-redact');
  await line((entry) => entry.requestId === 'req-redact');
  logger.info(
    {
      password: 'hunter2-password',
      member: { phone: '13800138000', email: 'a@example.com', name: 'kept' },
      provider: { config: { privateKey: '-----BEGIN PRIVATE KEY-----' } },
      databaseUrl: 'postgres://u:pw@db/x',
    },
    'configuration loaded',
  );
  const text = JSON.stringify(lines());
  for (const secret of [token.slice(7), 'key-should-not-leak', 'hunter2-password', '13800138000', 'a@example.com', 'BEGIN PRIVATE KEY', 'u:pw@db']) {
    expect(text).not.toContain(secret);
  }
  // The request's line names it (method, URL, caller, agent) without its headers: no credential is on it, redacted or not.
  const requestLine = lines().find((entry) => entry.requestId === 'req-redact')!;
  expect(requestLine.req).toEqual({ id: 'req-redact', method: 'GET', url: '/orders/ord_nope', remoteAddress: expect.any(String), userAgent: undefined });
  expect(requestLine.res).toEqual({ statusCode: 401 }); // a token and an API key at once: refused
  const configLine = lines().find((entry) => entry.msg === 'configuration loaded')!;
  expect(configLine).toMatchObject({ password: '[redacted]', databaseUrl: '[redacted]', member: { phone: '[redacted]', email: '[redacted]', name: 'kept' } });
  expect(configLine.provider).toEqual({ config: { privateKey: '[redacted]' } });
});

test('workflow and activity log lines reach pino with their Temporal context', async () => {

  const { logger, lines } = capturedLogger('debug');
  const adapter = temporalLogger(logger);
  adapter.info('compensating', { sdkComponent: 'workflow', workflowId: 'order-ord_1', runId: 'run-1', workflowType: 'standardOrderWorkflow', step: 'release stock' });
  adapter.warn('Activity failed', { sdkComponent: 'activity', activityType: 'reserveStock', attempt: 3, workflowId: 'order-ord_1', taskToken: 'CiQwMWEy' });
  adapter.info('Workflow bundle created', { sdkComponent: 'worker', taskQueue: 'orders' });
  adapter.trace('below the level', {});
  expect(lines()).toEqual([
    expect.objectContaining({ level: 30, msg: 'compensating', workflowId: 'order-ord_1', runId: 'run-1', step: 'release stock' }),
    expect.objectContaining({ level: 40, msg: 'Activity failed', activityType: 'reserveStock', attempt: 3, taskToken: '[redacted]' }),
    // The SDK's own chatter is debug.
    expect.objectContaining({ level: 20, msg: 'Workflow bundle created' }),
  ]);
});
