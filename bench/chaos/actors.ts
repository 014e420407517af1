import type { Pool } from 'pg';
import { sleep, type ApiClient, type Answer } from './client';
import { GROUP_PRICE_FEN, PRESALE_TERMS, SKUS, FLASH } from './shop';

/**
 * What buyers, the sandbox payment page, the warehouse, the carrier and support agents do, through the
 * HTTP API only. A step that does not get the answer it needs throws a StepError naming the step, so
 * the run can say where an order went wrong.
 */
export type OrderType = 'STANDARD' | 'PRESALE' | 'GROUP_BUY' | 'FLASH_SALE';

export class StepError extends Error {
  constructor(readonly step: string, message: string) {
    super(`${step}: ${message}`);
  }
}

/** The OrderView JSON (of whichever engine version runs), read field by field. */
export type View = any;

export interface Placed {
  orderId: string;
  memberId: string;
  view: View;
}

function expectStatus(step: string, answer: Answer, ...statuses: number[]): Answer {
  if (!statuses.includes(answer.status)) throw new StepError(step, `HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 400)}`);
  return answer;
}

export function actors(api: ApiClient, pool: Pool, timing: { waitMs: number }) {
  const buyer = (memberId: string) => ({ customer: memberId });
  let campaignSequence = 0;

  const self = {
    /** The order as its projection (orders.orders) has it: cheap to poll for hundreds of orders. */
    async getOrder(_memberId: string, orderId: string): Promise<View> {
      const found = await pool.query<{ view: View }>('SELECT view FROM orders.orders WHERE order_id = $1', [orderId]);
      if (!found.rows[0]) throw new StepError('read order', `no projection of ${orderId}`);
      return found.rows[0].view;
    },

    /** Polls the order's projection until `done` says so; throws with the last state seen. */
    async waitFor(step: string, memberId: string, orderId: string, done: (view: View) => boolean, timeoutMs = timing.waitMs): Promise<View> {
      const deadline = Date.now() + timeoutMs;
      let last: View;
      while (Date.now() < deadline) {
        last = (await self.getOrder(memberId, orderId).catch(() => undefined)) ?? last;
        if (last && done(last)) return last;
        await sleep(700 + Math.floor(Math.random() * 600));
      }
      throw new StepError(step, `timed out; last status ${last?.status ?? '?'}${last?.phase ? ` phase ${last.phase}` : ''}`);
    },

    waitForStatus(memberId: string, orderId: string, statuses: string[], timeoutMs?: number): Promise<View> {
      return self.waitFor(`wait for ${statuses.join('|')}`, memberId, orderId, (view) => statuses.includes(view.status), timeoutMs);
    },

    async placeStandard(memberId: string, body: object, key: string): Promise<Answer> {
      return api.call('POST', '/orders', buyer(memberId), body, { 'Idempotency-Key': key });
    },

    async createPresale(options: { finalInMs: number; finalForMs: number; refundable: boolean }): Promise<string> {
      const id = `ps_chaos_${++campaignSequence}_${Date.now().toString(36)}`;
      const now = Date.now();
      const finalStart = new Date(now + options.finalInMs);
      const answer = await api.call('POST', '/admin/campaigns', { apiKey: 'admin' }, {
        id,
        kind: 'PRESALE',
        name: `Chaos presale ${id}`,
        skuId: SKUS.presale.id,
        ...PRESALE_TERMS,
        depositStart: new Date(now - 60_000).toISOString(),
        depositEnd: finalStart.toISOString(),
        finalStart: finalStart.toISOString(),
        finalEnd: new Date(finalStart.getTime() + options.finalForMs).toISOString(),
        depositRefundable: options.refundable,
      });
      expectStatus('create presale campaign', answer, 201, 200);
      return id;
    },

    async createGroupBuy(options: { size: number; endsInMs: number }): Promise<string> {
      const id = `gb_chaos_${++campaignSequence}_${Date.now().toString(36)}`;
      const answer = await api.call('POST', '/admin/campaigns', { apiKey: 'admin' }, {
        id,
        kind: 'GROUP_BUY',
        name: `Chaos group-buy ${id}`,
        skuId: SKUS.group.id,
        groupPriceFen: GROUP_PRICE_FEN,
        groupSize: options.size,
        formationWindowMinutes: 1,
        perUserLimit: 3,
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + options.endsInMs).toISOString(),
      });
      expectStatus('create group-buy campaign', answer, 201, 200);
      return id;
    },

    async placePresale(memberId: string, campaignId: string, quantity: number, key: string): Promise<Placed> {
      const answer = expectStatus('place presale deposit', await api.call('POST', `/presales/${campaignId}/orders`, buyer(memberId), { quantity }, { 'Idempotency-Key': key }), 201, 200);
      return { orderId: answer.body.orderId, memberId, view: answer.body };
    },

    async placeGroupBuy(memberId: string, campaignId: string, body: object, key: string): Promise<Placed> {
      const answer = expectStatus('place group-buy order', await api.call('POST', `/group-buys/${campaignId}/orders`, buyer(memberId), body, { 'Idempotency-Key': key }), 201, 200);
      return { orderId: answer.body.orderId, memberId, view: answer.body };
    },

    /** A flash-sale attempt: the order, or undefined when sold out / over the limit (409). */
    async placeFlash(memberId: string, quantity: number, key: string): Promise<Placed | undefined> {
      const answer = await api.call('POST', `/flash-sales/${FLASH.campaignId}/orders`, buyer(memberId), { quantity }, { 'Idempotency-Key': key });
      if (answer.status === 409 || answer.status === 429) return undefined;
      expectStatus('flash-sale admission', answer, 201, 200, 202);
      const orderId: string = answer.body.orderId;
      const view = answer.status === 202 ? await self.waitFor('flash order placed', memberId, orderId, (order) => order.status !== 'PLACING') : answer.body;
      return { orderId, memberId, view };
    },

    async pay(intentId: string | undefined, step = 'pay'): Promise<void> {
      if (!intentId) throw new StepError(step, 'no payment intent');
      expectStatus(step, await api.call('POST', `/sandbox/intents/${intentId}/pay`, 'anonymous', {}), 200);
    },

    /** The provider holds this order's next webhook back (a callback arriving after the timeout). */
    async delayWebhook(orderId: string, delayMs: number): Promise<void> {
      expectStatus('delay webhook', await api.call('POST', '/sandbox/behaviour', { apiKey: 'admin' }, { action: 'delay', operation: 'webhook', orderId, delayMs, count: 1 }), 201);
    },

    async cancel(memberId: string, orderId: string, step = 'cancel'): Promise<Answer> {
      return expectStatus(step, await api.call('POST', `/orders/${orderId}/cancel`, buyer(memberId), { reason: 'chaos: buyer changed their mind' }), 200, 409);
    },

    async finalPayment(memberId: string, orderId: string, couponId?: string): Promise<string> {
      const answer = expectStatus('open final payment', await api.call('POST', `/orders/${orderId}/final-payment`, buyer(memberId), couponId ? { couponId } : {}), 200);
      return answer.body.presale?.finalPayment?.intentId;
    },

    /** Ships; while the order's own view of a just-decided refund request lags, it says 409 "open": asks again. */
    async ship(orderId: string): Promise<Answer> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const answer = expectStatus('ship', await api.call('POST', `/warehouse/orders/${orderId}/ship`, { apiKey: 'warehouse' }, { carrier: 'SF Express', trackingNumber: `SF-${orderId}` }), 200, 409);
        if (answer.status === 200 || !/refund request/.test(String(answer.body?.detail)) || Date.now() > deadline) return answer;
        await sleep(2_000);
      }
    },

    async shipmentFailed(orderId: string): Promise<Answer> {
      return expectStatus('shipment failed', await api.call('POST', `/warehouse/orders/${orderId}/shipment-failed`, { apiKey: 'warehouse' }, { reason: 'chaos: parcel lost at the dock' }), 200);
    },

    async deliver(orderId: string): Promise<Answer> {
      return expectStatus('deliver', await api.call('POST', `/carrier/orders/${orderId}/delivered`, { apiKey: 'carrier' }, {}), 200, 409);
    },

    async requestRefund(memberId: string, orderId: string, kind: 'REFUND_ONLY' | 'RETURN_AND_REFUND', quantity: number, key: string): Promise<string> {
      const answer = await api.call('POST', `/orders/${orderId}/refunds`, buyer(memberId), { kind, lines: [{ lineId: 'L1', quantity }], reason: 'chaos: not wanted' }, { 'Idempotency-Key': key });
      expectStatus(`request ${kind}`, answer, 201, 200);
      return answer.body.requestId;
    },

    async waitForRequest(requestId: string, statuses: string[], timeoutMs = timing.waitMs): Promise<View> {
      const deadline = Date.now() + timeoutMs;
      let last: string | undefined;
      while (Date.now() < deadline) {
        const found = await pool
          .query<{ status: string; view: View }>('SELECT status, view FROM after_sales.refund_requests WHERE request_id = $1', [requestId])
          .catch(() => undefined);
        last = found?.rows[0]?.status ?? last;
        if (last && statuses.includes(last)) return found!.rows[0].view;
        await sleep(700 + Math.floor(Math.random() * 600));
      }
      throw new StepError(`refund ${requestId} to be ${statuses.join('|')}`, `timed out; last status ${last ?? '?'}`);
    },

    /** An agent decides; a decision already taken (a retried call, or the automatic approval) stands. */
    async decide(requestId: string, decision: 'approve' | 'reject'): Promise<void> {
      const view = await self.waitForRequest(requestId, ['PENDING', 'AWAITING_RETURN', 'RETURN_SHIPPED', 'REFUNDING', 'REFUNDED', 'REJECTED', 'CLOSED']);
      if (view.status !== 'PENDING') {
        if (decision === 'reject') throw new StepError('reject refund', `request was ${view.status} before an agent decided (auto-approved?)`);
        return;
      }
      const body = decision === 'approve' ? {} : { reason: 'chaos: the goods were used' };
      const answer = expectStatus(`${decision} refund`, await api.call('POST', `/support/refunds/${requestId}/${decision}`, { apiKey: 'support' }, body), 200, 409);
      if (answer.status === 409 && !/already/.test(String(answer.body?.detail))) throw new StepError(`${decision} refund`, `HTTP 409 ${answer.body?.detail}`);
    },

    async returnGoods(memberId: string, requestId: string): Promise<void> {
      await self.waitForRequest(requestId, ['AWAITING_RETURN']);
      expectStatus('ship the return', await api.call('POST', `/refunds/${requestId}/return-shipment`, buyer(memberId), { carrier: 'SF Express', trackingNumber: `RT-${requestId}` }), 200);
      await self.waitForRequest(requestId, ['RETURN_SHIPPED']);
      expectStatus('warehouse received the return', await api.call('POST', `/warehouse/refunds/${requestId}/received`, { apiKey: 'warehouse' }, {}), 200);
    },
  };
  return self;
}

export type Actors = ReturnType<typeof actors>;
