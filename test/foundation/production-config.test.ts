import { generateKeyPairSync } from 'node:crypto';
import { DEVELOPMENT_API_KEYS, DEVELOPMENT_JWT_SECRET } from '../../api/settings';
import { ConfigError, loadConfig } from '../../infra/config';
import { API_KEYS, TEST_JWT_SECRET, TEST_WEBHOOK_SECRET } from '../support/api';

/** What production refuses: the sandbox provider, published demo secrets, and a guessed NODE_ENV. */
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const alipay = {
  PAYMENT_PROVIDER: 'alipay',
  ALIPAY_APP_ID: '2021000000000001',
  ALIPAY_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  ALIPAY_PUBLIC_KEY: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
};
const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app:secret@db.internal:5432/orders',
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  JWT_SECRET: 'a-real-secret-of-the-merchant-123',
  PAYMENT_WEBHOOK_SECRET: 'another-real-secret-456789',
  API_KEYS: 'k8s-warehouse-7f3a=warehouse:wh_sh,ops-2c9e=admin:ops_li',
  METRICS_TOKEN: 'a-real-metrics-token-0f3c9a',
  NOTIFICATIONS_PROVIDER: 'disabled',
  JWT_STAFF_SECRET: 'a-real-staff-secret-of-the-merchant-789',
  ...alipay,
};

function refusal(env: Record<string, string | undefined>): { variable: string; message: string }[] {
  try {
    loadConfig(env as NodeJS.ProcessEnv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('the configuration was accepted');
}

test('a production configuration with a real provider and real secrets is accepted', () => {
  const config = loadConfig(production);
  expect(config).toMatchObject({ NODE_ENV: 'production', PAYMENT_PROVIDER: 'alipay', ALIPAY_GATEWAY: 'https://openapi.alipay.com/gateway.do' });
});

test('production refuses the sandbox provider, named or by default, and says why', () => {
  const named = refusal({ ...production, PAYMENT_PROVIDER: 'sandbox' });
  expect(named).toEqual([expect.objectContaining({ variable: 'PAYMENT_PROVIDER', message: expect.stringContaining('never runs with NODE_ENV=production') })]);
  const unset = refusal({ ...production, PAYMENT_PROVIDER: undefined });
  expect(unset).toEqual([expect.objectContaining({ variable: 'PAYMENT_PROVIDER', message: expect.stringContaining('required when NODE_ENV=production') })]);
  let message = '';
  try {
    loadConfig({ ...production, PAYMENT_PROVIDER: 'sandbox' });
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toContain('PAYMENT_PROVIDER: the sandbox takes no money');
});

test.each([
  ['JWT_SECRET', DEVELOPMENT_JWT_SECRET],
  ['JWT_SECRET', TEST_JWT_SECRET],
  ['PAYMENT_WEBHOOK_SECRET', 'sandbox-webhook-secret-change-me'],
  ['PAYMENT_WEBHOOK_SECRET', TEST_WEBHOOK_SECRET],
  ['API_KEYS', DEVELOPMENT_API_KEYS],
  ['API_KEYS', `real-key-123=warehouse:wh_1,${API_KEYS.admin}=admin:ops`],
  ['API_KEYS', 'adm-demo-key=admin:ops'],
])('production refuses the published demo value of %s (%s)', (variable, value) => {
  const issues = refusal({ ...production, [variable]: value });
  expect(issues).toEqual([expect.objectContaining({ variable, message: expect.stringContaining('published demo value') })]);
});

test('production without JWT_SECRET or with the default webhook secret is refused', () => {
  expect(refusal({ ...production, JWT_SECRET: undefined }).map((issue) => issue.variable)).toEqual(['JWT_SECRET']);
  expect(refusal({ ...production, PAYMENT_WEBHOOK_SECRET: undefined }).map((issue) => issue.variable)).toEqual(['PAYMENT_WEBHOOK_SECRET']);
});

test('NODE_ENV unset is development on a bare machine, but must be said next to real servers', () => {
  expect(loadConfig({}).NODE_ENV).toBe('development');
  expect(loadConfig({}).PAYMENT_PROVIDER).toBe('sandbox');
  for (const servers of [{ DATABASE_URL: production.DATABASE_URL }, { TEMPORAL_ADDRESS: production.TEMPORAL_ADDRESS }]) {
    expect(refusal(servers)).toEqual([expect.objectContaining({ variable: 'NODE_ENV', message: expect.stringContaining('set it explicitly') })]);
    expect(loadConfig({ ...servers, NODE_ENV: 'test' }).NODE_ENV).toBe('test');
  }
});

test('alipay needs its app id and both keys, and an https gateway in production', () => {
  const issues = refusal({ PAYMENT_PROVIDER: 'alipay' });
  expect(issues.map((issue) => issue.variable).sort()).toEqual(['ALIPAY_APP_ID', 'ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY']);
  expect(loadConfig({ ...alipay, ALIPAY_GATEWAY: 'http://127.0.0.1:9/gateway.do' }).ALIPAY_GATEWAY).toBe('http://127.0.0.1:9/gateway.do');
  expect(refusal({ ...production, ALIPAY_GATEWAY: 'http://127.0.0.1:9/gateway.do' }).map((issue) => issue.variable)).toEqual(['ALIPAY_GATEWAY']);
});

test('wechatpay needs its merchant, app, keys, serials and a 32-character APIv3 key', () => {
  const issues = refusal({ PAYMENT_PROVIDER: 'wechatpay' });
  expect(issues.map((issue) => issue.variable).sort()).toEqual([
    'WECHATPAY_APIV3_KEY',
    'WECHATPAY_APPID',
    'WECHATPAY_MCHID',
    'WECHATPAY_MERCHANT_SERIAL',
    'WECHATPAY_PLATFORM_PUBLIC_KEY',
    'WECHATPAY_PLATFORM_SERIAL',
    'WECHATPAY_PRIVATE_KEY',
  ]);
  const wechatpay = {
    PAYMENT_PROVIDER: 'wechatpay',
    WECHATPAY_MCHID: '1900000109',
    WECHATPAY_APPID: 'wxd678efh567hg6787',
    WECHATPAY_MERCHANT_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
    WECHATPAY_PRIVATE_KEY_FILE: '/etc/order-engine/apiclient_key.pem',
    WECHATPAY_PLATFORM_SERIAL: 'PUB_KEY_ID_0114232134912410000000000001',
    WECHATPAY_PLATFORM_PUBLIC_KEY_FILE: '/etc/order-engine/wechatpay_public_key.pem',
    WECHATPAY_APIV3_KEY: 'a'.repeat(32),
  };
  expect(loadConfig({ ...production, ...wechatpay }).PAYMENT_PROVIDER).toBe('wechatpay');
  expect(refusal({ ...wechatpay, WECHATPAY_APIV3_KEY: 'short' }).map((issue) => issue.variable)).toEqual(['WECHATPAY_APIV3_KEY']);
});
