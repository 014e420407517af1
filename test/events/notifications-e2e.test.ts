import request from 'supertest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { consumerSubscriptionId } from '../../modules/events/subscriptions';
import { dispatcherWorkflowId } from '../../workflows/events/definitions';
import { createActivities } from '../../activities';
import { loadConfig } from '../../infra/config';
import { createConfiguredEventConsumers, type ConfiguredEventConsumers } from '../../infra/event-consumers';
import { kickDispatcher, registerEventConsumers, type EventDeliverySettings } from '../../infra/event-dispatchers';
import type { OutgoingNotification } from '../../modules/notifications';
import { createSandboxProvider } from '../../modules/finance/sandbox';
import type { OrderTimeouts, OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth, TEST_AUTH, testApiSettings } from '../support/api';
import { eventually, startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';
import { sentFor, type SentRow } from '../notifications/support';

/**
 * Buyer notifications end to end (issue 15): real orders on Temporal and PostgreSQL write their events
 * to the outbox, the dispatcher delivers them to the consumers the configuration makes
 * (createConfiguredEventConsumers, NOTIFICATIONS_PROVIDER=sandbox), and the sandbox notifier records
 * each message in notifications.sent with its template and recipient per channel.
 */
const DELIVERY: EventDeliverySettings = { timing: { pollMs: 300, retryInitialMs: 200, retryMaxMs: 2_000 }, defaultMaxAttempts: 12 };
const TIMEOUTS: OrderTimeouts = { paymentMs: 90_000, autoConfirmDeliveryMs: 120_000, afterSalesWindowMs: 10_000, refundDecisionMs: 120_000, returnShipmentMs: 60_000 };
// A wait gives up before the test does, so a failure names the status or notification it waited for.
const WAIT = 45_000;
jest.setTimeout(150_000);
let env: TestEnv;
let api: TestApi;
let configured: ConfiguredEventConsumers;
let sends: jest.SpyInstance<Promise<{ messageId: string }>, [OutgoingNotification]>;
let sequence = 0;
const shop = storefront(() => api);

beforeAll(async () => {
  env = await createTestEnv();
  const config = loadConfig({ NODE_ENV: 'development', NOTIFICATIONS_PROVIDER: 'sandbox', NOTIFICATIONS_SIGN_NAME: '茶集', STORE_TIMEZONE: 'Asia/Shanghai' });
  configured = createConfiguredEventConsumers(config, env.pool);
  expect(configured.consumers.map((consumer) => consumer.name)).toEqual(['notifications']);
  // What reached the provider (the consumer calls the sandbox's send for each message it sends).
  sends = jest.spyOn(configured.sandboxNotifier!, 'send');
  api = await startTestApi(env, TIMEOUTS, { ...testApiSettings(env, TIMEOUTS), events: DELIVERY });
  await env.startWorker({
    activities: createActivities({ pool: env.pool, payments: createSandboxProvider({ pool: env.pool }), auth: TEST_AUTH, eventConsumers: configured.consumers }),
  });
  // The consumer's dispatcher has one workflow id per namespace (events-dispatch-consumer:notifications),
  // as a deployment has one namespace. Test files share one: a file that ran the engine's own worker
  // process (npm start, the production build) leaves that dispatcher running on its gone task queue,
  // where signal-with-start would find it and this file's events would never be delivered.
  // That case, always: such a dispatcher is running on a queue no worker polls (this file's "-gone"
  // queue, or the queue of the file that left it running: the signal finds that one).
  await kickDispatcher(env.temporal, { taskQueue: `${env.taskQueue}-gone`, subscriptionId: consumerSubscriptionId('notifications'), timing: DELIVERY.timing });
  const registration = { pool: env.pool, taskQueue: env.taskQueue, consumers: configured.consumers, delivery: DELIVERY };
  // A worker's start reports it (workers/process.ts logs the repair), and does not take it over.
  const { misplaced } = await registerEventConsumers(env.temporal, registration);
  expect(misplaced).toEqual([{ subscriptionId: 'consumer:notifications', workflowId: 'events-dispatch-consumer:notifications', taskQueue: expect.any(String) }]);
  expect(misplaced[0].taskQueue).not.toBe(env.taskQueue);
  await terminateIfRunning(dispatcherWorkflowId(consumerSubscriptionId('notifications')));
  expect((await registerEventConsumers(env.temporal, registration)).misplaced).toEqual([]);
}, 120_000);
afterAll(async () => {
  await terminateIfRunning(dispatcherWorkflowId(consumerSubscriptionId('notifications')));
  await api?.close();
  await configured?.close();
  await env?.close();
});

async function terminateIfRunning(workflowId: string): Promise<void> {
  await env.temporal.workflow
    .getHandle(workflowId)
    .terminate('test isolation: a dispatcher of another test file')
    .catch((error: unknown) => {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    });
}

interface Contact {
  mobile: string;
  email: string;
  wechatOpenId: string;
}

/** A member who told the shop how to reach them, through PUT /members/me/contact. */
async function buyerWithContact(): Promise<{ memberId: string; contact: Contact }> {
  sequence += 1;
  const memberId = `mem_notify_${sequence}_${env.id}`;
  await addMember(env.pool, memberId);
  const contact = { mobile: `1380013${String(8000 + sequence).padStart(4, '0')}`, email: `buyer${sequence}@example.cn`, wechatOpenId: `oNotify_${sequence}_openid` };
  await request(api.url).put('/members/me/contact').set('Authorization', customerAuth(memberId)).send(contact).expect(200);
  return { memberId, contact };
}

async function paidOrder(memberId: string, skuId: string, quantity = 1): Promise<OrderView> {
  const placed = await shop.placeOrder(memberId, { lines: [{ skuId, quantity }] });
  expect(placed.status).toBe(201);
  await shop.pay((placed.body as OrderView).payment.intentId!);
  return shop.waitForStatus(memberId, (placed.body as OrderView).orderId, 'PAID', WAIT);
}

/** The three channels' rows of an event, once every channel is decided (sent or skipped). */
function notified(eventId: string): Promise<Record<string, SentRow>> {
  return eventually(async () => {
    const rows = await sentFor(env.pool, eventId);
    return Object.keys(rows).length === 3 && Object.values(rows).every((row) => row.status !== 'SENDING') ? rows : undefined;
  }, WAIT, `the notifications of ${eventId}`);
}

/** [channel, status, template, recipient] per channel, email/sms/wechat. */
function summary(rows: Record<string, SentRow>) {
  return Object.values(rows).map((row) => [row.channel, row.status, row.template, row.recipient]);
}

function sentTo(type: string, contact: Contact) {
  return [
    ['email', 'SENT', `${type}/email`, contact.email],
    ['sms', 'SENT', `${type}/sms`, contact.mobile],
    ['wechat', 'SENT', `${type}/wechat`, contact.wechatOpenId],
  ];
}

/** The provider's calls for an event: channel → recipient. */
function providerCalls(eventId: string): [string, string][] {
  return sends.mock.calls
    .map(([notification]) => notification)
    .filter((notification) => notification.key.startsWith(`${eventId}:`))
    .map((notification): [string, string] => [notification.channel, notification.recipient])
    .sort();
}

test('paid and shipped: the buyer gets the paid, then the shipped template on sms, WeChat and email, once each', async () => {
  const { memberId, contact } = await buyerWithContact();
  await addSku(env.pool, 'sku_notify_std', 12_800, 10);
  const order = await paidOrder(memberId, 'sku_notify_std', 2);

  const paid = await notified(`${order.orderId}:paid`);
  expect(summary(paid)).toEqual(sentTo('order.paid', contact));
  expect(paid.sms.content.text).toBe(`【茶集】您的订单${order.orderId}已支付成功，实付¥256.00，我们将尽快为您发货。`);
  expect(paid.wechat.content.data).toMatchObject({ character_string1: { value: order.orderId }, amount2: { value: '¥256.00' } });
  expect(paid.email.content.subject).toBe(`支付成功：订单 ${order.orderId}`);
  for (const row of Object.values(paid)) {
    expect(row).toMatchObject({ provider: 'sandbox', member_id: memberId, order_id: order.orderId, event_type: 'order.paid' });
    expect(row.provider_message_id).toBe(`${'sandbox'}:${order.orderId}:paid:${row.channel}`);
  }

  const shipped = await request(api.url)
    .post(`/warehouse/orders/${order.orderId}/ship`)
    .set('X-API-Key', API_KEYS.warehouse)
    .send({ carrier: '顺丰速运', trackingNumber: 'SF1234567890' });
  expect(shipped.status).toBe(200);
  const parcelId = (shipped.body as OrderView).parcels![0].parcelId;
  const shippedRows = await notified(`${parcelId}:shipped`);
  expect(summary(shippedRows)).toEqual(sentTo('parcel.shipped', contact));
  expect(shippedRows.sms.content.text).toBe(`【茶集】您的订单${order.orderId}已发货，顺丰速运运单号SF1234567890，请留意查收。`);
  expect(shippedRows.wechat.content.data).toMatchObject({ thing2: { value: '顺丰速运' }, character_string3: { value: 'SF1234567890' } });

  // Each message reached the provider exactly once, addressed to the contact of its channel.
  const expected: [string, string][] = [['email', contact.email], ['sms', contact.mobile], ['wechat', contact.wechatOpenId]];
  expect(providerCalls(`${order.orderId}:paid`)).toEqual(expected);
  expect(providerCalls(`${parcelId}:shipped`)).toEqual(expected);
  // Only what the buyer hears about: nothing for order.placed.
  expect(await sentFor(env.pool, `${order.orderId}:placed`)).toEqual({});
});

test('a refund paid: the refund template with the amount refunded', async () => {
  const { memberId, contact } = await buyerWithContact();
  await addSku(env.pool, 'sku_notify_refund', 9_990, 10);
  const order = await paidOrder(memberId, 'sku_notify_refund');
  const asked = await request(api.url)
    .post(`/orders/${order.orderId}/refunds`)
    .set('Authorization', customerAuth(memberId))
    .send({ kind: 'REFUND_ONLY', lines: [{ lineId: order.lines[0].lineId, quantity: 1 }], reason: 'changed my mind' });
  expect(asked.status).toBe(201);
  const requestId = asked.body.requestId as string;
  const approved = await request(api.url).post(`/support/refunds/${requestId}/approve`).set('X-API-Key', API_KEYS.support).send({});
  expect(approved.status).toBe(200);

  const refunded = await notified(`${requestId}:paid`);
  expect(summary(refunded)).toEqual(sentTo('refund.paid', contact));
  expect(refunded.sms.content.text).toBe(`【茶集】您的订单${order.orderId}退款¥99.90已原路退回，到账时间以支付渠道为准。`);
  expect(refunded.wechat.content.data).toMatchObject({ amount2: { value: '¥99.90' } });
  expect(refunded.email.content.subject).toBe(`退款已退回：订单 ${order.orderId}`);
  const final = await shop.waitForStatus(memberId, order.orderId, 'REFUNDED', WAIT);
  expect(final.totals.refundedFen).toBe(9_990);
});

test('a presale order reaching finalStart: the final-payment reminder with the amount due and the deadline in store time', async () => {
  const { memberId, contact } = await buyerWithContact();
  await addSku(env.pool, 'sku_notify_presale', 12_000, 10);
  const now = Date.now();
  const finalStart = new Date(now + 15_000);
  const finalEnd = new Date(finalStart.getTime() + 120_000);
  const campaign = {
    id: `presale_notify_${env.id}`,
    kind: 'PRESALE',
    name: 'Presale with a reminder',
    skuId: 'sku_notify_presale',
    presalePriceFen: 10_000,
    depositFen: 2_000,
    depositValueFen: 5_000,
    depositStart: new Date(now - 60_000).toISOString(),
    depositEnd: new Date(finalStart.getTime() - 500).toISOString(),
    finalStart: finalStart.toISOString(),
    finalEnd: finalEnd.toISOString(),
    depositRefundable: false,
  };
  await request(api.url).post('/admin/campaigns').set('X-API-Key', API_KEYS.admin).send(campaign).expect(201);
  const placed = await request(api.url)
    .post(`/presales/${campaign.id}/orders`)
    .set('Authorization', customerAuth(memberId))
    .set('Idempotency-Key', `presale-${memberId}`)
    .send({ quantity: 1 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  await shop.pay(order.payment.intentId!);
  await shop.waitForStatus(memberId, order.orderId, 'DEPOSIT_PAID', WAIT);
  // A paid deposit is not order.paid: nothing is told before the final payment.
  expect(await sentFor(env.pool, `${order.orderId}:paid`)).toEqual({});

  await shop.waitForStatus(memberId, order.orderId, 'FINAL_PAYMENT_DUE', WAIT);
  const reminder = await notified(`${order.orderId}:final-payment-due`);
  expect(summary(reminder)).toEqual(sentTo('presale.final_payment_due', contact));
  const deadline = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(finalEnd)
    .reduce<Record<string, string>>((parts, part) => ({ ...parts, [part.type]: part.value }), {});
  const shown = `${deadline.year}年${Number(deadline.month)}月${Number(deadline.day)}日 ${deadline.hour}:${deadline.minute}`;
  // 100 yuan less the deposit's value of 50: ¥50.00 before coupons.
  expect(reminder.sms.content.params).toEqual({ orderId: order.orderId, amount: '¥50.00', deadline: shown });
  expect(reminder.sms.content.text).toBe(`【茶集】您的预售订单${order.orderId}已开始支付尾款，尾款¥50.00，请于${shown}前完成支付，逾期订单将关闭。`);
  expect(reminder.email.content.subject).toBe(`尾款支付提醒：订单 ${order.orderId}`);
});

test('a failed group-buy: the member is told the group failed and the order is refunded', async () => {
  const { memberId, contact } = await buyerWithContact();
  await addSku(env.pool, 'sku_notify_group', 10_000, 10);
  const campaignId = `group_notify_${env.id}`;
  await request(api.url)
    .post('/admin/campaigns')
    .set('X-API-Key', API_KEYS.admin)
    .send({
      id: campaignId,
      kind: 'GROUP_BUY',
      name: 'A group nobody joins',
      skuId: 'sku_notify_group',
      groupPriceFen: 8_000,
      groupSize: 2,
      onFullGroup: 'REJECT',
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 15_000).toISOString(),
    })
    .expect(201);
  const placed = await request(api.url)
    .post(`/group-buys/${campaignId}/orders`)
    .set('Authorization', customerAuth(memberId))
    .set('Idempotency-Key', `group-${memberId}`)
    .send({});
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  await shop.pay(order.payment.intentId!);

  const failed = await notified(`${order.orderId}:group-failed`);
  expect(summary(failed)).toEqual(sentTo('group.failed', contact));
  expect(failed.sms.content.text).toBe(`【茶集】很遗憾，您参与的拼团未能成团，订单${order.orderId}已全额退款，款项将原路退回。`);
  const cancelled = await shop.waitForStatus(memberId, order.orderId, 'CANCELLED', WAIT);
  expect(cancelled.group?.outcome).toBe('FAILED');
  expect(cancelled.totals.refundedFen).toBe(8_000);
});

test('an opt-out is honoured end to end: the buyer switches SMS off, the paid notification skips SMS and goes out on the others', async () => {
  const { memberId, contact } = await buyerWithContact();
  await request(api.url).put('/members/me/notification-preferences').set('Authorization', customerAuth(memberId)).send({ channels: { sms: false } }).expect(200);
  await addSku(env.pool, 'sku_notify_optout', 5_000, 10);
  const order = await paidOrder(memberId, 'sku_notify_optout');

  const paid = await notified(`${order.orderId}:paid`);
  expect(Object.values(paid).map((row) => [row.channel, row.status, row.skip_reason, row.recipient, row.provider])).toEqual([
    ['email', 'SENT', null, contact.email, 'sandbox'],
    ['sms', 'SKIPPED', 'OPTED_OUT', null, null],
    ['wechat', 'SENT', null, contact.wechatOpenId, 'sandbox'],
  ]);
  expect(providerCalls(`${order.orderId}:paid`)).toEqual([['email', contact.email], ['wechat', contact.wechatOpenId]]);
  expect(sends.mock.calls.some(([notification]) => notification.recipient === contact.mobile)).toBe(false);
});
