import { createNotificationConsumer, type NotificationPreferences } from '../../modules/notifications';
import { createNotificationPreferences } from '../../modules/notifications';
import type { EventConsumer } from '../../modules/events/types';
import { createTestEnv, type TestEnv } from '../support/harness';
import { buyer, countingSandbox, event, sentFor } from './support';

/**
 * The notification consumer, called as the outbox's dispatcher calls it (consume() with events in the
 * contract's shape): what the sandbox notifier records in notifications.sent per event and channel.
 */
let env: TestEnv;
let sandbox: ReturnType<typeof countingSandbox>;
let consumer: EventConsumer;
const contact = { mobile: '13800138000', email: 'alice@example.cn', wechatOpenId: 'oAbC123_openid-alice' };
beforeAll(async () => {
  env = await createTestEnv();
  sandbox = countingSandbox();
  consumer = createNotificationConsumer({ pool: env.pool, provider: sandbox, timeZone: 'Asia/Shanghai', signName: '茶集' });
  await buyer(env.pool, 'mem_alice', contact);
});
afterAll(() => env.close());
beforeEach(() => sandbox.calls.splice(0));

const sendsOf = (eventId: string) => sandbox.calls.filter((call) => call.key.startsWith(`${eventId}:`)).map((call) => call.channel).sort();

test('the presale final-payment reminder goes out on every channel with the amount in yuan and the deadline in store time', async () => {
  const reminder = event('presale.final_payment_due', 'ord_presale_1', 'mem_alice', { finalBeforeCouponFen: 123_456, finalEnd: '2026-12-03T12:00:00.000Z' }, 'final-payment-due');
  await consumer.consume(reminder);

  const sent = await sentFor(env.pool, reminder.eventId);
  expect(Object.keys(sent)).toEqual(['email', 'sms', 'wechat']);
  for (const row of Object.values(sent)) {
    expect(row).toMatchObject({ status: 'SENT', provider: 'sandbox', member_id: 'mem_alice', order_id: 'ord_presale_1', event_type: 'presale.final_payment_due' });
    expect(row.template).toBe(`presale.final_payment_due/${row.channel}`);
    expect(row.provider_message_id).toBe(`sandbox:${reminder.eventId}:${row.channel}`);
  }
  expect(sent.sms.recipient).toBe('13800138000');
  expect(sent.wechat.recipient).toBe(contact.wechatOpenId);
  expect(sent.email.recipient).toBe('alice@example.cn');
  // 20:00 in Shanghai is 12:00 UTC; 123456 fen is ¥1,234.56.
  expect(sent.sms.content.text).toBe('【茶集】您的预售订单ord_presale_1已开始支付尾款，尾款¥1,234.56，请于2026年12月3日 20:00前完成支付，逾期订单将关闭。');
  expect(sent.sms.content.params).toEqual({ orderId: 'ord_presale_1', amount: '¥1,234.56', deadline: '2026年12月3日 20:00' });
  expect(sent.wechat.content.data).toMatchObject({ character_string1: { value: 'ord_presale_1' }, amount2: { value: '¥1,234.56' }, time3: { value: '2026年12月3日 20:00' } });
  expect(sent.wechat.content.page).toBe('pages/order/detail?orderId=ord_presale_1');
  expect(sent.email.content.subject).toBe('尾款支付提醒：订单 ord_presale_1');
  expect(sendsOf(reminder.eventId)).toEqual(['email', 'sms', 'wechat']);
});

test.each([
  ['order.paid', { paidFen: 25_600 }, 'paid', '【茶集】您的订单ORDER已支付成功，实付¥256.00，我们将尽快为您发货。', '支付成功：订单 ORDER'],
  ['parcel.shipped', { parcelId: 'ORDER:1', carrier: '顺丰速运', trackingNumber: 'SF1234567890' }, '1:shipped', '【茶集】您的订单ORDER已发货，顺丰速运运单号SF1234567890，请留意查收。', '您的订单 ORDER 已发货'],
  ['refund.paid', { requestId: 'rf_1', amountFen: 9_990 }, 'rf_1:paid', '【茶集】您的订单ORDER退款¥99.90已原路退回，到账时间以支付渠道为准。', '退款已退回：订单 ORDER'],
  ['group.failed', { groupId: 'grp_1', campaignId: 'camp_1', virtual: false }, 'group-failed', '【茶集】很遗憾，您参与的拼团未能成团，订单ORDER已全额退款，款项将原路退回。', '拼团未成团，订单 ORDER 已退款'],
])('%s: the buyer gets its template on each channel', async (type, data, suffix, smsText, emailSubject) => {
  const orderId = `ord_${type.replace('.', '_')}`;
  const delivered = event(type, orderId, 'mem_alice', data, suffix);
  await consumer.consume(delivered);
  const sent = await sentFor(env.pool, delivered.eventId);
  expect(Object.values(sent).map((row) => [row.channel, row.status, row.template, row.recipient])).toEqual([
    ['email', 'SENT', `${type}/email`, 'alice@example.cn'],
    ['sms', 'SENT', `${type}/sms`, '13800138000'],
    ['wechat', 'SENT', `${type}/wechat`, contact.wechatOpenId],
  ]);
  expect(sent.sms.content.text).toBe(smsText.replaceAll('ORDER', orderId));
  expect(sent.email.content.subject).toBe(emailSubject.replace('ORDER', orderId));
  expect(sent.wechat.content.data!.character_string1.value).toBe(orderId);
});

test('re-consuming an event sends nothing twice, also when two deliveries race', async () => {
  const paid = event('order.paid', 'ord_twice', 'mem_alice', { paidFen: 100 }, 'paid');
  await consumer.consume(paid);
  await consumer.consume(paid);
  await Promise.all([consumer.consume(paid), consumer.consume(paid)]);
  expect(sendsOf(paid.eventId)).toEqual(['email', 'sms', 'wechat']);
  const rows = await env.pool.query('SELECT count(*)::int AS n FROM notifications.sent WHERE event_id = $1', [paid.eventId]);
  expect(rows.rows[0].n).toBe(3);

  const racing = event('order.paid', 'ord_race', 'mem_alice', { paidFen: 100 }, 'paid');
  await Promise.all([consumer.consume(racing), consumer.consume(racing), consumer.consume(racing)]);
  expect(sendsOf(racing.eventId)).toEqual(['email', 'sms', 'wechat']);
});

test('a provider failure leaves the message SENDING; the next delivery sends it once, and what was sent stays sent', async () => {
  const shipped = event('parcel.shipped', 'ord_flaky', 'mem_alice', { parcelId: 'ord_flaky:1', carrier: 'SF', trackingNumber: 'SF9' }, '1:shipped');
  sandbox.failNext(1);
  await expect(consumer.consume(shipped)).rejects.toThrow('scripted failure');
  expect(Object.values(await sentFor(env.pool, shipped.eventId)).map((row) => [row.channel, row.status])).toEqual([['sms', 'SENDING']]);

  await consumer.consume(shipped);
  const sent = await sentFor(env.pool, shipped.eventId);
  expect(Object.values(sent).map((row) => row.status)).toEqual(['SENT', 'SENT', 'SENT']);
  // sms was asked twice (the failure, then the success); the others once.
  expect(sendsOf(shipped.eventId)).toEqual(['email', 'sms', 'sms', 'wechat']);
});

test('opt-outs are honoured per channel and per event type; a channel without contact is skipped', async () => {
  await buyer(env.pool, 'mem_bob', { mobile: '13900139000', email: 'bob@example.cn' });
  const preferences = createNotificationPreferences({ pool: env.pool });
  await preferences.update('mem_bob', { channels: { sms: false }, events: { 'order.paid': { email: false } } });
  const prefs: NotificationPreferences = await preferences.get('mem_bob');
  expect(prefs.channels).toEqual({ sms: false, wechat: true, email: true });
  expect(prefs.events['order.paid']).toEqual({ sms: true, wechat: true, email: false });

  const paid = event('order.paid', 'ord_bob', 'mem_bob', { paidFen: 5_000 }, 'paid');
  await consumer.consume(paid);
  const sent = await sentFor(env.pool, paid.eventId);
  expect(Object.values(sent).map((row) => [row.channel, row.status, row.skip_reason, row.recipient])).toEqual([
    ['email', 'SKIPPED', 'OPTED_OUT', null],
    ['sms', 'SKIPPED', 'OPTED_OUT', null],
    ['wechat', 'SKIPPED', 'NO_CONTACT', null],
  ]);
  expect(sendsOf(paid.eventId)).toEqual([]);

  // Another event type: only the whole-channel opt-out applies.
  const shipped = event('parcel.shipped', 'ord_bob', 'mem_bob', { parcelId: 'ord_bob:1', carrier: 'SF', trackingNumber: 'SF2' }, '1:shipped');
  await consumer.consume(shipped);
  expect(Object.values(await sentFor(env.pool, shipped.eventId)).map((row) => [row.channel, row.status])).toEqual([
    ['email', 'SENT'],
    ['sms', 'SKIPPED'],
    ['wechat', 'SKIPPED'],
  ]);
  expect(sendsOf(shipped.eventId)).toEqual(['email']);

  // Opting back in sends the next event, not the ones already decided.
  await preferences.update('mem_bob', { channels: { sms: true } });
  await consumer.consume(shipped);
  expect(sendsOf(shipped.eventId)).toEqual(['email']);
  const refunded = event('refund.paid', 'ord_bob', 'mem_bob', { requestId: 'rf_bob', amountFen: 5_000 }, 'rf_bob:paid');
  await consumer.consume(refunded);
  expect(sendsOf(refunded.eventId)).toEqual(['email', 'sms']);
});

test('events a buyer does not hear about, events without a buyer, and unknown members send nothing', async () => {
  for (const type of ['presale.final_payment_due', 'order.paid', 'parcel.shipped', 'refund.paid', 'group.failed']) expect(consumer.accepts(type)).toBe(true);
  for (const type of ['order.placed', 'order.cancelled', 'stock.low', 'reconciliation.difference', 'group.succeeded']) expect(consumer.accepts(type)).toBe(false);

  await consumer.consume(event('order.placed', 'ord_quiet', 'mem_alice', { payableFen: 1 }, 'placed'));
  await consumer.consume(event('order.paid', 'ord_nobody', null, { paidFen: 1 }, 'paid'));
  expect(await sentFor(env.pool, 'ord_quiet:placed')).toEqual({});
  expect(await sentFor(env.pool, 'ord_nobody:paid')).toEqual({});

  const ghost = event('order.paid', 'ord_ghost', 'mem_ghost', { paidFen: 1 }, 'paid');
  await consumer.consume(ghost);
  expect(Object.values(await sentFor(env.pool, ghost.eventId)).map((row) => row.skip_reason)).toEqual(['NO_CONTACT', 'NO_CONTACT', 'NO_CONTACT']);
  expect(sandbox.calls).toEqual([]);
});

test('an event without what its template needs is refused (the dispatcher retries, then dead-letters it) and writes nothing', async () => {
  const broken = event('order.paid', 'ord_broken', 'mem_alice', { paid: 'a lot' }, 'paid');
  await expect(consumer.consume(broken)).rejects.toThrow();
  expect(await sentFor(env.pool, broken.eventId)).toEqual({});
});
