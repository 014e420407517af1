import { ConfigError, loadConfig } from '../../infra/config';
import { createConfiguredEventConsumers } from '../../infra/event-consumers';
import { createTestEnv, type TestEnv } from '../support/harness';

/** NOTIFICATIONS_PROVIDER and EVENTS_NATS_*: validated at start; the sandbox notifier never in production. */
const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app:secret@db.internal:5432/orders',
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  JWT_SECRET: 'a-real-secret-of-the-merchant-123',
  PAYMENT_WEBHOOK_SECRET: 'another-real-secret-456789',
  API_KEYS: 'k8s-warehouse-7f3a=warehouse:wh_sh',
  METRICS_TOKEN: 'a-real-metrics-token-0f3c9a',
  PAYMENT_PROVIDER: 'alipay',
  ALIPAY_APP_ID: '2021000000000001',
  ALIPAY_PRIVATE_KEY: 'private',
  ALIPAY_PUBLIC_KEY: 'public',
};

function issues(env: Record<string, string | undefined>): { variable: string; message: string }[] {
  try {
    loadConfig(env as NodeJS.ProcessEnv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  return [];
}

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

test('production must say how buyers are told: unset and sandbox are refused, disabled is accepted', () => {
  expect(issues(production)).toEqual([{ variable: 'NOTIFICATIONS_PROVIDER', message: expect.stringContaining('required when NODE_ENV=production') }]);
  expect(issues({ ...production, NOTIFICATIONS_PROVIDER: 'sandbox' })).toEqual([
    { variable: 'NOTIFICATIONS_PROVIDER', message: expect.stringContaining('never runs with NODE_ENV=production') },
  ]);
  expect(loadConfig({ ...production, NOTIFICATIONS_PROVIDER: 'disabled' }).NOTIFICATIONS_PROVIDER).toBe('disabled');
  expect(loadConfig({ NODE_ENV: 'development' }).NOTIFICATIONS_PROVIDER).toBe('sandbox');
  expect(issues({ NODE_ENV: 'development', NOTIFICATIONS_PROVIDER: 'carrier-pigeon' }).map((issue) => issue.variable)).toEqual(['NOTIFICATIONS_PROVIDER']);
});

test('EVENTS_NATS_* are checked: a URL that is not nats:// or tls://, a bad stream name or subject prefix names its variable', () => {
  const dev = { NODE_ENV: 'development' };
  expect(loadConfig({ ...dev, EVENTS_NATS_URL: 'nats://user:pw@nats.internal:4222,nats://nats2.internal:4222' }).EVENTS_NATS_URL).toContain('nats2');
  expect(loadConfig(dev)).toMatchObject({ EVENTS_NATS_STREAM: 'ORDER_EVENTS', EVENTS_NATS_SUBJECT_PREFIX: 'orders.events' });
  expect(loadConfig(dev).EVENTS_NATS_URL).toBeUndefined();
  for (const [variable, value] of [
    ['EVENTS_NATS_URL', 'http://nats.internal:4222'],
    ['EVENTS_NATS_URL', 'nats.internal:4222'],
    ['EVENTS_NATS_STREAM', 'orders events'],
    ['EVENTS_NATS_SUBJECT_PREFIX', 'orders..events'],
    ['EVENTS_NATS_SUBJECT_PREFIX', 'orders.>'],
    ['NOTIFICATIONS_SIGN_NAME', '【茶集】'],
  ]) {
    expect(issues({ ...dev, [variable]: value }).map((issue) => issue.variable)).toEqual([variable]);
  }
});

test('the configured consumers: notifications unless disabled, NATS when its URL is set; a forged production config never gets the sandbox', async () => {
  const dev = loadConfig({ NODE_ENV: 'development' });
  const plain = createConfiguredEventConsumers(dev, env.pool);
  expect(plain.consumers.map((consumer) => consumer.name)).toEqual(['notifications']);
  expect(plain.sandboxNotifier?.name).toBe('sandbox');
  await plain.close();

  const natsOnly = createConfiguredEventConsumers(loadConfig({ NODE_ENV: 'development', NOTIFICATIONS_PROVIDER: 'disabled', EVENTS_NATS_URL: 'nats://127.0.0.1:4222' }), env.pool);
  expect(natsOnly.consumers.map((consumer) => consumer.name)).toEqual(['nats']);
  await natsOnly.close();

  const forged = { ...dev, NODE_ENV: 'production' as const };
  expect(() => createConfiguredEventConsumers(forged, env.pool)).toThrow('never used in production');
});
