import { randomBytes } from 'node:crypto';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createNatsEventPublisher, type NatsEventPublisher } from '../../modules/events/nats';
import type { OutboxEvent } from '../../modules/events/types';
import { describeWithNats, natsForTests, type TestNats } from '../support/nats-server';

/**
 * Against a real NATS server with JetStream (test/support/nats-server.ts). Each run has a stream
 * and subject prefix of its own, so runs sharing the machine's server do not meet.
 */
describeWithNats('NATS JetStream publisher', () => {
  const run = randomBytes(4).toString('hex');
  const stream = `TEST_EVENTS_${run}`;
  const subjectPrefix = `test_${run}.events`;
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const publishers: NatsEventPublisher[] = [];
  const publisher = () => {
    const created = createNatsEventPublisher({ url: nats.url, stream, subjectPrefix });
    publishers.push(created);
    return created;
  };

  beforeAll(async () => {
    nats = await natsForTests();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(publishers.map((created) => created.close()));
    for (const name of [stream, `${stream}_OTHER`]) await jsm?.streams.delete(name).catch(() => undefined);
    await nc?.close();
    await nats?.stop();
  });

  const paid: OutboxEvent = {
    eventId: `ord_${run}:paid`,
    type: 'order.paid',
    version: 1,
    orderId: `ord_${run}`,
    customerId: 'mem_alice',
    occurredAt: '2026-12-01T10:00:00.000Z',
    data: { paidFen: 25_600 },
    seq: 41,
  };

  test('publishing the same event twice stores one message; a consumer reads it back with its headers and body', async () => {
    const first = publisher();
    await first.consume(paid);
    await first.consume(paid);
    // A second process (its own connection) re-delivering the event is de-duplicated too.
    await publisher().consume(paid);

    const info = await jsm.streams.info(stream);
    expect(info.config.subjects).toEqual([`${subjectPrefix}.>`]);
    expect(info.state.messages).toBe(1);

    const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const message = await consumer.next({ expires: 10_000 });
    expect(message).not.toBeNull();
    expect(message!.subject).toBe(`${subjectPrefix}.order.paid`);
    expect(message!.headers?.get('Nats-Msg-Id')).toBe(paid.eventId);
    expect(message!.headers?.get('Event-Type')).toBe('order.paid');
    expect(message!.headers?.get('Event-Version')).toBe('1');
    expect(message!.headers?.get('Event-Seq')).toBe('41');
    expect(message!.headers?.get('Order-Id')).toBe(paid.orderId);
    expect(message!.headers?.get('Content-Type')).toBe('application/json');
    expect(message!.json()).toEqual(paid);
  });

  test('each event is its own message on the subject of its type, in publishing order', async () => {
    const shipped: OutboxEvent = { ...paid, eventId: `ord_${run}:1:shipped`, type: 'parcel.shipped', data: { parcelId: `ord_${run}:1`, carrier: 'SF', trackingNumber: 'SF1' }, seq: 42 };
    const low: OutboxEvent = { ...paid, eventId: `stock-low:${run}`, type: 'stock.low', orderId: null, customerId: null, data: { alertId: run, skuId: 'sku_tea', available: 2, threshold: 5 }, seq: 43 };
    const created = publisher();
    await created.consume(shipped);
    await created.consume(low);
    await created.consume(shipped);

    const info = await jsm.streams.info(stream, { subjects_filter: '>' });
    expect(info.state.messages).toBe(3);
    expect(info.state.subjects).toEqual({ [`${subjectPrefix}.order.paid`]: 1, [`${subjectPrefix}.parcel.shipped`]: 1, [`${subjectPrefix}.stock.low`]: 1 });
    const last = await jsm.streams.getMessage(stream, { last_by_subj: `${subjectPrefix}.stock.low` });
    expect(last!.header.get('Order-Id')).toBe('');
    expect(last!.json()).toEqual(low);
    expect(created.subjectOf('group.failed')).toBe(`${subjectPrefix}.group.failed`);
    expect(() => created.subjectOf('order.*')).toThrow(/not a NATS subject/);
  });

  test('an existing stream is kept as it is; one that does not capture our subjects is refused by name', async () => {
    await jsm.streams.add({ name: `${stream}_OTHER`, subjects: [`other_${run}.>`] });
    const misfit = createNatsEventPublisher({ url: nats.url, stream: `${stream}_OTHER`, subjectPrefix });
    publishers.push(misfit);
    await expect(misfit.consume(paid)).rejects.toThrow(`NATS stream ${stream}_OTHER exists but does not capture ${subjectPrefix}.>`);
    expect((await jsm.streams.info(`${stream}_OTHER`)).config.subjects).toEqual([`other_${run}.>`]);

    // Ensuring twice from fresh publishers changes nothing and loses nothing.
    await publisher().ensureStream();
    expect((await jsm.streams.info(stream)).state.messages).toBe(3);
  });
});
