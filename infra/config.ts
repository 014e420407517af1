import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

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

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
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

  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Public base URL of this API, used for the payment provider's webhook target. */
  PUBLIC_BASE_URL: optionalText.pipe(z.url().optional()),

  /** HS256 secret of bearer tokens (JWT with `sub` and `role`). Required in production. */
  JWT_SECRET: optionalText.pipe(z.string().min(16, 'use at least 16 characters').optional()),
  /** Static API keys: `key=role:subject` entries separated by commas (warehouse, carrier, support, admin). */
  API_KEYS: optionalText.pipe(
    z
      .string()
      .regex(
        /^[^=,\s]+=(customer|warehouse|support|admin|merchant|finance):[^,\s]+(,[^=,\s]+=(customer|warehouse|support|admin|merchant|finance):[^,\s]+)*$/,
        'expected key=role:subject[,key=role:subject...] with role customer, warehouse, support, admin, merchant or finance',
      )
      .optional(),
  ),
  /** Shared secret of the payment provider's webhook signatures (HMAC-SHA256). */
  PAYMENT_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').default('sandbox-webhook-secret-change-me'),

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
  /** Group-buy: payment timeout of a member's order (the formation window is the campaign's). */
  GROUP_BUY_PAYMENT_TIMEOUT: durationSchema.default(parseDuration('15m')),
})
  .refine((config) => config.NODE_ENV !== 'production' || config.JWT_SECRET, {
    path: ['JWT_SECRET'],
    message: 'required when NODE_ENV=production',
  })
  .refine((config) => config.NODE_ENV !== 'production' || config.PAYMENT_WEBHOOK_SECRET !== 'sandbox-webhook-secret-change-me', {
    path: ['PAYMENT_WEBHOOK_SECRET'],
    message: 'set a real secret when NODE_ENV=production',
  });

export type Config = z.infer<typeof configSchema>;

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
  return parsed.data;
}

/** Loads `.env` from the working directory into process.env when present (real env wins). */
export function loadDotEnv(file = path.resolve('.env')): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
