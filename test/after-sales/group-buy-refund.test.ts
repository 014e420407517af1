import request from 'supertest';
import { createGroupBuyService } from '../../modules/group-buy';
import type { OrderView } from '../../workflows/order/definitions';
import type { GroupView } from '../../workflows/group/definitions';
import { API_KEYS, customerAuth, testApiSettings } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { afterSalesKit, afterSalesTimeouts } from './helpers';

/**
 * After-sales on group-buy (拼团) member orders, through the real API (group opened and joined as
 * test/group-buy does), Temporal and PostgreSQL: one member's refund runs on that member's order only;
 * the group and the other members' orders are untouched.
 */
let env: TestEnv;
let api: TestApi;
let kit: ReturnType<typeof afterSalesKit>;
let sequence = 0;

const LIST_PRICE = 10_000;
const GROUP_PRICE = 8_000;
const TIMEOUTS = afterSalesTimeouts({ afterSalesWindowMs: 15_000 });

beforeAll(async () => {
  env = await createTestEnv();
  kit = afterSalesKit(env, () => api);
  await env.startWorker();
  api = await startTestApi(env, TIMEOUTS, { ...testApiSettings(env, TIMEOUTS), groupBuyPaymentMs: 10_000 });
});
afterAll(async () => {
  await api.close();
  await env.close();
});

async function campaign(groupSize: number) {
  sequence += 1;
  const skuId = `sku_gbr_${sequence}_${env.id}`;
  await addSku(env.pool, skuId, LIST_PRICE, 10);
  const definition = {
    id: `group_${skuId}`,
    kind: 'GROUP_BUY',
    name: `Group-buy of ${skuId}`,
    skuId,
    groupPriceFen: GROUP_PRICE,
    groupSize,
    onFullGroup: 'REJECT',
    perUserLimit: 2,
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + 120_000).toISOString(),
  };
  const created = await request(api.url).post('/admin/campaigns').set('X-API-Key', API_KEYS.admin).send(definition);
  expect(created.status).toBe(201);
  return { campaignId: definition.id, skuId };
}

async function buyer(): Promise<string> {
  sequence += 1;
  const memberId = `mem_gbr_${sequence}_${env.id}`;
  await addMember(env.pool, memberId);
  return memberId;
}

async function join(memberId: string, campaignId: string, groupId?: string): Promise<OrderView> {
  const response = await request(api.url)
    .post(`/group-buys/${campaignId}/orders`)
    .set('Authorization', customerAuth(memberId))
    .set('Idempotency-Key', `key-${memberId}-${Math.random()}`)
    .send(groupId ? { groupId } : {});
  expect(response.status).toBe(201);
  return response.body as OrderView;
}

async function pay(order: OrderView) {
  expect((await request(api.url).post(`/sandbox/intents/${order.payment.intentId}/pay`).send({})).status).toBe(200);
}

async function group(groupId: string): Promise<GroupView> {
  const response = await request(api.url).get(`/groups/${groupId}`).set('Authorization', customerAuth('anyone'));
  expect(response.status).toBe(200);
  return response.body as GroupView;
}

const held = async (campaignId: string, customerId: string) => (await createGroupBuyService({ pool: env.pool }).holding({ campaignId, customerId })).units;

/** A group of two, opened, joined and paid; both member orders know it succeeded. */
async function succeededGroup() {
  const { campaignId, skuId } = await campaign(2);
  const [leader, member] = [await buyer(), await buyer()];
  const lead = await join(leader, campaignId);
  const groupId = lead.group!.groupId;
  const other = await join(member, campaignId, groupId);
  await pay(lead);
  await pay(other);
  await eventually(async () => ((await group(groupId)).status === 'SUCCEEDED' ? true : undefined), 25_000, 'group success');
  for (const [memberId, order] of [[leader, lead], [member, other]] as const) {
    await eventually(async () => ((await kit.getOrder(memberId, order.orderId)).group?.outcome === 'SUCCEEDED' ? true : undefined), 25_000, 'outcome');
  }
  return { campaignId, skuId, groupId, leader, lead, member, other };
}

test('group succeeded, one member returns the delivered unit: provider refund, ledger, stock back for that order only; the other member completes', async () => {
  const { campaignId, skuId, groupId, leader, lead, member, other } = await succeededGroup();
  const pointsBefore = await kit.points(leader);
  for (const order of [lead, other]) {
    await kit.ship(order.orderId);
    await kit.deliver(order.orderId);
  }
  await kit.waitForStatus(leader, lead.orderId, 'DELIVERED');
  await kit.waitForStatus(member, other.orderId, 'DELIVERED');
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8, reserved: 0 });

  const asked = await kit.askRefund(leader, lead.orderId, { kind: 'RETURN_AND_REFUND', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'wrong colour' });
  expect(asked.status).toBe(201);
  expect(asked.body).toMatchObject({ status: 'PENDING', requestedFen: GROUP_PRICE, kind: 'RETURN_AND_REFUND' });
  const requestId = asked.body.requestId as string;
  expect((await kit.support(`/support/refunds/${requestId}/approve`, {})).status).toBe(200);
  await kit.waitForRequest(requestId, 'AWAITING_RETURN');
  const shipped = await request(api.url).post(`/refunds/${requestId}/return-shipment`).set('Authorization', customerAuth(leader)).send({ carrier: 'YTO', trackingNumber: 'YT1' });
  expect(shipped.status).toBe(200);
  const received = await request(api.url).post(`/warehouse/refunds/${requestId}/received`).set('X-API-Key', API_KEYS.warehouse).send({});
  expect(received.status).toBe(200);
  await kit.waitForRequest(requestId, 'REFUNDED');
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 9, reserved: 0 });

  // The refunded member's order ends REFUNDED when the window closes; money and ledger reversed once.
  const refunded = await kit.waitForStatus(leader, lead.orderId, 'REFUNDED');
  expect(refunded.type).toBe('GROUP_BUY');
  expect(refunded.totals).toMatchObject({ paidFen: GROUP_PRICE, refundedFen: GROUP_PRICE });
  expect(refunded.group).toMatchObject({ groupId, outcome: 'SUCCEEDED' });
  expect(await api.sandbox.getIntent(lead.payment.intentId!)).toMatchObject({ capturedFen: GROUP_PRICE, refundedFen: GROUP_PRICE });
  expect(await kit.ledgerKinds(lead.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
  // Points granted for the payment were pending and are taken back: nothing gained, nothing lost.
  expect(await kit.points(leader)).toEqual({ ...pointsBefore, pending: 0 });
  // Goods bought and returned: the unit taken of the per-user limit stays taken (a return is not a cancel).
  expect(await held(campaignId, leader)).toBe(1);

  // The other member: unaffected, completed at the group price with revenue recognised.
  const completed = await kit.waitForStatus(member, other.orderId, 'COMPLETED');
  expect(completed.totals).toMatchObject({ paidFen: GROUP_PRICE, refundedFen: 0 });
  expect(completed.afterSales).toBeUndefined();
  expect(await api.sandbox.getIntent(other.payment.intentId!)).toMatchObject({ capturedFen: GROUP_PRICE, refundedFen: 0 });
  expect(await kit.ledgerKinds(other.orderId)).toEqual(['PAYMENT_CAPTURED', 'REVENUE_RECOGNISED']);
  expect(await kit.points(member)).toMatchObject({ available: pointsBefore.available + GROUP_PRICE / 100, pending: 0 });
  expect(await group(groupId)).toMatchObject({ status: 'SUCCEEDED', paidMembers: 2 });
});

test('group succeeded, one member refunded in full before shipment: reservation released, per-user limit returned, order REFUNDED; the other member ships', async () => {
  const { campaignId, skuId, groupId, leader, lead, member, other } = await succeededGroup();
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 2 });
  expect(await held(campaignId, member)).toBe(1);

  const asked = await kit.askRefund(member, other.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'changed my mind' });
  expect(asked.status).toBe(201);
  const requestId = asked.body.requestId as string;
  // Nothing ships while the request is open.
  const early = await request(api.url).post(`/warehouse/orders/${other.orderId}/ship`).set('X-API-Key', API_KEYS.warehouse).send({ carrier: 'SF', trackingNumber: 'X' });
  expect(early.status).toBe(409);
  expect((await kit.support(`/support/refunds/${requestId}/approve`, {})).status).toBe(200);
  await kit.waitForRequest(requestId, 'REFUNDED');

  const refunded = await kit.waitForStatus(member, other.orderId, 'REFUNDED');
  expect(refunded.totals).toMatchObject({ paidFen: GROUP_PRICE, refundedFen: GROUP_PRICE });
  expect(await api.sandbox.getIntent(other.payment.intentId!)).toMatchObject({ capturedFen: GROUP_PRICE, refundedFen: GROUP_PRICE });
  expect(await kit.ledgerKinds(other.orderId)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
  expect(await kit.points(member)).toMatchObject({ pending: 0 });
  await eventually(async () => ((await held(campaignId, member)) === 0 ? true : undefined), 10_000, 'units back to the per-user limit');
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 1 });

  // The leader's order is untouched: it ships and delivers normally; the group stays SUCCEEDED.
  await kit.ship(lead.orderId);
  await kit.deliver(lead.orderId);
  const delivered = await kit.waitForStatus(leader, lead.orderId, 'DELIVERED');
  expect(delivered.totals).toMatchObject({ paidFen: GROUP_PRICE, refundedFen: 0 });
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 9, reserved: 0 });
  expect(await held(campaignId, leader)).toBe(1);
  expect(await api.sandbox.getIntent(lead.payment.intentId!)).toMatchObject({ refundedFen: 0 });
  expect((await group(groupId)).status).toBe('SUCCEEDED');
});

test('a paid member of a forming group cannot ask for a refund (as for cancel: if the group fails, it is refunded in full)', async () => {
  const { campaignId } = await campaign(3);
  const leader = await buyer();
  const lead = await join(leader, campaignId);
  await pay(lead);
  await kit.waitForStatus(leader, lead.orderId, 'PAID');
  await eventually(async () => ((await group(lead.group!.groupId)).paidMembers === 1 ? true : undefined), 20_000, 'paid member');

  const asked = await kit.askRefund(leader, lead.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'too slow' });
  expect(asked.status).toBe(409);
  expect(asked.body).toMatchObject({ reason: 'REFUND_NOT_ALLOWED' });
  expect(asked.body.detail).toContain('forming');
  expect((await kit.getOrder(leader, lead.orderId)).afterSales).toBeUndefined();
  expect((await group(lead.group!.groupId)).paidMembers).toBe(1);
});
