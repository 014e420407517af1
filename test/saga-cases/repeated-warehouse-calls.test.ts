import request from 'supertest';
import { API_KEYS } from '../support/api';
import { useCase } from './kit';

/**
 * A warehouse's or carrier's system that times out waiting for our answer sends the same call again.
 * The repeat is the same action, not a second one: it answers 200 with the order as the first call
 * left it and changes nothing (stock committed once, one timeline entry); a different action (another
 * tracking number) is still refused with 409. A call refused earlier (delivered before shipment) does
 * not stand in the way of the same call once the order allows it.
 */
jest.setTimeout(120_000);

const kit = useCase();

function shipWith(orderId: string, trackingNumber: string) {
  return request(kit.api().url).post(`/warehouse/orders/${orderId}/ship`).set('X-API-Key', API_KEYS.warehouse).send({ carrier: 'SF', trackingNumber });
}

test('a repeated shipment or delivery answers with the order it made; another tracking number is refused', async () => {
  const { skuId, memberId } = await kit.shop({ stock: 10 });
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 2 }] });

  // Delivered before it ships: refused, and the refusal leaves nothing that answers a later repeat.
  const early = await kit.deliver(order.orderId);
  expect([early.status, early.body.orderStatus]).toEqual([409, 'PAID']);

  const shipped = await shipWith(order.orderId, 'SF1001');
  expect([shipped.status, shipped.body.status]).toEqual([200, 'SHIPPED']);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8, reserved: 0 });

  const repeated = await shipWith(order.orderId, 'SF1001');
  expect(repeated.status).toBe(200);
  expect([repeated.body.status, repeated.body.version]).toEqual(['SHIPPED', shipped.body.version]);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8, reserved: 0 });

  const other = await shipWith(order.orderId, 'SF2002');
  expect(other.status).toBe(409);
  expect(other.body.detail).toMatch(/the order is SHIPPED/);

  const delivered = await kit.deliver(order.orderId);
  expect([delivered.status, delivered.body.status]).toEqual([200, 'DELIVERED']);
  const again = await kit.deliver(order.orderId);
  expect([again.status, again.body.status, again.body.version]).toEqual([200, 'DELIVERED', delivered.body.version]);

  const seen = await kit.getOrder(memberId, order.orderId);
  const events = seen.timeline.map((entry) => entry.event);
  expect(events.filter((event) => event === 'parcel shipped')).toHaveLength(1);
  expect(events.filter((event) => event === 'delivered')).toHaveLength(1);
  expect(seen.parcels?.map((parcel) => parcel.trackingNumber)).toEqual(['SF1001']);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 8, reserved: 0 });
});
