import request from 'supertest';
import { approveRefundSignal, getRefundRequestQuery, refundWorkflowId, rejectRefundSignal } from '../../workflows/after-sales/definitions';
import { customerAuth, staffAuth } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { createTestEnv, type TestEnv } from '../support/harness';
import { afterSalesKit, afterSalesTimeouts } from './helpers';

/**
 * The refund workflow's paths not driven by the support API: the buyer never ships the goods back
 * within RETURN_SHIPMENT_WINDOW (3 s here), and ops deciding by a signal sent straight to the
 * request's workflow (as from the Temporal UI or CLI). Real Temporal, PostgreSQL and API.
 */
let env: TestEnv;
let api: TestApi;
let kit: ReturnType<typeof afterSalesKit>;

beforeAll(async () => {
  env = await createTestEnv();
  kit = afterSalesKit(env, () => api);
  await env.startWorker();
  api = await startTestApi(env, afterSalesTimeouts({ returnShipmentMs: 3_000 }));
});
afterAll(async () => {
  await api.close();
  await env.close();
});

test('return and refund approved but never shipped back in the window: request CLOSED, nothing refunded, the order completes', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 2 }] }); // 200 yuan
  await kit.ship(order.orderId);
  await kit.deliver(order.orderId);
  await kit.waitForStatus(memberId, order.orderId, 'DELIVERED');

  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'RETURN_AND_REFUND', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'does not fit' });
  expect(asked.status).toBe(201);
  const requestId = asked.body.requestId as string;
  expect((await kit.support(`/support/refunds/${requestId}/approve`, {})).status).toBe(200);
  const awaiting = await kit.waitForRequest(requestId, 'AWAITING_RETURN');
  expect(awaiting.returnDueAt).toEqual(expect.any(String));

  const closed = await kit.waitForRequest(requestId, 'CLOSED', 20_000);
  expect(closed.closedReason).toContain('not shipped back in time');
  expect(closed.refundedFen).toBe(0);
  // Too late to ship it back now.
  const late = await request(api.url).post(`/refunds/${requestId}/return-shipment`).set('Authorization', customerAuth(memberId)).send({ carrier: 'YTO', trackingNumber: 'YT1' });
  expect(late.status).toBe(409);

  // The order releases the reservation and goes on to complete with nothing refunded.
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.totals).toMatchObject({ paidFen: 20_000, refundedFen: 0 });
  expect(completed.afterSales?.requests).toEqual([expect.objectContaining({ requestId, status: 'CLOSED', refundedFen: 0 })]);
  expect(completed.afterSales?.lines).toEqual([expect.objectContaining({ lineId: 'L1', refundedQuantity: 0, reservedQuantity: 0, reservedFen: 0 })]);
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REVENUE_RECOGNISED']);
  const [payment] = await kit.finance().paymentsForOrder(order.orderId);
  expect(payment).toMatchObject({ capturedFen: 20_000, refundedFen: 0 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ refundedFen: 0 });
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8, reserved: 0 }); // nothing came back
  // The approval was audited once; the closing is not a decision.
  expect(await kit.afterSales().decisions({ requestId })).toEqual([expect.objectContaining({ decision: 'APPROVED', channel: 'api' })]);
});

const tokenOf = (authorization: string) => authorization.replace(/^Bearer /, '');

test('ops approve by a signal sent straight to the refund workflow: honoured as the verified actor, audited like an agent decision, later decisions refused', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] }); // 100 yuan
  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'ordered twice' });
  expect(asked.status).toBe(201);
  const requestId = asked.body.requestId as string;

  const handle = env.temporal.workflow.getHandle(refundWorkflowId(requestId));
  // A signal without an actor token, with a forged one, or with a buyer's token is refused (and noted), never a decision.
  await handle.signal(approveRefundSignal, { agentId: 'ops_alice' });
  await handle.signal(approveRefundSignal, { agentId: 'ops_alice', actorToken: `${tokenOf(staffAuth('support', 'ops_alice'))}x` });
  await handle.signal(approveRefundSignal, { agentId: 'ops_alice', actorToken: tokenOf(customerAuth(memberId)) });
  const ignored = await eventually(async () => {
    const timeline = (await handle.query(getRefundRequestQuery)).timeline.filter((entry) => entry.event === 'approveRefund ignored');
    return timeline.length === 3 ? timeline : undefined;
  });
  expect(ignored.map((entry) => String(entry.detail?.why))).toEqual([
    expect.stringContaining('no actor token'),
    expect.stringContaining('invalid token'),
    expect.stringContaining('role customer may not send'),
  ]);
  expect(JSON.stringify(ignored)).not.toContain('eyJ'); // tokens never reach the timeline
  expect((await handle.query(getRefundRequestQuery)).status).toBe('PENDING');

  // A support agent's token: honoured, under the actor it proves (the typed agentId is not trusted).
  await handle.signal(approveRefundSignal, { agentId: 'somebody_else', actorToken: tokenOf(staffAuth('support', 'ops_alice')) });
  const refundedRequest = await kit.waitForRequest(requestId, 'REFUNDED');
  expect(refundedRequest.decision).toMatchObject({ decision: 'APPROVED', decidedBy: 'support:ops_alice', channel: 'signal', approvedFen: 10_000 });
  expect(refundedRequest.refundedFen).toBe(10_000);

  // Decided: the support API answers 409.
  expect((await kit.support(`/support/refunds/${requestId}/reject`, { reason: 'too late' })).status).toBe(409);
  const refunded = await kit.waitForStatus(memberId, order.orderId, 'REFUNDED');
  expect(refunded.totals).toMatchObject({ paidFen: 10_000, refundedFen: 10_000 });
  expect(await api.sandbox.getIntent(order.payment.intentId!)).toMatchObject({ capturedFen: 10_000, refundedFen: 10_000 });
  expect(await kit.ledgerKinds(order.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });

  // Audited like an agent's decision: who, what, channel, the workflow run it reached.
  const { runId } = await handle.describe();
  const audit = await kit.afterSales().decisions({ requestId });
  expect(audit).toEqual([
    expect.objectContaining({ decision: 'APPROVED', decidedBy: 'support:ops_alice', channel: 'signal', approvedFen: 10_000, orderId: order.orderId, workflowId: refundWorkflowId(requestId), runId }),
  ]);
  expect(audit[0].decidedAt).toEqual(expect.any(String));
  // The workflow has completed; a reject signal to it now is refused by Temporal, and nothing changes.
  await handle.result();
  await expect(handle.signal(rejectRefundSignal, { agentId: 'ops_bob', reason: 'second thoughts' })).rejects.toThrow();
  expect(await kit.afterSales().decisions({ requestId })).toHaveLength(1);
});
