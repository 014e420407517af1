import request from 'supertest';
import { createAfterSalesService } from '../../modules/after-sales';
import { createFinanceService } from '../../modules/finance';
import type { RefundRequestView } from '../../workflows/after-sales/definitions';
import type { OrderTimeouts, OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually, type TestApi } from '../support/api-server';
import { addMember, addSku, issueAmountOffCoupon, services } from '../support/fixtures';
import type { TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/**
 * Shortened timings: payment 10 s, after-sales window 8 s; decisions and returns per file. Auto-confirm
 * 30 s: these tests deliver explicitly (a test about auto-confirm shortens it itself).
 */
export function afterSalesTimeouts(overrides: Partial<OrderTimeouts> = {}): OrderTimeouts {
  return { paymentMs: 10_000, autoConfirmDeliveryMs: 30_000, afterSalesWindowMs: 8_000, refundDecisionMs: 120_000, returnShipmentMs: 60_000, ...overrides };
}

export const PRICE = 10_000; // 100 yuan a unit

/** Everything a refund test does, through the real API. */
export function afterSalesKit(env: TestEnv, api: () => TestApi) {
  let sequence = 0;
  const shopper = storefront(api);
  const kit = {
    async shop(stock = 10, points = 2_000) {
      sequence += 1;
      const skuId = `sku_as_${sequence}_${env.id}`;
      const memberId = `mem_as_${sequence}_${env.id}`;
      await addSku(env.pool, skuId, PRICE, stock);
      await addMember(env.pool, memberId, points);
      const couponId = await issueAmountOffCoupon(env.pool, memberId, 2_000, { minSpendFen: 10_000, templateId: `tpl_as_${sequence}_${env.id}` });
      return { skuId, memberId, couponId };
    },
    async placePaid(memberId: string, body: object): Promise<OrderView> {
      const placed = await shopper.placeOrder(memberId, body);
      expect(placed.status).toBe(201);
      const order = placed.body as OrderView;
      await shopper.pay(order.payment.intentId!);
      return kit.waitForStatus(memberId, order.orderId, 'PAID');
    },
    getOrder: shopper.getOrder,
    waitForStatus: (memberId: string, orderId: string, status: string, timeoutMs = 40_000) => shopper.waitForStatus(memberId, orderId, status, timeoutMs),
    async ship(orderId: string) {
      await shopper.ship(orderId);
    },
    async deliver(orderId: string) {
      await shopper.deliver(orderId);
    },
    askRefund(memberId: string, orderId: string, body: object, key?: string) {
      const call = request(api().url).post(`/orders/${orderId}/refunds`).set('Authorization', customerAuth(memberId));
      return (key ? call.set('Idempotency-Key', key) : call).send(body);
    },
    support(path: string, body?: object, apiKey = API_KEYS.support) {
      return body === undefined
        ? request(api().url).get(path).set('X-API-Key', apiKey)
        : request(api().url).post(path).set('X-API-Key', apiKey).send(body);
    },
    waitForRequest(requestId: string, status: string, timeoutMs = 40_000): Promise<RefundRequestView> {
      return eventually(async () => {
        const response = await kit.support(`/support/refunds/${requestId}`);
        return response.status === 200 && response.body.status === status ? (response.body as RefundRequestView) : undefined;
      }, timeoutMs, `refund ${requestId} to be ${status}`);
    },
    finance: () => createFinanceService({ pool: env.pool, provider: api().sandbox }),
    afterSales: () => createAfterSalesService({ pool: env.pool }),
    points: async (memberId: string) => (await services(env.pool).member.getMember(memberId)).points,
    stock: (skuId: string) => services(env.pool).inventory.getStock(skuId),
    coupon: async (couponId: string) => (await services(env.pool).marketing.findCoupon(couponId))?.state,
    async ledgerKinds(orderId: string) {
      return (await kit.finance().entriesForOrder(orderId)).map((entry) => entry.kind);
    },
  };
  return kit;
}
