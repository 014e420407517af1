import request from 'supertest';
import { createApp } from '../../api/app';
import { createNotificationConsumer } from '../../modules/notifications';
import { API_KEYS, customerAuth, testApiSettings } from '../support/api';
import { createTestEnv, type TestEnv } from '../support/harness';
import { buyer, countingSandbox, event, sentFor } from './support';

/** GET/PUT /members/me/notification-preferences and /members/me/contact: the buyer's own, audited. */
let env: TestEnv;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  env = await createTestEnv();
  app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env) });
  await buyer(env.pool, 'mem_carol', {});
});
afterAll(() => env.close());

const carol = { Authorization: customerAuth('mem_carol') };
const counts = async () => {
  const result = await env.pool.query(
    `SELECT (SELECT count(*) FROM notifications.opt_outs)::int AS opt_outs, (SELECT count(*) FROM audit.events)::int AS audits,
            (SELECT count(*) FROM member.contacts)::int AS contacts`,
  );
  return result.rows[0];
};

test('a buyer reads and changes their preferences and contact; each change is audited, contact details masked', async () => {
  const initial = await request(app).get('/members/me/notification-preferences').set(carol).expect(200);
  expect(initial.body.channels).toEqual({ sms: true, wechat: true, email: true });
  expect(Object.keys(initial.body.events).sort()).toEqual(['group.failed', 'order.paid', 'parcel.shipped', 'presale.final_payment_due', 'refund.paid']);

  const changed = await request(app)
    .put('/members/me/notification-preferences')
    .set(carol)
    .send({ channels: { wechat: false }, events: { 'parcel.shipped': { sms: false } } })
    .expect(200);
  expect(changed.body.channels).toEqual({ sms: true, wechat: false, email: true });
  expect(changed.body.events['parcel.shipped']).toEqual({ sms: false, wechat: true, email: true });
  expect((await request(app).get('/members/me/notification-preferences').set(carol).expect(200)).body).toEqual(changed.body);

  const contact = await request(app).put('/members/me/contact').set(carol).send({ mobile: '13700137000', email: 'carol@example.cn' }).expect(200);
  expect(contact.body).toEqual({ mobile: '13700137000', email: 'carol@example.cn', wechatOpenId: null });
  await request(app).put('/members/me/contact').set(carol).send({ email: null }).expect(200);
  expect((await request(app).get('/members/me/contact').set(carol).expect(200)).body).toEqual({ mobile: '13700137000', email: null, wechatOpenId: null });

  const audits = await env.pool.query('SELECT actor, actor_role, action, target_id, before, after FROM audit.events WHERE target_type = $1 ORDER BY id', ['member']);
  expect(audits.rows.map((row) => [row.actor, row.actor_role, row.action, row.target_id])).toEqual([
    ['mem_carol', 'customer', 'member.notification-preferences.update', 'mem_carol'],
    ['mem_carol', 'customer', 'member.contact.update', 'mem_carol'],
    ['mem_carol', 'customer', 'member.contact.update', 'mem_carol'],
  ]);
  expect(audits.rows[0].before.channels.wechat).toBe(true);
  expect(audits.rows[0].after.channels.wechat).toBe(false);
  expect(audits.rows[1].after).toEqual({ mobile: '137****7000', email: 'c****@example.cn', wechatOpenId: null });
  expect(JSON.stringify(audits.rows)).not.toContain('13700137000');

  // What the buyer set is what the notifications do: shipped goes by email only... which was cleared.
  const sandbox = countingSandbox();
  const consumer = createNotificationConsumer({ pool: env.pool, provider: sandbox });
  const shipped = event('parcel.shipped', 'ord_carol', 'mem_carol', { parcelId: 'ord_carol:1', carrier: 'SF', trackingNumber: 'SF3' }, '1:shipped');
  const paid = event('order.paid', 'ord_carol', 'mem_carol', { paidFen: 1_000 }, 'paid');
  await consumer.consume(shipped);
  await consumer.consume(paid);
  expect(Object.values(await sentFor(env.pool, shipped.eventId)).map((row) => [row.channel, row.skip_reason])).toEqual([
    ['email', 'NO_CONTACT'],
    ['sms', 'OPTED_OUT'],
    ['wechat', 'OPTED_OUT'],
  ]);
  expect(sandbox.calls.map((call) => [call.key, call.recipient])).toEqual([['ord_carol:paid:sms', '13700137000']]);
});

test.each([
  ['/members/me/notification-preferences', { channels: { fax: false } }],
  ['/members/me/notification-preferences', { channels: { sms: 'no' } }],
  ['/members/me/notification-preferences', { events: { 'order.placed': { sms: false } } }],
  ['/members/me/notification-preferences', { memberId: 'mem_other', channels: { sms: false } }],
  ['/members/me/contact', { mobile: '12345' }],
  ['/members/me/contact', { email: 'not-an-email' }],
  ['/members/me/contact', { wechatOpenId: 'has spaces in it' }],
  ['/members/me/contact', { memberId: 'mem_other' }],
])('PUT %s with %j is 400 and writes nothing', async (path, body) => {
  const before = await counts();
  const response = await request(app).put(path).set(carol).send(body).expect(400);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(await counts()).toEqual(before);
});

test('only a buyer who is a member: no credentials 401, staff 403, a subject that is no member 404; nothing written', async () => {
  const before = await counts();
  for (const path of ['/members/me/notification-preferences', '/members/me/contact']) {
    await request(app).get(path).expect(401);
    await request(app).put(path).send({}).expect(401);
    await request(app).get(path).set('X-API-Key', API_KEYS.support).expect(403);
    await request(app).put(path).set('X-API-Key', API_KEYS.warehouse).send({}).expect(403);
    await request(app).get(path).set('X-API-Key', API_KEYS.admin).expect(404);
    await request(app).put(path).set({ Authorization: customerAuth('mem_nobody') }).send({}).expect(404);
  }
  expect(await counts()).toEqual(before);
});
