import request from 'supertest';
import type { ApiSettings } from '../../api/settings';
import type { OrderView } from '../../workflows/order/definitions';
import { customerAuth, SHORT_TIMEOUTS, testApiSettings } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku, services } from '../support/fixtures';
import type { TestEnv } from '../support/harness';

/** The flash-sale settings of a test API: payment timeout in seconds, no background sweeper. */
export function flashSettings(env: TestEnv, flash: Partial<NonNullable<ApiSettings['flashSale']>> = {}): ApiSettings {
  return { ...testApiSettings(env, SHORT_TIMEOUTS), flashSale: { paymentMs: 3_000, sweepIntervalMs: 0, ...flash } };
}

/** startTestApi (real API on loopback, sandbox provider posting signed webhooks) with flash-sale settings. */
export function startFlashApi(env: TestEnv, flash: Partial<NonNullable<ApiSettings['flashSale']>> = {}): Promise<TestApi> {
  return startTestApi(env, SHORT_TIMEOUTS, flashSettings(env, flash));
}

export interface FlashCampaignOptions {
  stockCap: number;
  perUserLimit: number;
  flashPriceFen?: number;
  perUserLimitUnit?: 'UNITS' | 'ORDERS';
  startsAt?: Date;
  endsAt?: Date;
}

/** A SKU with normal stock and a flash-sale campaign on it, defined in marketing (as an admin would). */
export async function addFlashCampaign(env: TestEnv, id: string, options: FlashCampaignOptions) {
  const skuId = `sku_${id}`;
  await addSku(env.pool, skuId, 20_000, 50);
  const { marketing } = services(env.pool);
  const now = Date.now();
  await marketing.createCampaign({
    kind: 'FLASH_SALE',
    id,
    name: `Flash sale ${id}`,
    skuId,
    flashPriceFen: options.flashPriceFen ?? 9_900,
    stockCap: options.stockCap,
    perUserLimit: options.perUserLimit,
    perUserLimitUnit: options.perUserLimitUnit ?? 'UNITS',
    startsAt: options.startsAt ?? new Date(now - 3_600_000),
    endsAt: options.endsAt ?? new Date(now + 3_600_000),
  });
  return { campaignId: id, skuId };
}

export { addMember };

export function attempt(api: TestApi, campaignId: string, memberId: string, body: object = { quantity: 1 }) {
  return request(api.url).post(`/flash-sales/${campaignId}/orders`).set('Authorization', customerAuth(memberId)).send(body);
}

export async function getOrder(api: TestApi, memberId: string, orderId: string): Promise<OrderView> {
  const response = await request(api.url).get(`/orders/${orderId}`).set('Authorization', customerAuth(memberId));
  if (response.status !== 200) throw new Error(`GET /orders/${orderId}: ${response.status}`);
  return response.body as OrderView;
}

export function waitForStatus(api: TestApi, memberId: string, orderId: string, status: string, timeoutMs = 20_000): Promise<OrderView> {
  return eventually(async () => {
    const order = await getOrder(api, memberId, orderId);
    return order.status === status ? order : undefined;
  }, timeoutMs, `order ${orderId} to be ${status}`);
}
