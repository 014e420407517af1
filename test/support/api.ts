import { issueToken, type Principal } from '../../api/auth';
import type { ApiSettings } from '../../api/settings';
import type { OrderTimeouts } from '../../workflows/order/definitions';
import type { TestEnv } from './harness';

export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789';
export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

export const API_KEYS = {
  warehouse: 'test-warehouse-key',
  support: 'test-support-key',
  admin: 'test-admin-key',
};

/** Durations shortened to seconds: production uses 30 minutes, 10 days and 7 days. */
export const SHORT_TIMEOUTS: OrderTimeouts = {
  paymentMs: 4_000,
  autoConfirmDeliveryMs: 6_000,
  afterSalesWindowMs: 2_000,
};

export function testApiSettings(env: TestEnv, orderTimeouts: OrderTimeouts = SHORT_TIMEOUTS): ApiSettings {
  return {
    taskQueue: env.taskQueue,
    auth: {
      jwtSecret: TEST_JWT_SECRET,
      apiKeys: new Map<string, Principal>([
        [API_KEYS.warehouse, { role: 'warehouse', subject: 'wh_test' }],
        [API_KEYS.support, { role: 'support', subject: 'agent_test' }],
        [API_KEYS.admin, { role: 'admin', subject: 'ops_test' }],
      ]),
    },
    webhookSecret: TEST_WEBHOOK_SECRET,
    orderTimeouts,
  };
}

/** `Authorization` header value for a customer (member id). */
export function customerAuth(memberId: string): string {
  return `Bearer ${issueToken(TEST_JWT_SECRET, { role: 'customer', subject: memberId })}`;
}
