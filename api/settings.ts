import type { Config } from '../infra/config';
import type { OrderTimeouts } from '../workflows/order/definitions';
import { parseApiKeys, type AuthSettings } from './auth';
import type { AbuseLimits } from './limits';
import type { CodecSettings } from './codec';
import { payloadCodecsFor } from '../infra/payload-codec';
import { eventDeliveryFromConfig, type EventDeliverySettings } from '../infra/event-dispatchers';

/** What the API needs besides its connections; built from the config, or directly by tests. */
export interface ApiSettings {
  taskQueue: string;
  auth: AuthSettings;
  webhookSecret: string;
  /** NODE_ENV=production: development tools (the sandbox provider, test gateways) are refused. */
  production?: boolean;
  orderTimeouts: OrderTimeouts;
  /** Flash-sale orders (api/flash-sales.ts); unset: 5-minute payment timeout, no background sweeper. */
  flashSale?: FlashSaleSettings;
  /** Payment timeout of a group-buy member's order (ms); unset: 15 minutes. */
  groupBuyPaymentMs?: number;
  /** STORE_TIMEZONE: report days; unset: Asia/Shanghai. */
  storeTimeZone?: string;
  /** Rate limits and the unpaid-orders cap; unset: none (tests that place many orders from one process). */
  limits?: AbuseLimits;
  /** Idempotency-Key rows older than this are deleted (ms); unset: kept. */
  idempotencyKeyTtlMs?: number;
  /** The Temporal UI's codec endpoints (/codec/encode, /codec/decode); unset: not served. */
  codec?: CodecSettings;
  /** Bearer token Prometheus sends to GET /metrics; unset: /metrics is open (development, tests). */
  metricsToken?: string;
  /** Event delivery to subscribers (EVENTS_*); unset: the defaults of infra/config.ts. */
  events?: EventDeliverySettings;
}

export interface FlashSaleSettings {
  /** Payment timeout of a flash-sale order (ms). */
  paymentMs: number;
  /** How often this API process starts order workflows for admissions left without one (ms; 0 = never). */
  sweepIntervalMs: number;
  /** false: admission only, the workflow start is left to the sweeper (the admission benchmark). */
  startWorkflows?: boolean;
}

/** Development only: lets `npm start` and `npm run token` work without configuring a secret. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-jwt-secret';
export const DEVELOPMENT_STAFF_JWT_SECRET = 'development-only-staff-jwt-secret';

/** Development only: API keys for trying the warehouse, support and admin endpoints (README "Try it"). */
export const DEVELOPMENT_API_KEYS =
  'dev-warehouse-key=warehouse:dispatch_demo@*,dev-carrier-key=carrier:sf_demo,dev-support-key=support:agent_demo,dev-finance-key=finance:finance_demo,dev-admin-key=admin:ops_demo';

export function apiSettingsFromConfig(config: Config): ApiSettings {
  const apiKeys = config.API_KEYS ?? (config.NODE_ENV === 'development' ? DEVELOPMENT_API_KEYS : undefined);
  return {
    taskQueue: config.TASK_QUEUE,
    auth: {
      jwtSecret: config.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
      // Production: staff tokens only with a configured staff key or JWKS (never a development fallback).
      staffJwtSecret: config.JWT_STAFF_SECRET ?? (config.NODE_ENV === 'production' ? undefined : DEVELOPMENT_STAFF_JWT_SECRET),
      staffJwksUrl: config.JWT_STAFF_JWKS_URL,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      maxTokenLifetimeSeconds: Math.floor(config.JWT_MAX_LIFETIME / 1000),
      apiKeys: parseApiKeys(apiKeys),
    },
    webhookSecret: config.PAYMENT_WEBHOOK_SECRET,
    production: config.NODE_ENV === 'production',
    orderTimeouts: {
      paymentMs: config.PAYMENT_TIMEOUT,
      autoConfirmDeliveryMs: config.DELIVERY_AUTO_CONFIRM,
      afterSalesWindowMs: config.AFTER_SALES_WINDOW,
      refundDecisionMs: config.REFUND_DECISION_TIMEOUT,
      returnShipmentMs: config.RETURN_SHIPMENT_WINDOW,
    },
    flashSale: { paymentMs: config.FLASH_SALE_PAYMENT_TIMEOUT, sweepIntervalMs: config.FLASH_SALE_SWEEP_INTERVAL },
    groupBuyPaymentMs: config.GROUP_BUY_PAYMENT_TIMEOUT,
    storeTimeZone: config.STORE_TIMEZONE,
    limits: {
      requestsPerIpPerMinute: config.RATE_LIMIT_PER_IP,
      placementsPerPrincipalPerMinute: config.RATE_LIMIT_PLACEMENTS,
      unpaidOrdersPerCustomer: config.UNPAID_ORDERS_CAP,
    },
    idempotencyKeyTtlMs: config.IDEMPOTENCY_KEY_TTL,
    events: eventDeliveryFromConfig(config),
    codec: config.PAYLOAD_CODEC_KEYS ? { codecs: payloadCodecsFor(config.PAYLOAD_CODEC_KEYS), corsOrigins: config.CODEC_CORS_ORIGINS.split(',') } : undefined,
    metricsToken: config.METRICS_TOKEN,
  };
}
