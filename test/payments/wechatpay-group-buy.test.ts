import request from 'supertest';
import { createFinanceService } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth } from '../support/api';
import { eventually } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';
import { startWechatpayEngine, type WechatpayTestEngine } from '../support/wechatpay-api';

/** Group-buy paid with WeChat Pay: a formed group keeps every payment, a failed one refunds each in full. */
let env: TestEnv;
let engine: WechatpayTestEngine;
const shop = storefront(() => engine);
const GROUP_PRICE = 8_000;
let sequence = 0;

beforeAll(async () => {
  env = await createTestEnv();
  engine = await startWechatpayEngine(env, undefined, { groupBuyPaymentMs: 4_000 });
});
afterAll(async () => {
  await engine?.close();
  await env.close();
});

async function campaign(endsInMs: number): Promise<string> {
  sequence += 1;
  const skuId = `sku_wx_group_${sequence}`;
  await addSku(env.pool, skuId, 10_000, 10);
  const id = `group_${skuId}`;
  const created = await request(engine.url)
    .post('/admin/campaigns')
    .set('X-API-Key', API_KEYS.admin)
    .send({ id, kind: 'GROUP_BUY', name: id, skuId, groupPriceFen: GROUP_PRICE, groupSize: 2, onFullGroup: 'REJECT', startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + endsInMs).toISOString() });
  expect(created.status).toBe(201);
  return id;
}

async function join(campaignId: string, groupId?: string): Promise<{ memberId: string; order: OrderView }> {
  sequence += 1;
  const memberId = `mem_wx_group_${sequence}`;
  await addMember(env.pool, memberId);
  const response = await request(engine.url)
    .post(`/group-buys/${campaignId}/orders`)
    .set('Authorization', customerAuth(memberId))
    .set('Idempotency-Key', `wx-group-${sequence}`)
    .send(groupId ? { groupId } : {});
  expect(response.status).toBe(201);
  return { memberId, order: response.body as OrderView };
}

const waitForOutcome = (memberId: string, orderId: string, outcome: string) =>
  eventually(async () => {
    const order = await shop.getOrder(memberId, orderId);
    return order.group?.outcome === outcome ? order : undefined;
  }, 30_000, `group outcome ${outcome}`);
const refundsAt = (intentId: string) => [...engine.gateway.trades.get(intentId)!.refunds.values()].map((refund) => refund.fen);

test('a group of two that forms: both members paid at WeChat Pay, both payments captured and kept', async () => {
  const campaignId = await campaign(120_000);
  const leader = await join(campaignId);
  const member = await join(campaignId, leader.order.group!.groupId);
  await engine.gateway.pay(leader.order.payment.intentId!);
  await engine.gateway.pay(member.order.payment.intentId!);
  await waitForOutcome(leader.memberId, leader.order.orderId, 'SUCCEEDED');
  await waitForOutcome(member.memberId, member.order.orderId, 'SUCCEEDED');
  const finance = createFinanceService({ pool: env.pool, provider: engine.wechatpay });
  for (const { order } of [leader, member]) {
    expect((await finance.paymentsForOrder(order.orderId))[0]).toMatchObject({ state: 'CAPTURED', capturedFen: GROUP_PRICE, refundedFen: 0 });
    expect(refundsAt(order.payment.intentId!)).toEqual([]);
  }
});

test('a group that does not form by the deadline: the paid leader is refunded in full at WeChat Pay, once', async () => {
  const campaignId = await campaign(6_000);
  const leader = await join(campaignId);
  await engine.gateway.pay(leader.order.payment.intentId!);
  await waitForOutcome(leader.memberId, leader.order.orderId, 'FAILED');
  await eventually(async () => (refundsAt(leader.order.payment.intentId!).length > 0 ? true : undefined), 30_000, 'the refund at WeChat Pay');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(refundsAt(leader.order.payment.intentId!)).toEqual([GROUP_PRICE]);
  const finance = createFinanceService({ pool: env.pool, provider: engine.wechatpay });
  expect((await finance.paymentsForOrder(leader.order.orderId))[0]).toMatchObject({ capturedFen: GROUP_PRICE, refundedFen: GROUP_PRICE });
});
