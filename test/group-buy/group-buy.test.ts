import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createFinanceService } from '../../modules/finance';
import { createSandboxProvider, type SandboxProvider } from '../../modules/finance/sandbox';
import { createGroupBuyService } from '../../modules/group-buy';
import type { OrderView } from '../../workflows/order/definitions';
import { groupWorkflowId, joinGroupUpdate, type GroupView } from '../../workflows/group/definitions';
import { recordHistory, recordWorkflowHistory } from '../support/histories';
import { API_KEYS, customerAuth, TEST_WEBHOOK_SECRET, testApiSettings } from '../support/api';
import { eventually } from '../support/api-server';
import { addMember, addSku, services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * Group-buy (拼团) end to end: the group is a workflow of its own (group-<id>), opened by the leader's
 * order request (update-with-start) and joined by members; the member orders wait for its outcome.
 * The formation window ends with the campaign (seconds here); member payment timeout 8 s (short, but
 * long enough that a loaded machine places, pays and reads within it: the limit tests rely on that).
 */
// Payment timeouts and seat holds of 8-16 s, waited for on a loaded machine.
jest.setTimeout(150_000);

let env: TestEnv;
let url: string;
let sandbox: SandboxProvider;
let server: http.Server;
let sequence = 0;

const LIST_PRICE = 10_000;
const GROUP_PRICE = 8_000;
const MEMBER_PAYMENT_MS = 8_000;

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  // The real API on loopback, as test/support/api-server.ts, with a short member payment timeout.
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sandbox = createSandboxProvider({ pool: env.pool, webhook: { url: `${url}/payments/webhook`, secret: TEST_WEBHOOK_SECRET, baseDelayMs: 100 }, pollIntervalMs: 250 });
  const settings = { ...testApiSettings(env), groupBuyPaymentMs: MEMBER_PAYMENT_MS };
  server.on('request', createApp({ pool: env.pool, temporal: env.temporal, settings, sandbox }));
});
afterAll(async () => {
  await sandbox.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await env.close();
});

async function campaign(options: {
  groupSize: number;
  endsInMs?: number;
  minRealMembers?: number;
  onFullGroup?: 'REJECT' | 'OPEN_NEW';
  perUserLimit?: number;
  stock?: number;
}) {
  sequence += 1;
  const skuId = `sku_group_${sequence}`;
  await addSku(env.pool, skuId, LIST_PRICE, options.stock ?? 10);
  const definition = {
    id: `group_${skuId}`,
    kind: 'GROUP_BUY',
    name: `Group-buy of ${skuId}`,
    skuId,
    groupPriceFen: GROUP_PRICE,
    groupSize: options.groupSize,
    ...(options.minRealMembers ? { virtualSuccess: { minRealMembers: options.minRealMembers } } : {}),
    onFullGroup: options.onFullGroup ?? 'REJECT',
    ...(options.perUserLimit ? { perUserLimit: options.perUserLimit } : {}),
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + (options.endsInMs ?? 120_000)).toISOString(),
  };
  const created = await request(url).post('/admin/campaigns').set('X-API-Key', API_KEYS.admin).send(definition);
  expect(created.status).toBe(201);
  return { campaignId: definition.id, skuId };
}

async function buyer(): Promise<string> {
  sequence += 1;
  const memberId = `mem_group_${sequence}_${env.id}`;
  await addMember(env.pool, memberId);
  return memberId;
}

function order(memberId: string, campaignId: string, body: { groupId?: string; quantity?: number } = {}) {
  return request(url)
    .post(`/group-buys/${campaignId}/orders`)
    .set('Authorization', customerAuth(memberId))
    .set('Idempotency-Key', `key-${memberId}-${Math.random()}`)
    .send(body);
}

async function placed(memberId: string, campaignId: string, groupId?: string): Promise<OrderView> {
  const response = await order(memberId, campaignId, groupId ? { groupId } : {});
  expect(response.status).toBe(201);
  return response.body as OrderView;
}

async function getOrder(memberId: string, orderId: string): Promise<OrderView> {
  const response = await request(url).get(`/orders/${orderId}`).set('Authorization', customerAuth(memberId));
  expect(response.status).toBe(200);
  return response.body as OrderView;
}

function waitFor(memberId: string, orderId: string, check: (order: OrderView) => boolean, what: string, timeoutMs = 25_000): Promise<OrderView> {
  return eventually(async () => {
    const current = await getOrder(memberId, orderId);
    return check(current) ? current : undefined;
  }, timeoutMs, `order ${orderId}: ${what}`);
}

async function group(groupId: string): Promise<GroupView> {
  const response = await request(url).get(`/groups/${groupId}`).set('Authorization', customerAuth('anyone'));
  expect(response.status).toBe(200);
  return response.body as GroupView;
}

async function pay(intentId: string) {
  expect((await request(url).post(`/sandbox/intents/${intentId}/pay`).send({})).status).toBe(200);
}

/** The buyer's units held against the campaign's per-user limit (group_buy.buyer_limits). */
async function held(campaignId: string, customerId: string): Promise<number> {
  return (await createGroupBuyService({ pool: env.pool }).holding({ campaignId, customerId })).units;
}

function expectLimitReached(response: request.Response, perUserLimit: number) {
  expect(response.status).toBe(409);
  expect(response.headers['content-type']).toMatch(/problem\+json/);
  expect(response.body).toMatchObject({ reason: 'LIMIT_REACHED', perUserLimit });
}

function ship(orderId: string) {
  return request(url).post(`/warehouse/orders/${orderId}/ship`).set('X-API-Key', API_KEYS.warehouse).send({ carrier: 'SF', trackingNumber: `SF-${orderId}` });
}

test('success at N paid members: every member order proceeds and ships; nothing ships before', async () => {
  const { campaignId, skuId } = await campaign({ groupSize: 3 });
  const [leader, second, third] = [await buyer(), await buyer(), await buyer()];
  const lead = await placed(leader, campaignId);
  expect(lead.type).toBe('GROUP_BUY');
  expect(lead.totals.payableFen).toBe(GROUP_PRICE);
  expect(lead.group).toMatchObject({ leader: true, outcome: 'PENDING', groupId: expect.any(String) });
  const groupId = lead.group!.groupId;
  const opened = await group(groupId);
  expect(opened).toMatchObject({ status: 'FORMING', groupSize: 3, seatsLeft: 2, paidMembers: 0 });
  expect(new Date(opened.deadline).getTime()).toBeGreaterThan(Date.now());

  const members = [lead, await placed(second, campaignId, groupId), await placed(third, campaignId, groupId)];
  expect(members[1].group).toMatchObject({ groupId, leader: false });
  expect((await group(groupId)).seatsLeft).toBe(0);
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 3 });

  await pay(lead.payment.intentId!);
  await pay(members[1].payment.intentId!);
  await waitFor(leader, lead.orderId, (o) => o.status === 'PAID', 'paid');
  await eventually(async () => ((await group(groupId)).paidMembers === 2 ? true : undefined), 20_000, 'two paid');
  // Paid, but the group has not formed: the warehouse may not ship, the member may not leave.
  const early = await ship(lead.orderId);
  expect(early.status).toBe(409);
  expect(early.body.detail).toContain('nothing ships before');
  const leave = await request(url).post(`/orders/${lead.orderId}/cancel`).set('Authorization', customerAuth(leader)).send({});
  expect(leave.status).toBe(409);

  await pay(members[2].payment.intentId!);
  const formed = await eventually(async () => {
    const current = await group(groupId);
    return current.status === 'SUCCEEDED' ? current : undefined;
  }, 20_000, 'group success');
  expect(formed).toMatchObject({ paidMembers: 3, seatsLeft: 0, virtualSuccess: false });
  expect(formed.members.map((member) => member.status)).toEqual(['PAID', 'PAID', 'PAID']);

  const buyers = [leader, second, third];
  for (const [index, member] of members.entries()) {
    await waitFor(buyers[index], member.orderId, (o) => o.group?.outcome === 'SUCCEEDED', 'group succeeded');
    const shipped = await ship(member.orderId);
    expect(shipped.status).toBe(200);
    expect(shipped.body.status).toBe('SHIPPED');
  }
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ onHand: 7, reserved: 0 });
  await recordWorkflowHistory(env, groupWorkflowId(groupId), 'group-succeeded');
  await recordHistory(env, lead.orderId, 'group-buy-order-shipped-running', { running: true });
});

test('failure at expiry: every member refunded in full automatically (provider, ledger), stock released; the closed group takes nobody', async () => {
  const { campaignId, skuId } = await campaign({ groupSize: 3, endsInMs: 6_000 });
  const [leader, second] = [await buyer(), await buyer()];
  const lead = await placed(leader, campaignId);
  const groupId = lead.group!.groupId;
  const member = await placed(second, campaignId, groupId);
  await pay(lead.payment.intentId!);
  await pay(member.payment.intentId!);
  await waitFor(second, member.orderId, (o) => o.status === 'PAID', 'paid');

  const failed = await eventually(async () => {
    const current = await group(groupId);
    return current.status === 'FAILED' ? current : undefined;
  }, 20_000, 'group failure');
  expect(failed.paidMembers).toBe(2);

  const finance = createFinanceService({ pool: env.pool, provider: sandbox });
  for (const [memberId, placedOrder] of [[leader, lead], [second, member]] as const) {
    const cancelled = await waitFor(memberId, placedOrder.orderId, (o) => o.status === 'CANCELLED', 'cancelled');
    expect(cancelled.group?.outcome).toBe('FAILED');
    expect(cancelled.cancellation).toMatchObject({ by: 'system', reason: expect.stringContaining('group failed') });
    expect(await sandbox.getIntent(placedOrder.payment.intentId!)).toMatchObject({ capturedFen: GROUP_PRICE, refundedFen: GROUP_PRICE });
    const entries = await finance.entriesForOrder(placedOrder.orderId);
    expect(entries.map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
    expect(entries[1].lines).toEqual(expect.arrayContaining([{ account: 'cash:provider', debitFen: 0, creditFen: GROUP_PRICE }]));
  }
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  // The refunded members' units went back to their per-user limit.
  for (const memberId of [leader, second]) expect(await held(campaignId, memberId)).toBe(0);
  // A closed group takes nobody.
  const late = await order(await buyer(), campaignId, { groupId });
  expect(late.status).toBe(409);
  await recordWorkflowHistory(env, groupWorkflowId(groupId), 'group-failed');
  await recordHistory(env, member.orderId, 'group-buy-order-group-failed');
});

test('virtual success: at expiry with minRealMembers paid the group succeeds; unpaid members are let go', async () => {
  const { campaignId, skuId } = await campaign({ groupSize: 4, endsInMs: 20_000, minRealMembers: 2 });
  const [leader, second, third] = [await buyer(), await buyer(), await buyer()];
  const lead = await placed(leader, campaignId);
  const groupId = lead.group!.groupId;
  const member = await placed(second, campaignId, groupId);
  const unpaid = await placed(third, campaignId, groupId);
  await pay(lead.payment.intentId!);
  await pay(member.payment.intentId!);

  const decided = await eventually(async () => {
    const current = await group(groupId);
    return current.status !== 'FORMING' ? current : undefined;
  }, 45_000, 'group decision');
  expect(decided).toMatchObject({ status: 'SUCCEEDED', virtualSuccess: true, paidMembers: 2 });
  for (const [memberId, paidOrder] of [[leader, lead], [second, member]] as const) {
    await waitFor(memberId, paidOrder.orderId, (o) => o.group?.outcome === 'SUCCEEDED', 'group succeeded');
    expect((await ship(paidOrder.orderId)).status).toBe(200);
  }
  // The unpaid member's seat never counted: their order is cancelled (payment timeout, 8 s, before the
  // 20-second deadline; had the group decided first, its FAILED outcome would have cancelled it).
  const letGo = await waitFor(third, unpaid.orderId, (o) => o.status === 'CANCELLED', 'cancelled');
  expect(letGo.payment.status).toBe('CANCELLED');
  expect(decided.members.find((m) => m.orderId === unpaid.orderId)?.status).not.toBe('PAID');
  expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ onHand: 8, reserved: 0 });
});

test('a full group refuses a join with 409; a member whose payment times out frees the seat without breaking the group', async () => {
  const { campaignId } = await campaign({ groupSize: 2 });
  const [leader, slow, third] = [await buyer(), await buyer(), await buyer()];
  const lead = await placed(leader, campaignId);
  const groupId = lead.group!.groupId;
  const slowOrder = await placed(slow, campaignId, groupId);

  const refused = await order(third, campaignId, { groupId });
  expect(refused.status).toBe(409);
  expect(refused.headers['content-type']).toMatch(/problem\+json/);
  expect(refused.body).toMatchObject({ groupId, reason: 'GROUP_FULL' });

  await pay(lead.payment.intentId!);
  // The slow member never pays: their order is cancelled at the payment timeout and the seat frees up.
  await waitFor(slow, slowOrder.orderId, (o) => o.status === 'CANCELLED', 'payment timeout', 40_000);
  await eventually(async () => ((await group(groupId)).seatsLeft === 1 ? true : undefined), 10_000, 'a free seat');
  expect((await group(groupId)).status).toBe('FORMING');

  const thirdOrder = await placed(third, campaignId, groupId);
  await pay(thirdOrder.payment.intentId!);
  const formed = await eventually(async () => {
    const current = await group(groupId);
    return current.status === 'SUCCEEDED' ? current : undefined;
  }, 20_000, 'group success');
  expect(formed.members.map((member) => member.status)).toEqual(['PAID', 'LEFT', 'PAID']);
  await waitFor(third, thirdOrder.orderId, (o) => o.group?.outcome === 'SUCCEEDED', 'group succeeded');
});

test('duplicate join is refused with 409; OPEN_NEW campaigns open a new group for a full one; unknown groups are 404', async () => {
  // A limit of 2, so that the second attempt is refused for being in the group, not for the limit.
  const { campaignId } = await campaign({ groupSize: 2, perUserLimit: 2 });
  const leader = await buyer();
  const lead = await placed(leader, campaignId);
  const groupId = lead.group!.groupId;
  const duplicate = await order(leader, campaignId, { groupId });
  expect(duplicate.status).toBe(409);
  expect(duplicate.body).toMatchObject({ groupId, reason: 'ALREADY_IN_GROUP' });
  expect((await group(groupId)).members).toHaveLength(1);
  expect((await order(leader, campaignId, { groupId: 'grp_nope' })).status).toBe(404);
  expect((await request(url).get('/groups/grp_nope').set('Authorization', customerAuth(leader))).status).toBe(404);

  const openNew = await campaign({ groupSize: 2, onFullGroup: 'OPEN_NEW' });
  const [a, b, c] = [await buyer(), await buyer(), await buyer()];
  const first = await placed(a, openNew.campaignId);
  await placed(b, openNew.campaignId, first.group!.groupId);
  const overflow = await placed(c, openNew.campaignId, first.group!.groupId);
  expect(overflow.group).toMatchObject({ leader: true });
  expect(overflow.group!.groupId).not.toBe(first.group!.groupId);
});

test('a seat whose order never started (joined, then the API failed) is freed by the group after the seat hold', async () => {
  const { campaignId } = await campaign({ groupSize: 2 });
  const leader = await buyer();
  const lead = await placed(leader, campaignId);
  const groupId = lead.group!.groupId;
  await pay(lead.payment.intentId!);
  // The leader's payment has reached the group first: only the phantom's seat can be released.
  await eventually(async () => ((await group(groupId)).members.find((member) => member.orderId === lead.orderId)?.status === 'PAID' ? true : undefined), 30_000, 'the leader paid in the group');
  // The join as the API makes it, without the order workflow that would normally follow.
  const joined = await env.temporal.workflow
    .getHandle(`group-${groupId}`)
    .executeUpdate(joinGroupUpdate, { args: [{ orderId: `ord_phantom_${env.id}`, customerId: 'mem_ghost', campaignId }] });
  expect(joined.seatsLeft).toBe(0);
  // Seat hold: twice the member payment timeout (16 s).
  const freed = await eventually(async () => {
    const current = await group(groupId);
    return current.seatsLeft === 1 ? current : undefined;
  }, 45_000, 'the phantom seat to be freed');
  expect(freed.members.find((member) => member.orderId === `ord_phantom_${env.id}`)).toMatchObject({ status: 'LEFT', released: true, customerId: 'mem_***' });
  expect(freed.status).toBe('FORMING');
});

describe('per-user limit across the campaign (group_buy.buyer_limits)', () => {
  test('a buyer with limit 2 gets 2 units in two groups; the 3rd unit is refused 409 LIMIT_REACHED, leaving no seat, group or order behind', async () => {
    const { campaignId, skuId } = await campaign({ groupSize: 3, perUserLimit: 2 });
    const [limited, otherLeader, thirdLeader] = [await buyer(), await buyer(), await buyer()];
    const own = await placed(limited, campaignId);
    const other = await placed(otherLeader, campaignId);
    const third = await placed(thirdLeader, campaignId);

    // Two units at once would make 3: refused, and the group keeps its seat free.
    expectLimitReached(await order(limited, campaignId, { groupId: other.group!.groupId, quantity: 2 }), 2);
    expect((await group(other.group!.groupId)).members).toHaveLength(1);
    const joined = await placed(limited, campaignId, other.group!.groupId);
    expect(joined.status).toBe('PENDING_PAYMENT');
    expect(await held(campaignId, limited)).toBe(2);

    // The 3rd unit: neither a join nor a new group.
    expectLimitReached(await order(limited, campaignId, { groupId: third.group!.groupId }), 2);
    expectLimitReached(await order(limited, campaignId), 2);
    expect((await group(third.group!.groupId)).members.map((member) => member.orderId)).toEqual([third.orderId]);
    expect(await held(campaignId, limited)).toBe(2);
    expect(await services(env.pool).inventory.getStock(skuId)).toMatchObject({ reserved: 4 });
    // Only the three groups opened above exist; the buyer has exactly the two orders.
    await eventually(async () => {
      const groups = await env.temporal.workflow.count(`WorkflowType = 'groupBuyWorkflow' AND CampaignId = '${campaignId}'`);
      const orders = await env.temporal.workflow.count(`WorkflowType = 'groupBuyOrderWorkflow' AND CustomerId = '${limited}'`);
      return groups.count === 3 && orders.count === 2 ? true : undefined;
    }, 10_000, 'three groups and two orders of the limited buyer');
    expect(own.group).toMatchObject({ leader: true });
  });

  test('10 parallel joins by one buyer with limit 2: at most 2 succeed, the others are 409 with no seat taken', async () => {
    const { campaignId, skuId } = await campaign({ groupSize: 2, perUserLimit: 2, stock: 20 });
    const leaders = await Promise.all(Array.from({ length: 10 }, () => buyer()));
    const groupIds: string[] = [];
    for (const leader of leaders) groupIds.push((await placed(leader, campaignId)).group!.groupId);
    const limited = await buyer();

    const attempts = await Promise.all(groupIds.map((groupId) => order(limited, campaignId, { groupId })));
    const succeeded = attempts.filter((response) => response.status === 201);
    const refused = attempts.filter((response) => response.status !== 201);
    expect(succeeded.length).toBeLessThanOrEqual(2);
    expect(succeeded.length).toBe(2); // ten groups with a free seat each: exactly the limit goes through
    for (const response of refused) expectLimitReached(response, 2);
    expect(await held(campaignId, limited)).toBe(2);

    // Only the two admitted orders hold seats (group views mask other buyers' ids: match by order id).
    const admittedOrders = succeeded.map((response) => (response.body as OrderView).orderId);
    const views = await Promise.all(groupIds.map((groupId) => group(groupId)));
    expect(views.filter((view) => view.members.length === 2)).toHaveLength(2);
    expect(views.flatMap((view) => view.members.map((member) => member.orderId)).filter((orderId) => admittedOrders.includes(orderId))).toHaveLength(2);
    for (const response of succeeded) expect(response.body).toMatchObject({ status: 'PENDING_PAYMENT', lines: [{ skuId, quantity: 1 }] });
  });

  test('after a member payment timeout the units come back: the buyer can join again', async () => {
    const { campaignId } = await campaign({ groupSize: 2, perUserLimit: 2 });
    const [limited, leader, other] = [await buyer(), await buyer(), await buyer()];
    const first = await placed(limited, campaignId, undefined);
    const busy = await placed(other, campaignId);
    expect(first.status).toBe('PENDING_PAYMENT');
    expectLimitReached(await order(limited, campaignId, { groupId: busy.group!.groupId, quantity: 2 }), 2);

    // The first order is never paid: cancelled at the member payment timeout (8 s), its unit returned.
    const cancelled = await waitFor(limited, first.orderId, (o) => o.status === 'CANCELLED', 'payment timeout', 40_000);
    expect(cancelled.cancellation).toMatchObject({ reason: 'payment timeout' });
    await eventually(async () => ((await held(campaignId, limited)) === 0 ? true : undefined), 10_000, 'units returned');

    const lead = await placed(leader, campaignId);
    const again = await order(limited, campaignId, { groupId: lead.group!.groupId, quantity: 2 });
    expect(again.status).toBe(201);
    expect(await held(campaignId, limited)).toBe(2);
    await pay(lead.payment.intentId!);
    await pay((again.body as OrderView).payment.intentId!);
    await waitFor(limited, (again.body as OrderView).orderId, (o) => o.group?.outcome === 'SUCCEEDED', 'group succeeded');
    // A paid member of a successful group keeps the units.
    expect(await held(campaignId, limited)).toBe(2);
  });
});
