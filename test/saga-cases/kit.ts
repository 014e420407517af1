import request from 'supertest';
import type { ApiSettings } from '../../api/settings';
import type { RefundRequestView } from '../../workflows/after-sales/definitions';
import type { OrderTimeouts, OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth, testApiSettings } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku, issueAmountOffCoupon } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { bookReads } from './books';
import { campaignSteps } from './campaigns';

export { GROUP_PRICE, PRESALE } from './campaigns';

/**
 * What the numbered cases of issue 9 do, through the real API on the real Temporal server and
 * PostgreSQL, as buyer, provider page, warehouse, carrier, support agent and ops would; and the order
 * as the API shows it (with its phase) and its workflow run. What they read elsewhere (money, stock,
 * coupon, points, projection) is in books.ts; campaigns in campaigns.ts.
 */

/** The order view with the explicit phase of the state model (issue 9), and why it needs ops. */
export type PhasedOrder = OrderView & {
  phase?: string;
  attention?: { reason: string; step: string; since: string };
};

/** Seconds, as everywhere in tests: payment 10 s, auto-confirm 30 s (tests deliver), window 3 s. */
export function caseTimeouts(overrides: Partial<OrderTimeouts> = {}): OrderTimeouts {
  return { paymentMs: 10_000, autoConfirmDeliveryMs: 30_000, afterSalesWindowMs: 3_000, refundDecisionMs: 120_000, returnShipmentMs: 60_000, ...overrides };
}

export const PRICE = 10_000; // 100 yuan a unit

export interface CaseContext {
  env: TestEnv;
  api: TestApi;
}

/** One file's database, task queue, worker and API; call from beforeAll, close from afterAll. */
export async function startCase(timeouts: OrderTimeouts = caseTimeouts(), settings: Partial<ApiSettings> = {}): Promise<CaseContext> {
  const env = await createTestEnv();
  await env.startWorker();
  const api = await startTestApi(env, timeouts, { ...testApiSettings(env, timeouts), ...settings });
  return { env, api };
}

export async function stopCase(context: CaseContext | undefined): Promise<void> {
  if (!context) return;
  await context.api.close();
  await context.env.close();
}

/**
 * Registers this file's beforeAll/afterAll (its own database, task queue, worker and API, with these
 * timeouts and settings) and returns the file's kit.
 */
export function useCase(timeouts: OrderTimeouts = caseTimeouts(), settings: Partial<ApiSettings> = {}) {
  let context: CaseContext | undefined;
  beforeAll(async () => {
    context = await startCase(timeouts, settings);
  });
  afterAll(() => stopCase(context));
  return caseKit(() => {
    if (!context) throw new Error('the case has not started (use the kit inside tests)');
    return context;
  });
}

export function caseKit(context: () => CaseContext) {
  let sequence = 0;
  const env = () => context().env;
  const url = () => context().api.url;

  const kit = {
    env,
    api: () => context().api,
    next(prefix: string): string {
      sequence += 1;
      return `${prefix}_${sequence}_${env().id}`;
    },

    // --- the shop --------------------------------------------------------------------------------

    /** A fresh SKU (100 yuan), a member with points and a 20-yuan coupon from 100 yuan. */
    async shop(options: { stock?: number; points?: number; listPriceFen?: number } = {}): Promise<{ skuId: string; memberId: string; couponId: string }> {
      const skuId = kit.next('sku_case');
      const memberId = kit.next('mem_case');
      await addSku(env().pool, skuId, options.listPriceFen ?? PRICE, options.stock ?? 10);
      await addMember(env().pool, memberId, options.points ?? 2_000);
      const couponId = await issueAmountOffCoupon(env().pool, memberId, 2_000, { minSpendFen: 10_000, templateId: kit.next('tpl_case') });
      return { skuId, memberId, couponId };
    },
    /** An amount-off coupon without minimum spend. */
    issueCoupon: (memberId: string, amountFen: number): Promise<string> => issueAmountOffCoupon(env().pool, memberId, amountFen, { templateId: kit.next('tpl_case') }),
    async member(points = 0): Promise<string> {
      const memberId = kit.next('mem_case');
      await addMember(env().pool, memberId, points);
      return memberId;
    },

    // --- the buyer, the provider's page, the warehouse, the carrier --------------------------------

    placeOrder(memberId: string, body: object, key: string = kit.next('key')): request.Test {
      return request(url()).post('/orders').set('Authorization', customerAuth(memberId)).set('Idempotency-Key', key).send(body);
    },
    async placePaid(memberId: string, body: object): Promise<PhasedOrder> {
      const placed = await kit.placeOrder(memberId, body);
      expect(placed.status).toBe(201);
      const order = placed.body as PhasedOrder;
      await kit.pay(order.payment.intentId!);
      return kit.waitForStatus(memberId, order.orderId, 'PAID');
    },
    async pay(intentId: string) {
      const paid = await request(url()).post(`/sandbox/intents/${intentId}/pay`).send({});
      expect(paid.status).toBe(200);
      return paid.body as { outcome: string; eventId?: string };
    },
    async getOrder(memberId: string, orderId: string): Promise<PhasedOrder> {
      const response = await request(url()).get(`/orders/${orderId}`).set('Authorization', customerAuth(memberId));
      if (response.status !== 200) throw new Error(`GET /orders/${orderId}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body as PhasedOrder;
    },
    /** Polls the order until `check` holds; on timeout says what the order looked like last. */
    async waitFor(memberId: string, orderId: string, check: (order: PhasedOrder) => boolean, what: string, timeoutMs = 40_000): Promise<PhasedOrder> {
      let last: PhasedOrder | undefined;
      try {
        return await eventually(async () => {
          last = await kit.getOrder(memberId, orderId);
          return check(last) ? last : undefined;
        }, timeoutMs, `order ${orderId}: ${what}`);
      } catch (error) {
        const seen = last && { status: last.status, phase: last.phase, payment: last.payment.status, refundedFen: last.totals.refundedFen, attention: last.attention, run: await kit.runStatus(orderId).catch(() => '?') };
        throw new Error(`${(error as Error).message}; last seen ${JSON.stringify(seen)}`);
      }
    },
    waitForStatus(memberId: string, orderId: string, status: string, timeoutMs = 40_000): Promise<PhasedOrder> {
      return kit.waitFor(memberId, orderId, (order) => order.status === status, `status ${status}`, timeoutMs);
    },
    waitForPhase(memberId: string, orderId: string, phase: string, timeoutMs = 40_000): Promise<PhasedOrder> {
      return kit.waitFor(memberId, orderId, (order) => order.phase === phase, `phase ${phase}`, timeoutMs);
    },
    cancel(memberId: string, orderId: string, reason = 'changed my mind') {
      return request(url()).post(`/orders/${orderId}/cancel`).set('Authorization', customerAuth(memberId)).send({ reason });
    },
    ship(orderId: string) {
      return request(url()).post(`/warehouse/orders/${orderId}/ship`).set('X-API-Key', API_KEYS.warehouse).send({ carrier: 'SF', trackingNumber: `SF-${orderId}` });
    },
    shipmentFailed(orderId: string, reason = 'carrier refused the parcel') {
      return request(url()).post(`/warehouse/orders/${orderId}/shipment-failed`).set('X-API-Key', API_KEYS.warehouse).send({ reason });
    },
    deliver(orderId: string) {
      return request(url()).post(`/carrier/orders/${orderId}/delivered`).set('X-API-Key', API_KEYS.carrier).send({});
    },

    // --- after-sales -------------------------------------------------------------------------------

    askRefund(memberId: string, orderId: string, body: object, key: string = kit.next('refund-key')): request.Test {
      return request(url()).post(`/orders/${orderId}/refunds`).set('Authorization', customerAuth(memberId)).set('Idempotency-Key', key).send(body);
    },
    approve(requestId: string, body: object = {}) {
      return request(url()).post(`/support/refunds/${requestId}/approve`).set('X-API-Key', API_KEYS.support).send(body);
    },
    /** A refund-only request for `quantity` units of L1, approved by an agent and paid; checks the amount asked. */
    async refundPaid(memberId: string, orderId: string, quantity: number, expectedFen: number): Promise<RefundRequestView> {
      const asked = await kit.askRefund(memberId, orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity }], reason: 'only need some' });
      expect(asked.status).toBe(201);
      expect(asked.body.requestedFen).toBe(expectedFen);
      expect((await kit.approve(asked.body.requestId)).status).toBe(200);
      const refunded = await kit.waitForRequest(asked.body.requestId, 'REFUNDED');
      // The request's own view says REFUNDED before its order has taken the result (until then the
      // order counts the request as open and refuses shipment with REFUND_IN_PROGRESS): wait for both.
      await kit.waitFor(
        memberId,
        orderId,
        (order) => order.afterSales?.requests.some((entry) => entry.requestId === asked.body.requestId && entry.status === 'REFUNDED') ?? false,
        `order ${orderId} to take refund ${asked.body.requestId}`,
      );
      return refunded;
    },
    waitForRequest(requestId: string, status: string, timeoutMs = 40_000): Promise<RefundRequestView> {
      return eventually(async () => {
        const response = await request(url()).get(`/support/refunds/${requestId}`).set('X-API-Key', API_KEYS.support);
        return response.status === 200 && response.body.status === status ? response.body : undefined;
      }, timeoutMs, `refund ${requestId} to be ${status}`);
    },

    // --- ops ---------------------------------------------------------------------------------------

    admin(path: string, body: object, apiKey = API_KEYS.admin) {
      return request(url()).post(path).set('X-API-Key', apiKey).send(body);
    },
    async attentionActions(orderId: string) {
      const rows = await env().pool.query<{ action: string; actor: string; reason: string; at: Date }>(
        'SELECT action, actor, reason, at FROM orders.attention_actions WHERE order_id = $1 ORDER BY at',
        [orderId],
      );
      return rows.rows;
    },

    // --- the workflow run --------------------------------------------------------------------------

    handle: (orderId: string) => env().temporal.workflow.getHandle(`order-${orderId}`),
    async runStatus(orderId: string): Promise<string> {
      return (await kit.handle(orderId).describe()).status.name;
    },
    waitForRunStatus(orderId: string, wanted: string[], timeoutMs = 40_000): Promise<string> {
      return eventually(async () => {
        const status = await kit.runStatus(orderId);
        return wanted.includes(status) ? status : undefined;
      }, timeoutMs, `workflow of ${orderId} to be ${wanted.join(' or ')}`);
    },
  };
  return { ...kit, ...bookReads(context), ...campaignSteps(context, kit) };
}

/** The sum of the refunds the order's view lists (its payments' refund entries). */
export function viewRefundsFen(order: PhasedOrder): number {
  return order.payment.refunds.reduce((sum, refund) => sum + refund.amountFen, 0) + (order.presale?.finalPayment.refunds ?? []).reduce((sum, refund) => sum + refund.amountFen, 0);
}
