import request from 'supertest';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { afterSalesKit, afterSalesTimeouts } from './helpers';

/**
 * After-sales on presale orders (domain-rules.md): before the final payment only the deposit can be
 * refunded, and only when the campaign says depositRefundable — the whole deposit, refund only; the
 * order then ends REFUNDED (a refund request, like any full refund, ends the order REFUNDED; the
 * buyer's own cancel of a refundable deposit still ends CANCELLED). After the final payment a refund
 * splits across both payments: one provider refund per payment, each booked in the ledger.
 */
let env: TestEnv;
let api: TestApi;
let kit: ReturnType<typeof afterSalesKit>;
let sequence = 0;

// Presale price 100 yuan, deposit 20 yuan counting as 50 (定金膨胀): 50 yuan left to pay.
const PRESALE_PRICE = 10_000;
const DEPOSIT = 2_000;
const DEPOSIT_VALUE = 5_000;

beforeAll(async () => {
  env = await createTestEnv();
  kit = afterSalesKit(env, () => api);
  await env.startWorker();
  api = await startTestApi(env, afterSalesTimeouts());
});
afterAll(async () => {
  await api.close();
  await env.close();
});

async function shop() {
  sequence += 1;
  const skuId = `sku_psr_${sequence}_${env.id}`;
  const memberId = `mem_psr_${sequence}_${env.id}`;
  await addSku(env.pool, skuId, 12_000, 10);
  await addMember(env.pool, memberId);
  return { skuId, memberId };
}

async function createPresale(skuId: string, options: { finalInMs: number; depositRefundable: boolean }) {
  const now = Date.now();
  const finalStart = new Date(now + options.finalInMs);
  const definition = {
    id: `presale_${skuId}`,
    kind: 'PRESALE',
    name: `Presale of ${skuId}`,
    skuId,
    presalePriceFen: PRESALE_PRICE,
    depositFen: DEPOSIT,
    depositValueFen: DEPOSIT_VALUE,
    depositStart: new Date(now - 60_000).toISOString(),
    depositEnd: new Date(finalStart.getTime() - 500).toISOString(),
    finalStart: finalStart.toISOString(),
    finalEnd: new Date(finalStart.getTime() + 30_000).toISOString(),
    depositRefundable: options.depositRefundable,
  };
  const created = await request(api.url).post('/admin/campaigns').set('X-API-Key', API_KEYS.admin).send(definition);
  expect(created.status).toBe(201);
  return definition;
}

async function depositPaid(memberId: string, campaignId: string, quantity: number): Promise<OrderView> {
  const placed = await request(api.url)
    .post(`/presales/${campaignId}/orders`)
    .set('Authorization', customerAuth(memberId))
    .set('Idempotency-Key', `key-${memberId}-${Math.random()}`)
    .send({ quantity });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  await pay(order.payment.intentId!);
  return kit.waitForStatus(memberId, order.orderId, 'DEPOSIT_PAID');
}

async function pay(intentId: string) {
  const response = await request(api.url).post(`/sandbox/intents/${intentId}/pay`).send({});
  expect(response.status).toBe(200);
}

const refundAll = (quantity: number) => ({ kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity }], reason: 'no longer needed' });

test('refundable deposit: refunded through a refund request before the final payment; stock released; order REFUNDED', async () => {
  const { skuId, memberId } = await shop();
  const campaign = await createPresale(skuId, { finalInMs: 60_000, depositRefundable: true });
  const order = await depositPaid(memberId, campaign.id, 2);
  expect(order.totals.paidFen).toBe(2 * DEPOSIT);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 2 });

  // Only the whole deposit, refund only.
  const part = await kit.askRefund(memberId, order.orderId, refundAll(1));
  expect(part.status).toBe(422);
  expect(part.body.detail).toContain('whole deposit');
  const ret = await kit.askRefund(memberId, order.orderId, { ...refundAll(2), kind: 'RETURN_AND_REFUND' });
  expect(ret.status).toBe(409);

  const asked = await kit.askRefund(memberId, order.orderId, refundAll(2));
  expect(asked.status).toBe(201);
  expect(asked.body.requestedFen).toBe(2 * DEPOSIT); // the deposit, not the presale price
  const requestId = asked.body.requestId as string;
  // Once after-sales started the buyer can no longer cancel (it would refund twice).
  const cancel = await request(api.url).post(`/orders/${order.orderId}/cancel`).set('Authorization', customerAuth(memberId)).send({});
  expect(cancel.status).toBe(409);

  expect((await kit.support(`/support/refunds/${requestId}/approve`, {})).status).toBe(200);
  await kit.waitForRequest(requestId, 'REFUNDED');
  const refunded = await kit.waitForStatus(memberId, order.orderId, 'REFUNDED');
  expect(refunded.totals).toMatchObject({ paidFen: 2 * DEPOSIT, refundedFen: 2 * DEPOSIT });
  expect(refunded.presale).toMatchObject({ depositOutcome: 'REFUNDED', finalPayment: { status: 'NONE' } });

  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 2 * DEPOSIT, refundedFen: 2 * DEPOSIT });
  const payments = await kit.finance().paymentsForOrder(order.orderId);
  expect(payments).toEqual([expect.objectContaining({ capturedFen: 2 * DEPOSIT, refundedFen: 2 * DEPOSIT })]);
  // Refunded once: no forfeit, no second refund by the order's own compensation.
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
});

test('non-refundable deposit: a refund request before the final payment is refused with the reason; the order goes on', async () => {
  const { skuId, memberId } = await shop();
  const campaign = await createPresale(skuId, { finalInMs: 60_000, depositRefundable: false });
  const order = await depositPaid(memberId, campaign.id, 1);

  const asked = await kit.askRefund(memberId, order.orderId, refundAll(1));
  expect(asked.status).toBe(409);
  expect(asked.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(asked.body).toMatchObject({ status: 409, reason: 'DEPOSIT_NOT_REFUNDABLE' });
  expect(asked.body.detail).toContain('not refundable');

  const after = await kit.getOrder(memberId, order.orderId);
  expect(after.status).toBe('DEPOSIT_PAID');
  expect(after.afterSales?.requests ?? []).toEqual([]);
  expect(await kit.afterSales().requestsOfOrder(order.orderId)).toEqual([]);
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED']);
});

test('after the final payment a full refund returns the deposit and the final payment: one provider refund per payment, ledger balanced', async () => {
  const { skuId, memberId } = await shop();
  const campaign = await createPresale(skuId, { finalInMs: 5_000, depositRefundable: false });
  const order = await depositPaid(memberId, campaign.id, 1);
  await kit.waitForStatus(memberId, order.orderId, 'FINAL_PAYMENT_DUE');
  const opened = await request(api.url).post(`/orders/${order.orderId}/final-payment`).set('Authorization', customerAuth(memberId)).send({});
  expect(opened.status).toBe(200);
  const finalIntentId = (opened.body as OrderView).presale!.finalPayment.intentId!;
  await pay(finalIntentId);
  const paid = await kit.waitForStatus(memberId, order.orderId, 'PAID');
  const totalFen = DEPOSIT + (PRESALE_PRICE - DEPOSIT_VALUE);
  expect(paid.totals.paidFen).toBe(totalFen);

  const asked = await kit.askRefund(memberId, order.orderId, refundAll(1));
  expect(asked.status).toBe(201);
  expect(asked.body.requestedFen).toBe(totalFen);
  const requestId = asked.body.requestId as string;
  expect((await kit.support(`/support/refunds/${requestId}/approve`, {})).status).toBe(200);
  await kit.waitForRequest(requestId, 'REFUNDED');
  const refunded = await kit.waitForStatus(memberId, order.orderId, 'REFUNDED');
  expect(refunded.totals).toMatchObject({ paidFen: totalFen, refundedFen: totalFen });

  // Each payment back through the provider in full.
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: DEPOSIT, refundedFen: DEPOSIT });
  expect(await api.sandbox.getIntent(finalIntentId)).toMatchObject({ capturedFen: totalFen - DEPOSIT, refundedFen: totalFen - DEPOSIT });
  const payments = await kit.finance().paymentsForOrder(order.orderId);
  expect(payments.map((payment) => [payment.capturedFen, payment.refundedFen]).sort()).toEqual([
    [DEPOSIT, DEPOSIT],
    [totalFen - DEPOSIT, totalFen - DEPOSIT],
  ].sort());

  // Two captures, two refunds, every entry balanced; cash back to zero on the order.
  const entries = await kit.finance().entriesForOrder(order.orderId);
  expect(entries.map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'PAYMENT_CAPTURED', 'REFUND', 'REFUND']);
  for (const entry of entries) {
    expect(entry.lines.reduce((sum, line) => sum + line.debitFen, 0)).toBe(entry.lines.reduce((sum, line) => sum + line.creditFen, 0));
  }
  const refundFen = entries.filter((entry) => entry.kind === 'REFUND').map((entry) => entry.lines.reduce((sum, line) => sum + line.creditFen, 0));
  expect(refundFen.sort((a, b) => a - b)).toEqual([DEPOSIT, totalFen - DEPOSIT]);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
});
