import type { Config } from '../infra/config';
import type { OrderTimeouts } from '../workflows/order/definitions';
import { parseApiKeys, type AuthSettings } from './auth';

/** What the API needs besides its connections; built from the config, or directly by tests. */
export interface ApiSettings {
  taskQueue: string;
  auth: AuthSettings;
  webhookSecret: string;
  orderTimeouts: OrderTimeouts;
}

/** Development only: lets `npm start` and `npm run token` work without configuring a secret. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-jwt-secret';

export function apiSettingsFromConfig(config: Config): ApiSettings {
  return {
    taskQueue: config.TASK_QUEUE,
    auth: { jwtSecret: config.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET, apiKeys: parseApiKeys(config.API_KEYS) },
    webhookSecret: config.PAYMENT_WEBHOOK_SECRET,
    orderTimeouts: {
      paymentMs: config.PAYMENT_TIMEOUT,
      autoConfirmDeliveryMs: config.DELIVERY_AUTO_CONFIRM,
      afterSalesWindowMs: config.AFTER_SALES_WINDOW,
    },
  };
}
