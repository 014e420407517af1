import request from 'supertest';
import type { ApiSettings } from '../../api/settings';
import { createFinanceService } from '../../modules/finance';
import type { BehaviourInput } from '../../modules/finance/sandbox/behaviours';
import type { RefundRequestView } from '../../workflows/after-sales/definitions';
import type { GroupView } from '../../workflows/group/definitions';
import type { OrderTimeouts, OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth, testApiSettings } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku, issueAmountOffCoupon, services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * What the numbered cases of issue 9 do and read, through the real API on the real Temporal server
 * and PostgreSQL: the order as the API shows it (with the phase the refactor adds), the money at the
 * provider (finance_sandbox.*) and in finance, the journal, stock, coupon, points, the projection and
 * the workflow run itself.
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

export interface ProjectedOrder {
  status: string;
  refundedFen: number;
  view: PhasedOrder;
}

export interface ProviderMovement {
  kind: 'capture' | 'refund';
  amountFen: number;
  intentId: string;
}

export interface PresaleCampaign {
  id: string;
  depositStart: string;
  depositEnd: string;
  finalStart: string;
  finalEnd: string;
}

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
  const finance = () => createFinanceService({ pool: env().pool, provider: context().api.sandbox });

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
        const seen = last && { status: last.status, phase: last.phase, payment: last.payment.status, refundedFen: last.totals.refundedFen, run: await kit.runStatus(orderId).catch(() => '?') };
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
      return request(url()).post(`/carrier/orders/${orderId}/delivered`).set('X-API-Key', API_KEYS.warehouse).send({});
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
      return kit.waitForRequest(asked.body.requestId, 'REFUNDED');
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

    // --- the provider (sandbox), finance, the journal ---------------------------------------------

    sandbox: () => context().api.sandbox,
    intent: (intentId: string) => context().api.sandbox.getIntent(intentId),
    addBehaviour: (behaviour: BehaviourInput) => context().api.sandbox.addBehaviour(behaviour),
    clearBehaviours: () => context().api.sandbox.clearBehaviours(),
    /** Uses left of a scripted behaviour (null: unlimited, while it exists). */
    async behaviourRemaining(id: number): Promise<number | null> {
      const rows = await env().pool.query<{ remaining: number | null }>('SELECT remaining FROM finance_sandbox.behaviours WHERE id = $1', [id]);
      return rows.rows[0]?.remaining ?? null;
    },
    /** Waits until the provider met the scripted behaviour `times` times (the call it scripts is under way). */
    waitForBehaviourUse(id: number, count: number, times = 1, timeoutMs = 30_000): Promise<boolean> {
      return eventually(async () => ((await kit.behaviourRemaining(id)) ?? count) <= count - times ? true : undefined, timeoutMs, `behaviour ${id} to be used`);
    },
    /** Money that moved at the provider for the order: captures and refunds. */
    async providerTransactions(orderId: string): Promise<ProviderMovement[]> {
      const rows = await env().pool.query<{ kind: 'capture' | 'refund'; amount_fen: string; intent_id: string }>(
        `SELECT t.kind, t.amount_fen, t.intent_id FROM finance_sandbox.transactions t JOIN finance_sandbox.intents i ON i.id = t.intent_id
          WHERE i.order_id = $1 ORDER BY t.created_at, t.id`,
        [orderId],
      );
      return rows.rows.map((row): ProviderMovement => ({ kind: row.kind, amountFen: Number(row.amount_fen), intentId: row.intent_id }));
    },
    async providerTotals(orderId: string): Promise<{ capturedFen: number; refundedFen: number; refunds: number }> {
      const moved = await kit.providerTransactions(orderId);
      const sum = (kind: string) => moved.filter((row) => row.kind === kind).reduce((total, row) => total + row.amountFen, 0);
      return { capturedFen: sum('capture'), refundedFen: sum('refund'), refunds: moved.filter((row) => row.kind === 'refund').length };
    },
    async providerIntents(orderId: string) {
      const rows = await env().pool.query<{ id: string; amount_fen: string; status: string }>(
        'SELECT id, amount_fen, status FROM finance_sandbox.intents WHERE order_id = $1 ORDER BY created_at, id',
        [orderId],
      );
      return rows.rows.map((row) => ({ intentId: row.id, amountFen: Number(row.amount_fen), status: row.status }));
    },
    payments: (orderId: string) => finance().paymentsForOrder(orderId),
    async financeRefunds(orderId: string) {
      const rows = await env().pool.query<{ amount_fen: string; state: string; reason: string }>(
        'SELECT amount_fen, state, reason FROM finance.refunds WHERE order_id = $1 ORDER BY id',
        [orderId],
      );
      return rows.rows.map((row) => ({ amountFen: Number(row.amount_fen), state: row.state, reason: row.reason }));
    },
    /** The order's journal entries, each checked balanced (debits = credits). */
    async ledger(orderId: string) {
      const entries = await finance().entriesForOrder(orderId);
      for (const entry of entries) {
        const debits = entry.lines.reduce((sum, line) => sum + line.debitFen, 0);
        const credits = entry.lines.reduce((sum, line) => sum + line.creditFen, 0);
        expect(debits).toBe(credits);
      }
      return entries.map((entry) => ({ kind: entry.kind, amountFen: entry.lines.reduce((sum, line) => sum + line.debitFen, 0), lines: entry.lines }));
    },

    // --- the other modules and the projection -------------------------------------------------------

    stock: (skuId: string) => services(env().pool).inventory.getStock(skuId),
    coupon: async (couponId: string) => (await services(env().pool).marketing.findCoupon(couponId))?.state,
    points: async (memberId: string) => (await services(env().pool).member.getMember(memberId)).points,
    async projection(orderId: string): Promise<ProjectedOrder | undefined> {
      const rows = await env().pool.query<{ status: string; refunded_fen: string; view: PhasedOrder }>(
        'SELECT status, refunded_fen, view FROM orders.orders WHERE order_id = $1',
        [orderId],
      );
      const row = rows.rows[0];
      return row && { status: row.status, refundedFen: Number(row.refunded_fen), view: row.view };
    },
    /** Waits for the projection to show `status` (it is written by an activity after the change). */
    waitForProjection(orderId: string, status: string, check: (row: ProjectedOrder) => boolean = () => true, timeoutMs = 20_000): Promise<ProjectedOrder> {
      return eventually(async () => {
        const row = await kit.projection(orderId);
        return row?.status === status && check(row) ? row : undefined;
      }, timeoutMs, `projection of ${orderId} to be ${status}`);
    },

    // --- campaigns ---------------------------------------------------------------------------------

    /** A presale (100 yuan, deposit 20 counting as 50) whose deposit window is open now. */
    async createPresale(skuId: string, options: { finalInMs?: number; finalForMs?: number; depositRefundable?: boolean } = {}): Promise<PresaleCampaign> {
      const now = Date.now();
      const finalStart = new Date(now + (options.finalInMs ?? 5_000));
      const definition = {
        id: `presale_${skuId}`,
        kind: 'PRESALE',
        name: `Presale of ${skuId}`,
        skuId,
        presalePriceFen: PRESALE.priceFen,
        depositFen: PRESALE.depositFen,
        depositValueFen: PRESALE.depositValueFen,
        depositStart: new Date(now - 60_000).toISOString(),
        depositEnd: new Date(finalStart.getTime() - 500).toISOString(),
        finalStart: finalStart.toISOString(),
        finalEnd: new Date(finalStart.getTime() + (options.finalForMs ?? 60_000)).toISOString(),
        depositRefundable: options.depositRefundable ?? false,
      };
      const created = await kit.admin('/admin/campaigns', definition);
      expect(created.status).toBe(201);
      return definition;
    },
    async placeDeposit(memberId: string, campaignId: string, body: object = {}): Promise<PhasedOrder> {
      const placed = await request(url())
        .post(`/presales/${campaignId}/orders`)
        .set('Authorization', customerAuth(memberId))
        .set('Idempotency-Key', kit.next('key'))
        .send(body);
      expect(placed.status).toBe(201);
      return placed.body as PhasedOrder;
    },
    /** POST /orders/{id}/final-payment; `timeoutMs` bounds the answer (a hang fails the test). */
    finalPayment(memberId: string, orderId: string, body: object = {}, timeoutMs = 20_000): request.Test {
      return request(url()).post(`/orders/${orderId}/final-payment`).set('Authorization', customerAuth(memberId)).timeout(timeoutMs).send(body);
    },
    /** A group-buy campaign (group price 80 yuan) on a fresh SKU. */
    async createGroupBuy(options: { groupSize: number; endsInMs?: number; stock?: number }): Promise<{ campaignId: string; skuId: string }> {
      const skuId = kit.next('sku_group');
      await addSku(env().pool, skuId, PRICE, options.stock ?? 10);
      const definition = {
        id: `group_${skuId}`,
        kind: 'GROUP_BUY',
        name: `Group-buy of ${skuId}`,
        skuId,
        groupPriceFen: GROUP_PRICE,
        groupSize: options.groupSize,
        onFullGroup: 'REJECT',
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + (options.endsInMs ?? 120_000)).toISOString(),
      };
      const created = await kit.admin('/admin/campaigns', definition);
      expect(created.status).toBe(201);
      return { campaignId: definition.id, skuId };
    },
    async joinGroupBuy(memberId: string, campaignId: string, groupId?: string): Promise<PhasedOrder> {
      const placed = await request(url())
        .post(`/group-buys/${campaignId}/orders`)
        .set('Authorization', customerAuth(memberId))
        .set('Idempotency-Key', kit.next('key'))
        .send(groupId ? { groupId } : {});
      expect(placed.status).toBe(201);
      return placed.body as PhasedOrder;
    },
    async group(groupId: string): Promise<GroupView> {
      const response = await request(url()).get(`/groups/${groupId}`).set('Authorization', customerAuth('anyone'));
      expect(response.status).toBe(200);
      return response.body as GroupView;
    },
    waitForGroup(groupId: string, status: string, timeoutMs = 30_000): Promise<GroupView> {
      return eventually(async () => {
        const current = await kit.group(groupId);
        return current.status === status ? current : undefined;
      }, timeoutMs, `group ${groupId} to be ${status}`);
    },
  };
  return kit;
}

export const PRESALE = { priceFen: 10_000, depositFen: 2_000, depositValueFen: 5_000 };
export const GROUP_PRICE = 8_000;

/** The sum of the refunds the order's view lists (its payments' refund entries). */
export function viewRefundsFen(order: PhasedOrder): number {
  return order.payment.refunds.reduce((sum, refund) => sum + refund.amountFen, 0) + (order.presale?.finalPayment.refunds ?? []).reduce((sum, refund) => sum + refund.amountFen, 0);
}
