import type request from 'supertest';
import { getOrderQuery } from '../../workflows/order/definitions';
import { caseTimeouts, GROUP_PRICE, PRESALE, useCase } from './kit';

/**
 * Issue 9, case 3: a cancel that arrives after the payment callback, while the payment is being
 * recorded and captured (phase PAYMENT_RECEIVED; the buyer still sees PENDING_PAYMENT), is refused
 * 409: the payment is being confirmed. The order then proceeds as paid. Today the cancel is accepted:
 * presale refunds a non-refundable deposit, and group-buy reports the cancelled member to the group
 * as paid, so the group "succeeds" one buyer short.
 *
 * The capture is held for some seconds by the sandbox provider failing it (retryable) three times.
 */
jest.setTimeout(90_000);

const kit = useCase(caseTimeouts(), { groupBuyPaymentMs: 10_000 });

/** Fails the capture of the order's payment three times: 1 + 2 + 4 seconds of retries. */
async function holdCapture(orderId: string) {
  const { id } = await kit.addBehaviour({ action: 'error', operation: 'capture', orderId, count: 3 });
  return { wait: () => kit.waitForBehaviourUse(id, 3) };
}

function expectPaymentBeingConfirmed(response: request.Response) {
  expect(response.status).toBe(409);
  expect(response.headers['content-type']).toMatch(/problem\+json/);
  const text = `${response.body.type} ${response.body.detail} ${response.body.reason ?? ''}`;
  expect(text).toMatch(/payment/i);
  expect(text).toMatch(/confirm/i);
}

test('presale: a cancel while the deposit is being captured is refused 409; the deposit is kept (not refundable) and the order is DEPOSIT_PAID', async () => {
  const { skuId, memberId } = await kit.shop();
  const campaign = await kit.createPresale(skuId, { finalInMs: 60_000 });
  const order = await kit.placeDeposit(memberId, campaign.id);
  const capture = await holdCapture(order.orderId);
  await kit.pay(order.payment.intentId!);
  await capture.wait();

  const during = await kit.getOrder(memberId, order.orderId);
  expect(during.status).toBe('PENDING_PAYMENT');
  expectPaymentBeingConfirmed(await kit.cancel(memberId, order.orderId));
  // The workflow's own state (the storefront reads the projection, written when the phase settles).
  expect((await kit.handle(order.orderId).query(getOrderQuery)).phase).toBe('PAYMENT_RECEIVED');

  const depositPaid = await kit.waitForStatus(memberId, order.orderId, 'DEPOSIT_PAID', 30_000);
  expect(depositPaid.phase).toBe('DEPOSIT_PAID');
  expect(depositPaid.totals).toMatchObject({ paidFen: PRESALE.depositFen, refundedFen: 0 });
  expect(depositPaid.cancellation).toBeUndefined();
  // Nothing follows: the deposit stays captured, the stock reserved, the workflow waits for the final window.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(await kit.intent(order.payment.intentId!)).toMatchObject({ status: 'captured', capturedFen: PRESALE.depositFen, refundedFen: 0 });
  expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: PRESALE.depositFen, refundedFen: 0, refunds: 0 });
  expect((await kit.ledger(order.orderId)).map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED']);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 1 });
  expect((await kit.getOrder(memberId, order.orderId)).status).toBe('DEPOSIT_PAID');
  expect(await kit.runStatus(order.orderId)).toBe('RUNNING');
});

test('group-buy: a member\'s cancel while their payment is being captured is refused 409; the group succeeds with both real members and both ship', async () => {
  const { campaignId, skuId } = await kit.createGroupBuy({ groupSize: 2 });
  const [leader, member] = [await kit.member(), await kit.member()];
  const lead = await kit.joinGroupBuy(leader, campaignId);
  const groupId = lead.group!.groupId;
  const joined = await kit.joinGroupBuy(member, campaignId, groupId);
  await kit.pay(lead.payment.intentId!);
  await kit.waitForStatus(leader, lead.orderId, 'PAID');

  const capture = await holdCapture(joined.orderId);
  await kit.pay(joined.payment.intentId!);
  await capture.wait();
  expect((await kit.getOrder(member, joined.orderId)).status).toBe('PENDING_PAYMENT');
  expectPaymentBeingConfirmed(await kit.cancel(member, joined.orderId));

  const formed = await kit.waitForGroup(groupId, 'SUCCEEDED');
  expect(formed).toMatchObject({ paidMembers: 2, seatsLeft: 0, virtualSuccess: false });
  expect(formed.members.map((entry) => entry.status)).toEqual(['PAID', 'PAID']);

  for (const [buyer, placed] of [[leader, lead], [member, joined]] as const) {
    const proceeding = await kit.waitFor(buyer, placed.orderId, (o) => o.group?.outcome === 'SUCCEEDED' && o.status === 'PAID', 'group succeeded, paid');
    expect(proceeding.cancellation).toBeUndefined();
    expect(proceeding.totals.refundedFen).toBe(0);
    const shipped = await kit.ship(placed.orderId);
    expect(shipped.status).toBe(200);
    expect(shipped.body.status).toBe('SHIPPED');
  }
  expect(await kit.intent(joined.payment.intentId!)).toMatchObject({ capturedFen: GROUP_PRICE, refundedFen: 0 });
  expect(await kit.providerTotals(joined.orderId)).toEqual({ capturedFen: GROUP_PRICE, refundedFen: 0, refunds: 0 });
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8, reserved: 0 });
});

test('standard: a cancel from a view that already shows PAID (the projection ran ahead of a retried workflow task) waits for the capture, then is accepted: 200, refunded in full, stock released', async () => {
  const { skuId, memberId } = await kit.shop();
  const placed = await kit.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }] });
  expect(placed.status).toBe(201);
  const order = placed.body as { orderId: string; payment: { intentId?: string } };
  // Two failed captures: 1 + 2 seconds of retries while the order is in PAYMENT_RECEIVED.
  const { id } = await kit.addBehaviour({ action: 'error', operation: 'capture', orderId: order.orderId, count: 2 });
  await kit.pay(order.payment.intentId!);
  await kit.waitForBehaviourUse(id, 2);
  expect((await kit.handle(order.orderId).query(getOrderQuery)).phase).toBe('PAYMENT_RECEIVED');
  // What a local activity leaves when the workflow task that ran it is retried: the view a step ahead.
  await kit.env().pool.query(
    `UPDATE orders.orders SET status = 'PAID', view = view || '{"phase": "PAID", "status": "PAID"}'::jsonb WHERE order_id = $1`,
    [order.orderId],
  );

  const sentAt = Date.now();
  const cancelled = await kit.cancel(memberId, order.orderId);
  // The workflow refused PAYMENT_IN_PROGRESS until the capture went through; the buyer had seen PAID,
  // so the API asked again instead of answering 409, and the one request was accepted.
  expect([cancelled.status, cancelled.body.detail]).toEqual([200, undefined]);
  expect(Date.now() - sentAt).toBeGreaterThanOrEqual(300);
  expect(cancelled.body.cancellation).toMatchObject({ reason: 'changed my mind' });

  const done = await kit.waitForProjection(order.orderId, 'CANCELLED', (row) => row.refundedFen > 0);
  expect(done.refundedFen).toBe(10_000);
  expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 10_000, refundedFen: 10_000, refunds: 1 });
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
});
