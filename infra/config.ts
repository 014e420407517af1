import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { subscriberNetworkPolicy } from '../modules/events/subscriber-network';

/**
 * Every setting of the engine comes from the environment and is validated here, once, at start.
 * A bad value stops the process with a message naming the variable, never a crash later on.
 * `.env.example` lists the same variables with their defaults; keep both in step.
 */

/** Durations are written as `<number><unit>` (ms, s, m, h, d) and held in milliseconds. */
export const durationSchema = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 500ms, 30s, 30m, 48h or 7d')
  .transform(parseDuration);

/** What is wrong with a comma-separated list of CIDRs, if anything. */
function cidrListError(list: string): string | undefined {
  try {
    subscriberNetworkPolicy(list.split(',').map((cidr) => cidr.trim()).filter(Boolean));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text}`);
  const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unitMs;
}

const port = z.coerce.number().int().min(1).max(65535);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
export const PAYMENT_PROVIDERS = ['sandbox', 'alipay', 'wechatpay'] as const;
export type PaymentProviderName = (typeof PAYMENT_PROVIDERS)[number];
/** Who tells buyers: the sandbox (records only; never in production) or nobody. A real adapter joins this list. */
export const NOTIFICATIONS_PROVIDERS = ['sandbox', 'disabled'] as const;
export type NotificationsProviderName = (typeof NOTIFICATIONS_PROVIDERS)[number];

/**
 * Secrets this repository publishes (development defaults, README and .env.example examples, test
 * values): anyone can read them, so production refuses every one of them.
 */
export const DEMO_SECRET_VALUES: readonly string[] = [
  'development-only-jwt-secret',
  'sandbox-webhook-secret-change-me',
  'dev-warehouse-key',
  'dev-support-key',
  'dev-admin-key',
  'wh-demo-key',
  'sup-demo-key',
  'adm-demo-key',
  'test-jwt-secret-0123456789',
  'test-webhook-secret-0123456789',
  'test-warehouse-key',
  'test-support-key',
  'test-admin-key',
];

const baseSchema = z.object({
  /** Unset means development, unless DATABASE_URL or TEMPORAL_ADDRESS point at real servers (see resolveNodeEnv). */
  NODE_ENV: z.enum(NODE_ENVS).optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Log lines as JSON (default in production) or pretty for a terminal (default otherwise). */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  DATA_DIR: z.string().default('.data'),

  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'expected postgres://user:password@host:port/database' })
    .optional(),
  EMBEDDED_PG_PORT: port.default(54329),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),

  TEMPORAL_ADDRESS: optionalText.pipe(
    z
      .string()
      .regex(/^[^\s:]+:\d+$/, 'expected host:port, e.g. temporal.internal:7233')
      .optional(),
  ),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_TLS: booleanFlag.default(false),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_BINARY: optionalText,
  TASK_QUEUE: z.string().min(1).default('orders'),
  /** A prebuilt workflow bundle (bundleWorkflowCode's output) for the worker; unset: bundled at start. */
  WORKFLOW_BUNDLE: optionalText,

  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Public base URL of this API, used for the payment provider's webhook target. */
  PUBLIC_BASE_URL: optionalText.pipe(z.url().optional()),

  /** HS256 secret of customer bearer tokens (JWT with `sub`, `role`, iss, aud, iat, exp). Required in production. */
  JWT_SECRET: optionalText.pipe(z.string().min(16, 'use at least 16 characters').optional()),
  /** HS256 secret of staff tokens (warehouse, carrier, support, finance, admin); must differ from JWT_SECRET. */
  JWT_STAFF_SECRET: optionalText.pipe(z.string().min(16, 'use at least 16 characters').optional()),
  /** Or: the JWKS of an identity provider that signs staff tokens (RS256, ES256, EdDSA). */
  JWT_STAFF_JWKS_URL: optionalText.pipe(z.url().optional()),
  JWT_ISSUER: z.string().min(1).default('order-engine'),
  JWT_AUDIENCE: z.string().min(1).default('order-engine-api'),
  /** Longest lifetime (exp − iat) a bearer token may have; longer ones are refused. */
  JWT_MAX_LIFETIME: durationSchema.default(parseDuration('24h')),
  /**
   * Static API keys: `key=role:subject` entries separated by commas (customer, warehouse, carrier,
   * support, finance, admin). A warehouse key names its warehouses: `key=warehouse:team@wh_a+wh_b` (`@*`: all).
   */
  API_KEYS: optionalText.pipe(
    z
      .string()
      .regex(
        /^[^=,\s]+=(customer|warehouse|carrier|support|finance|admin|merchant):[^,\s]+(,[^=,\s]+=(customer|warehouse|carrier|support|finance|admin|merchant):[^,\s]+)*$/,
        'expected key=role:subject[,key=role:subject...] with role customer, warehouse, carrier, support, finance, admin or merchant',
      )
      .optional(),
  ),
  /**
   * AES-256-GCM keys of the Temporal payload codec, `keyId:base64(32 bytes)` comma separated, the first
   * encrypts (rotation: add the new key first, keep the old ones). Unset: payloads are not encrypted.
   */
  PAYLOAD_CODEC_KEYS: optionalText.pipe(z.string().regex(/^[\w.-]+:[A-Za-z0-9+/]{43}=(,[\w.-]+:[A-Za-z0-9+/]{43}=)*$/, 'expected keyId:base64-of-32-bytes[,...]').optional()),
  /** Origins allowed to call the codec endpoints (the Temporal UI). */
  CODEC_CORS_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),
  /** Abuse limits: requests per minute per client IP, order placements per minute per principal, unpaid orders per customer. */
  RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(1200),
  RATE_LIMIT_PLACEMENTS: z.coerce.number().int().min(1).default(20),
  UNPAID_ORDERS_CAP: z.coerce.number().int().min(1).default(5),
  /** Idempotency-Key rows are deleted after this. */
  IDEMPOTENCY_KEY_TTL: durationSchema.default(parseDuration('24h')),
  /** Shared secret of the payment provider's webhook signatures (HMAC-SHA256). */
  PAYMENT_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').default('sandbox-webhook-secret-change-me'),
  /** Who takes the money: sandbox (development and test only), alipay or wechatpay. Required in production. */
  PAYMENT_PROVIDER: z.enum(PAYMENT_PROVIDERS).optional(),
  /** Alipay (open platform app, RSA2 keys): keys as PEM text or base64 body, or as files (the *_FILE variables). */
  ALIPAY_APP_ID: optionalText,
  ALIPAY_PRIVATE_KEY: optionalText,
  ALIPAY_PRIVATE_KEY_FILE: optionalText,
  ALIPAY_PUBLIC_KEY: optionalText,
  ALIPAY_PUBLIC_KEY_FILE: optionalText,
  ALIPAY_GATEWAY: z.url().default('https://openapi.alipay.com/gateway.do'),
  /** Where Alipay posts its asynchronous notifications; unset = <PUBLIC_BASE_URL>/payments/alipay/notify. */
  ALIPAY_NOTIFY_URL: optionalText.pipe(z.url().optional()),

  /** The store's time zone: report days (销售日报...) run from local midnight to midnight. */
  STORE_TIMEZONE: z
    .string()
    .default('Asia/Shanghai')
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en-CA', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'expected an IANA time zone such as Asia/Shanghai'),
  /** Report roll-ups (Temporal Schedules): how often today is rolled up; the daily close runs at this local time. */
  REPORTS_ROLLUP_INTERVAL: durationSchema.default(parseDuration('1h')),
  REPORTS_DAILY_CLOSE_AT: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').default('00:30'),

  /** Standard order timings (domain-rules.md); tests shorten them to seconds. */
  PAYMENT_TIMEOUT: durationSchema.default(parseDuration('30m')),
  DELIVERY_AUTO_CONFIRM: durationSchema.default(parseDuration('10d')),
  AFTER_SALES_WINDOW: durationSchema.default(parseDuration('7d')),
  /** After-sales: no agent decision within this → auto-approved; a return must be shipped back within this. */
  REFUND_DECISION_TIMEOUT: durationSchema.default(parseDuration('48h')),
  RETURN_SHIPMENT_WINDOW: durationSchema.default(parseDuration('7d')),
  /** Flash-sale orders: payment timeout, and how often the API starts workflows for admissions left without one. */
  FLASH_SALE_PAYMENT_TIMEOUT: durationSchema.default(parseDuration('5m')),
  FLASH_SALE_SWEEP_INTERVAL: durationSchema.default(parseDuration('5s')),
  /** WeChat Pay APIv3 (merchant id, app id, merchant key and its certificate serial, platform key, APIv3 key). */
  WECHATPAY_MCHID: optionalText,
  WECHATPAY_APPID: optionalText,
  WECHATPAY_MERCHANT_SERIAL: optionalText,
  WECHATPAY_PRIVATE_KEY: optionalText,
  WECHATPAY_PRIVATE_KEY_FILE: optionalText,
  WECHATPAY_PLATFORM_SERIAL: optionalText,
  WECHATPAY_PLATFORM_PUBLIC_KEY: optionalText,
  WECHATPAY_PLATFORM_PUBLIC_KEY_FILE: optionalText,
  WECHATPAY_APIV3_KEY: optionalText.pipe(z.string().length(32, 'the APIv3 key has 32 characters').optional()),
  WECHATPAY_BASE_URL: z.url().default('https://api.mch.weixin.qq.com/'),
  /** Where WeChat Pay posts notifications; unset = <PUBLIC_BASE_URL>/payments/wechatpay/notify. */
  WECHATPAY_NOTIFY_URL: optionalText.pipe(z.url().optional()),
  /** Daily reconciliation (a Temporal Schedule): when it runs (cron, UTC) and which day it checks. */
  RECONCILIATION_CRON: z
    .string()
    .trim()
    .regex(/^\S+( \S+){4}$/, 'expected a cron expression with five fields, e.g. "0 3 * * *"')
    .default('0 3 * * *'),
  RECONCILIATION_DAYS_BACK: z.coerce.number().int().min(0).max(30).default(1),
  /** Group-buy: payment timeout of a member's order (the formation window is the campaign's). */
  GROUP_BUY_PAYMENT_TIMEOUT: durationSchema.default(parseDuration('15m')),
  /** Event delivery (modules/events): idle poll of a dispatcher, retry backoff, attempts before a dead letter. */
  EVENTS_DISPATCH_POLL: durationSchema.default(parseDuration('2s')),
  EVENTS_RETRY_INITIAL: durationSchema.default(parseDuration('1s')),
  EVENTS_RETRY_MAX: durationSchema.default(parseDuration('10m')),
  EVENTS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  /**
   * Networks (CIDRs, comma separated) webhook subscribers may be on besides public addresses, e.g. the
   * intranet of the merchant's ERP. Enforced in production (and wherever it is set); see subscriber-network.ts.
   */
  EVENTS_SUBSCRIBER_NETWORKS: z
    .string()
    .superRefine((list, ctx) => {
      const error = cidrListError(list);
      if (error) ctx.addIssue({ code: 'custom', message: error });
    })
    .optional(),

  /** Buyer notifications (modules/notifications): sandbox outside production by default; required in production. */
  NOTIFICATIONS_PROVIDER: z.enum(NOTIFICATIONS_PROVIDERS).optional(),
  /** The store's name in buyer messages: the SMS signature (【签名】) and the email's closing line. */
  NOTIFICATIONS_SIGN_NAME: z.string().trim().min(1).max(20).refine((name) => !/[\u0000\p{Cs}【】]/u.test(name), 'no NUL, lone surrogates or 【】').default('订单中心'),
  /** Publish every event to NATS JetStream (modules/events/nats.ts) when set: nats://[user:pass@]host:4222 or tls://... */
  EVENTS_NATS_URL: optionalText.pipe(
    z
      .string()
      .refine((value) => value.split(',').every(isNatsUrl), 'expected nats://host:port or tls://host:port (comma separated for several servers)')
      .optional(),
  ),
  /** The JetStream stream (created when missing) and the subject prefix: events go to <prefix>.<type>. */
  EVENTS_NATS_STREAM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a stream name of letters, digits, _ and -').default('ORDER_EVENTS'),
  EVENTS_NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected dot-separated tokens of letters, digits, _ and -, e.g. orders.events')
    .default('orders.events'),

  /** Bearer token Prometheus sends to the API's GET /metrics. Required in production. */
  METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'use at least 16 characters').optional()),
  /** A worker's endpoints: the SDK's Prometheus metrics, and its own health + business metrics (0 = off). */
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  /** Workflows a worker keeps in memory between their tasks (an evicted one is replayed on its next task): bounds its RSS. */
  // 500: ~0.6 MB per cached order workflow; 500 keep a worker under 1 GB (BENCHMARKS.md, "In flight").
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).default(500),
  /**
   * Threads that run workflow code in a worker process (the SDK's workflowThreadPoolSize, 1 by
   * default with its reusable context). Two measured no faster than one on 2 cores, with 40-70 MB
   * more RSS (BENCHMARKS.md, session 13); for workers with more cores.
   */
  WORKER_WORKFLOW_THREADS: z.coerce.number().int().min(1).max(16).default(1),
  /**
   * The Temporal UI's workflow stack traces (the SDK's `__stack_trace` query): `on` to look at where
   * runs wait, at the cost of a source-mapped stack per promise; off by default (workers/workflow-stack-traces.ts).
   */
  WORKFLOW_STACK_TRACES: z.enum(['on', 'off']).default('off'),
  /** Traces are exported by OTLP/HTTP when this is set (e.g. http://otel-collector:4318). */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.pipe(z.url().optional()),
  OTEL_SERVICE_NAME: optionalText,
});

export const configSchema = baseSchema;

/**
 * Rules across variables, checked once every variable is valid on its own: what production refuses
 * (the sandbox, published demo secrets), what each provider needs, and when NODE_ENV must be said.
 */
function crossIssues(config: z.infer<typeof baseSchema>): { variable: string; message: string }[] {
  const issues: { variable: string; message: string }[] = [];
  const problem = (variable: string, message: string) => issues.push({ variable, message });
  const nodeEnv = resolveNodeEnv(config);
  if (!nodeEnv) {
    problem('NODE_ENV', 'set it explicitly (development, test or production): DATABASE_URL or TEMPORAL_ADDRESS point at real servers');
    return issues;
  }
  const provider = config.PAYMENT_PROVIDER ?? (nodeEnv === 'production' ? undefined : 'sandbox');
  if (config.JWT_STAFF_SECRET && config.JWT_STAFF_SECRET === config.JWT_SECRET) {
    problem('JWT_STAFF_SECRET', 'must differ from JWT_SECRET (a customer key must never sign staff tokens)');
  }
  if (nodeEnv === 'production') {
    if (!config.JWT_SECRET) problem('JWT_SECRET', 'required when NODE_ENV=production');
    if (!config.METRICS_TOKEN) problem('METRICS_TOKEN', 'required when NODE_ENV=production (GET /metrics is not public)');
    if (!provider) problem('PAYMENT_PROVIDER', 'required when NODE_ENV=production (alipay or wechatpay)');
    if (provider === 'sandbox') {
      problem('PAYMENT_PROVIDER', 'the sandbox takes no money and lets anyone mark orders paid: it never runs with NODE_ENV=production');
    }
    if (!config.NOTIFICATIONS_PROVIDER) {
      problem('NOTIFICATIONS_PROVIDER', 'required when NODE_ENV=production: no real notification provider is built in yet, set disabled to run without buyer notifications');
    } else if (config.NOTIFICATIONS_PROVIDER === 'sandbox') {
      problem('NOTIFICATIONS_PROVIDER', 'the sandbox notifier tells no buyer anything: it never runs with NODE_ENV=production (set disabled)');
    }
    for (const variable of ['JWT_SECRET', 'PAYMENT_WEBHOOK_SECRET', 'API_KEYS'] as const) {
      const demo = demoSecretIn(config[variable]);
      if (demo) problem(variable, `uses the published demo value "${demo}": set a real secret when NODE_ENV=production`);
    }
  }
  if (provider === 'alipay') {
    if (!config.ALIPAY_APP_ID) problem('ALIPAY_APP_ID', 'required when PAYMENT_PROVIDER=alipay');
    if (!config.ALIPAY_PRIVATE_KEY && !config.ALIPAY_PRIVATE_KEY_FILE) problem('ALIPAY_PRIVATE_KEY', 'required (or ALIPAY_PRIVATE_KEY_FILE) when PAYMENT_PROVIDER=alipay');
    if (!config.ALIPAY_PUBLIC_KEY && !config.ALIPAY_PUBLIC_KEY_FILE) problem('ALIPAY_PUBLIC_KEY', 'required (or ALIPAY_PUBLIC_KEY_FILE) when PAYMENT_PROVIDER=alipay');
    if (nodeEnv === 'production' && !config.ALIPAY_GATEWAY.startsWith('https://')) problem('ALIPAY_GATEWAY', 'must be https when NODE_ENV=production');
  }
  if (provider === 'wechatpay') {
    for (const variable of ['WECHATPAY_MCHID', 'WECHATPAY_APPID', 'WECHATPAY_MERCHANT_SERIAL', 'WECHATPAY_PLATFORM_SERIAL', 'WECHATPAY_APIV3_KEY'] as const) {
      if (!config[variable]) problem(variable, 'required when PAYMENT_PROVIDER=wechatpay');
    }
    if (!config.WECHATPAY_PRIVATE_KEY && !config.WECHATPAY_PRIVATE_KEY_FILE) problem('WECHATPAY_PRIVATE_KEY', 'required (or WECHATPAY_PRIVATE_KEY_FILE) when PAYMENT_PROVIDER=wechatpay');
    if (!config.WECHATPAY_PLATFORM_PUBLIC_KEY && !config.WECHATPAY_PLATFORM_PUBLIC_KEY_FILE) {
      problem('WECHATPAY_PLATFORM_PUBLIC_KEY', 'required (or WECHATPAY_PLATFORM_PUBLIC_KEY_FILE) when PAYMENT_PROVIDER=wechatpay');
    }
    if (nodeEnv === 'production' && !config.WECHATPAY_BASE_URL.startsWith('https://')) problem('WECHATPAY_BASE_URL', 'must be https when NODE_ENV=production');
  }
  return issues;
}

function isNatsUrl(text: string): boolean {
  try {
    const url = new URL(text.trim());
    return (url.protocol === 'nats:' || url.protocol === 'tls:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Unset NODE_ENV means development only on a bare machine; next to real servers it must be said. */
export function resolveNodeEnv(config: { NODE_ENV?: NodeEnv; DATABASE_URL?: string; TEMPORAL_ADDRESS?: string }): NodeEnv | undefined {
  if (config.NODE_ENV) return config.NODE_ENV;
  return config.DATABASE_URL || config.TEMPORAL_ADDRESS ? undefined : 'development';
}

function demoSecretIn(value: string | undefined): string | undefined {
  if (!value) return undefined;
  // API_KEYS holds several `key=role:subject` entries: each key counts.
  const parts = [value, ...value.split(',').map((entry) => entry.split('=')[0])];
  return DEMO_SECRET_VALUES.find((demo) => parts.includes(demo));
}

export type Config = Omit<z.infer<typeof configSchema>, 'NODE_ENV' | 'PAYMENT_PROVIDER' | 'NOTIFICATIONS_PROVIDER'> & {
  NODE_ENV: NodeEnv;
  PAYMENT_PROVIDER: PaymentProviderName;
  NOTIFICATIONS_PROVIDER: NotificationsProviderName;
};

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' +
        issues.map((issue) => `  ${issue.variable}: ${issue.message}`).join('\n') +
        '\nSee .env.example for every variable and its default.',
    );
    this.name = 'ConfigError';
  }
}

/** Parses an environment (process.env by default) into a typed config, or throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "not set": a `.env` line like `DATABASE_URL=` must not become an invalid URL.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '?'), message: issue.message })),
    );
  }
  const issues = crossIssues(parsed.data);
  if (issues.length > 0) throw new ConfigError(issues);
  const nodeEnv = resolveNodeEnv(parsed.data)!;
  return {
    ...parsed.data,
    NODE_ENV: nodeEnv,
    PAYMENT_PROVIDER: parsed.data.PAYMENT_PROVIDER ?? 'sandbox',
    NOTIFICATIONS_PROVIDER: parsed.data.NOTIFICATIONS_PROVIDER ?? 'sandbox',
  };
}

/** Loads `.env` from the working directory into process.env when present (real env wins). */
export function loadDotEnv(file = path.resolve('.env')): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
