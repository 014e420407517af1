import { issueToken, type AuthSettings, type Principal, type Role } from '../../api/auth';
import type { ApiSettings } from '../../api/settings';
import type { OrderTimeouts } from '../../workflows/order/definitions';
import type { TestEnv } from './harness';

export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789';
export const TEST_STAFF_JWT_SECRET = 'test-staff-jwt-secret-0123456789';
export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

export const API_KEYS = {
  /** Every warehouse (it ships campaign stock too). */
  warehouse: 'test-warehouse-key',
  /** Only warehouse wh_east. */
  eastWarehouse: 'test-east-warehouse-key',
  carrier: 'test-carrier-key',
  support: 'test-support-key',
  finance: 'test-finance-key',
  admin: 'test-admin-key',
};

export const TEST_API_KEY_PRINCIPALS = new Map<string, Principal>([
  [API_KEYS.warehouse, { role: 'warehouse', subject: 'wh_test', warehouseIds: ['*'] }],
  [API_KEYS.eastWarehouse, { role: 'warehouse', subject: 'wh_east_team', warehouseIds: ['wh_east'] }],
  [API_KEYS.carrier, { role: 'carrier', subject: 'carrier_test' }],
  [API_KEYS.support, { role: 'support', subject: 'agent_test' }],
  [API_KEYS.finance, { role: 'finance', subject: 'finance_test' }],
  [API_KEYS.admin, { role: 'admin', subject: 'ops_test' }],
]);

export const TEST_AUTH: AuthSettings = { jwtSecret: TEST_JWT_SECRET, staffJwtSecret: TEST_STAFF_JWT_SECRET, apiKeys: TEST_API_KEY_PRINCIPALS };

/** Durations shortened to seconds: production uses 30 minutes, 10 days and 7 days. */
export const SHORT_TIMEOUTS: OrderTimeouts = {
  paymentMs: 4_000,
  autoConfirmDeliveryMs: 6_000,
  afterSalesWindowMs: 2_000,
};

export function testApiSettings(env: TestEnv, orderTimeouts: OrderTimeouts = SHORT_TIMEOUTS): ApiSettings {
  return {
    taskQueue: env.taskQueue,
    auth: TEST_AUTH,
    webhookSecret: TEST_WEBHOOK_SECRET,
    orderTimeouts,
  };
}

/** `Authorization` header value for a customer (member id). */
export function customerAuth(memberId: string): string {
  return `Bearer ${issueToken(TEST_AUTH, { role: 'customer', subject: memberId })}`;
}

/** `Authorization` header value for a staff member (signed with the staff key). */
export function staffAuth(role: Exclude<Role, 'customer'>, subject: string, warehouseIds?: string[]): string {
  return `Bearer ${issueToken(TEST_AUTH, { role, subject, warehouseIds: role === 'warehouse' ? (warehouseIds ?? ['*']) : undefined })}`;
}
