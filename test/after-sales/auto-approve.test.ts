import { startTestApi, type TestApi } from '../support/api-server';
import { createTestEnv, type TestEnv } from '../support/harness';
import { afterSalesKit, afterSalesTimeouts } from './helpers';

/**
 * No agent decides: the request is approved automatically at the deadline (3 s here, 48 h in
 * production), audited as the system's decision. The provider fails the refund twice (once before
 * doing anything, once after doing it with the answer lost): exactly one refund at the provider and
 * in the ledger.
 */
let env: TestEnv;
let api: TestApi;
let kit: ReturnType<typeof afterSalesKit>;

beforeAll(async () => {
  env = await createTestEnv();
  kit = afterSalesKit(env, () => api);
  await env.startWorker();
  api = await startTestApi(env, afterSalesTimeouts({ refundDecisionMs: 3_000, autoConfirmDeliveryMs: 2_000 }));
});
afterAll(async () => {
  await api.close();
  await env.close();
});

test('no decision: auto-approved at the deadline; provider failing twice then succeeding refunds exactly once', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 2 }] }); // 200 yuan
  await kit.ship(order.orderId);
  await kit.waitForStatus(memberId, order.orderId, 'SHIPPED');

  await api.sandbox.addBehaviour({ action: 'error', operation: 'refund', orderId: order.orderId, count: 1, phase: 'before' });
  await api.sandbox.addBehaviour({ action: 'error', operation: 'refund', orderId: order.orderId, count: 1, phase: 'after' });

  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'one box never arrived' });
  expect(asked.status).toBe(201);
  const requestId = asked.body.requestId as string;
  const pending = await kit.support(`/support/refunds/${requestId}`);
  expect(pending.body.timeLeftMs).toBeLessThanOrEqual(3_000);

  const refunded = await kit.waitForRequest(requestId, 'REFUNDED', 40_000);
  expect(refunded.decision).toMatchObject({ decision: 'APPROVED', decidedBy: 'system', channel: 'auto', approvedFen: 10_000 });
  // Too late for an agent now.
  expect((await kit.support(`/support/refunds/${requestId}/approve`, {})).status).toBe(409);

  const [payment] = await kit.finance().paymentsForOrder(order.orderId);
  expect(payment).toMatchObject({ capturedFen: 20_000, refundedFen: 10_000 });
  const intent = await api.sandbox.getIntent(order.payment.intentId!);
  expect(intent.refundedFen).toBe(10_000);
  const providerRefunds = await env.pool.query(`SELECT * FROM finance_sandbox.transactions WHERE intent_id = $1 AND kind = 'refund'`, [order.payment.intentId]);
  expect(providerRefunds.rowCount).toBe(1);
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);

  const audit = await kit.afterSales().decisions({ requestId });
  expect(audit).toEqual([expect.objectContaining({ decision: 'APPROVED', decidedBy: 'system', channel: 'auto', reason: 'no decision in time' })]);

  // Delivery is auto-confirmed meanwhile; the order completes with the refund shown.
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.totals).toMatchObject({ paidFen: 20_000, refundedFen: 10_000 });
});
