import request from 'supertest';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { createTestEnv, type TestEnv } from '../support/harness';
import { afterSalesKit, afterSalesTimeouts } from './helpers';
import { recordHistory, recordWorkflowHistory } from '../support/histories';

/**
 * After-sales end to end through the storefront, support and warehouse API on the real Temporal server
 * and PostgreSQL: refund requests reserve amounts on the order, support agents decide, the refund
 * workflow pays money back and undoes stock, points and coupon as domain-rules.md says.
 */
let env: TestEnv;
let api: TestApi;
let kit: ReturnType<typeof afterSalesKit>;

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

test('refund only before shipment, approved by an agent: money, stock, points, coupon and ledger back; order REFUNDED; audit row', async () => {
  const { skuId, memberId, couponId } = await kit.shop();
  // 2 × 100 yuan; coupon −20 → 180; 1,000 points −10 → 170 yuan paid.
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 2 }], couponId, pointsToRedeem: 1_000 });
  expect(order.totals.paidFen).toBe(17_000);
  expect(await kit.points(memberId)).toEqual({ available: 1_000, held: 0, pending: 170 });

  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 2 }], reason: 'changed my mind' }, 'refund-key-1');
  expect(asked.status).toBe(201);
  expect(asked.body).toMatchObject({ status: 'PENDING', requestedFen: 17_000, kind: 'REFUND_ONLY' });
  const requestId = asked.body.requestId as string;
  // A retry with the same key answers the same request, nothing reserved twice.
  const again = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 2 }], reason: 'changed my mind' }, 'refund-key-1');
  expect(again.status).toBe(201);
  expect(again.body.requestId).toBe(requestId);

  // The warehouse waits while the request is open; the buyer can no longer cancel.
  const ship = await kit.support(`/warehouse/orders/${order.orderId}/ship`, { carrier: 'SF', trackingNumber: 'X' }, API_KEYS.warehouse);
  expect(ship.status).toBe(409);

  // Support lists it (oldest first, order summary, time left) and approves.
  const listed = await kit.support('/support/refunds?status=PENDING');
  expect(listed.status).toBe(200);
  const mine = listed.body.requests.find((r: { requestId: string }) => r.requestId === requestId);
  expect(mine).toMatchObject({ orderId: order.orderId, order: { paidFen: 17_000, status: 'PAID' } });
  expect(mine.timeLeftMs).toBeGreaterThan(60_000);

  // Only support may decide.
  const forbidden = await kit.support(`/support/refunds/${requestId}/approve`, {}, API_KEYS.warehouse);
  expect(forbidden.status).toBe(403);

  const approved = await kit.support(`/support/refunds/${requestId}/approve`, {});
  expect(approved.status).toBe(200);
  expect(approved.body.decision).toMatchObject({ decision: 'APPROVED', decidedBy: 'agent_test', channel: 'api', approvedFen: 17_000 });
  // A second decision is no longer possible.
  const late = await kit.support(`/support/refunds/${requestId}/reject`, { reason: 'too late' });
  expect(late.status).toBe(409);

  await kit.waitForRequest(requestId, 'REFUNDED');
  const refunded = await kit.waitForStatus(memberId, order.orderId, 'REFUNDED');
  expect(refunded.totals.refundedFen).toBe(17_000);
  expect(refunded.lines[0].refundedFen).toBe(17_000);

  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await kit.coupon(couponId)).toBe('AVAILABLE');
  expect(await kit.points(memberId)).toEqual({ available: 2_000, held: 0, pending: 0 });
  const [payment] = await kit.finance().paymentsForOrder(order.orderId);
  expect(payment).toMatchObject({ capturedFen: 17_000, refundedFen: 17_000 });
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 17_000, refundedFen: 17_000 });

  const audit = await kit.afterSales().decisions({ requestId });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({ decision: 'APPROVED', decidedBy: 'agent_test', channel: 'api', approvedFen: 17_000, workflowId: `refund-${requestId}` });
  expect(audit[0].runId).toEqual(expect.any(String));
  await recordHistory(env, order.orderId, 'refund-only-before-shipment-order');
  await recordWorkflowHistory(env, `refund-${requestId}`, 'refund-only-before-shipment-request');
});

test('refund only of part of a line while shipped; two concurrent requests beyond what was paid: the second is refused; completes with the refund shown', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 3 }] }); // 300 yuan, spend 300 → no coupon/points
  await kit.ship(order.orderId);
  await kit.waitForStatus(memberId, order.orderId, 'SHIPPED');

  const body = { kind: 'REFUND_ONLY', lines: [{ skuId, quantity: 2 }], reason: 'parcel lost in part' };
  const [first, second] = await Promise.all([kit.askRefund(memberId, order.orderId, body, 'concurrent-a'), kit.askRefund(memberId, order.orderId, body, 'concurrent-b')]);
  const statuses = [first.status, second.status].sort();
  expect(statuses).toEqual([201, 422]);
  const accepted = first.status === 201 ? first : second;
  expect(accepted.body.requestedFen).toBe(20_000);

  // An agent approves a smaller amount.
  const approved = await kit.support(`/support/refunds/${accepted.body.requestId}/approve`, { amountFen: 15_000 });
  expect(approved.status).toBe(200);
  await kit.waitForRequest(accepted.body.requestId, 'REFUNDED');

  await kit.deliver(order.orderId);
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.totals).toMatchObject({ paidFen: 30_000, refundedFen: 15_000 });
  expect(completed.lines[0].refundedFen).toBe(15_000);
  // Revenue only on what was kept; the refund booked once.
  const entries = await kit.finance().entriesForOrder(order.orderId);
  expect(entries.map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'REFUND', 'REVENUE_RECOGNISED']);
  const revenue = entries.find((entry) => entry.kind === 'REVENUE_RECOGNISED')!;
  expect(revenue.lines.reduce((sum, line) => sum + line.creditFen, 0)).toBe(15_000);
  // Goods not received: nothing comes back to stock (3 shipped).
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 7, reserved: 0 });
  // Points: 300 awarded, 150 taken back for the refund, the rest available at completion.
  expect(await kit.points(memberId)).toEqual({ available: 2_150, held: 0, pending: 0 });
});

test('rejected with a reason: the order goes on and completes; the reason is audited', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'found it cheaper' });
  expect(asked.status).toBe(201);
  const requestId = asked.body.requestId as string;

  const noReason = await kit.support(`/support/refunds/${requestId}/reject`, {});
  expect(noReason.status).toBe(400);
  const rejected = await kit.support(`/support/refunds/${requestId}/reject`, { reason: 'not eligible: promotion item' });
  expect(rejected.status).toBe(200);
  expect(rejected.body.decision).toMatchObject({ decision: 'REJECTED', reason: 'not eligible: promotion item' });
  await kit.waitForRequest(requestId, 'REJECTED');
  const again = await kit.support(`/support/refunds/${requestId}/approve`, {});
  expect(again.status).toBe(409);

  // The order learns of the rejection and releases the reservation; then the warehouse may ship.
  await eventually(async () => ((await kit.getOrder(memberId, order.orderId)).afterSales?.requests[0]?.status === 'REJECTED' ? true : undefined));
  await kit.ship(order.orderId);
  await kit.deliver(order.orderId);
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.totals.refundedFen).toBe(0);
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REVENUE_RECOGNISED']);
  expect(await kit.afterSales().decisions({ requestId })).toEqual([
    expect.objectContaining({ decision: 'REJECTED', decidedBy: 'agent_test', reason: 'not eligible: promotion item', channel: 'api' }),
  ]);
});

test('return and refund after delivery: approved, return shipped, received, then refunded with the stock back', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 2 }] }); // 200 yuan
  await kit.ship(order.orderId);
  await kit.deliver(order.orderId);
  await kit.waitForStatus(memberId, order.orderId, 'DELIVERED');
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8 });

  const early = await kit.askRefund(memberId, order.orderId, { kind: 'RETURN_AND_REFUND', lines: [{ lineId: 'L1', quantity: 3 }], reason: 'too many' });
  expect(early.status).toBe(422);
  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'RETURN_AND_REFUND', lines: [{ lineId: 'L1', quantity: 2 }], reason: 'wrong size' });
  expect(asked.status).toBe(201);
  const requestId = asked.body.requestId as string;
  expect((await kit.support(`/support/refunds/${requestId}/approve`, {})).status).toBe(200);
  await kit.waitForRequest(requestId, 'AWAITING_RETURN');

  const shipped = await request(api.url).post(`/refunds/${requestId}/return-shipment`).set('Authorization', customerAuth(memberId)).send({ carrier: 'YTO', trackingNumber: 'YT99' });
  expect(shipped.status).toBe(200);
  expect(shipped.body.status).toBe('RETURN_SHIPPED');
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8 });

  const received = await request(api.url).post(`/warehouse/refunds/${requestId}/received`).set('X-API-Key', API_KEYS.warehouse).send({});
  expect(received.status).toBe(200);
  await kit.waitForRequest(requestId, 'REFUNDED');
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });

  const refunded = await kit.waitForStatus(memberId, order.orderId, 'REFUNDED');
  expect(refunded.totals).toMatchObject({ paidFen: 20_000, refundedFen: 20_000 });
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
  expect(await kit.points(memberId)).toEqual({ available: 2_000, held: 0, pending: 0 });
});
