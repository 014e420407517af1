import request from 'supertest';
import { API_KEYS } from '../support/api';
import { recordHistory } from '../support/histories';
import { caseTimeouts, useCase } from './kit';
import { EAST, parcelSteps, type ParcelledOrder } from './parcel-kit';

/**
 * Issue 13 part B, parcels: an order of two SKUs in two warehouses ships as two parcels, each
 * shipped, tracked and delivered on its own; SHIPPED from the first parcel, DELIVERED with the last,
 * auto-confirm counted from the last shipment; one parcel's shipment failure refunds exactly its
 * lines and releases only its stock; carrier events duplicated and out of order.
 */
jest.setTimeout(180_000);

const kit = useCase(caseTimeouts({ autoConfirmDeliveryMs: 120_000 }));
const parcels = parcelSteps(kit);

test('two warehouses → two parcels, shipped and delivered separately; the order completes once both are delivered', async () => {
  const { memberId, mainSku, eastSku } = await parcels.twoWarehouseShop();
  const placed = await kit.placePaid(memberId, { lines: [{ skuId: mainSku, quantity: 2 }, { skuId: eastSku, quantity: 1 }] });
  expect(placed.totals.paidFen).toBe(25_000);
  const order = await parcels.withParcels(memberId, placed.orderId, 2);
  const [p1, p2] = [parcels.parcel(order, 1), parcels.parcel(order, 2)];
  expect([p1.warehouseId, p1.items.map((i) => [i.skuId, i.quantity]), p1.payableFen]).toEqual(['wh_main', [[mainSku, 2]], 20_000]);
  expect([p2.warehouseId, p2.items.map((i) => [i.skuId, i.quantity]), p2.payableFen]).toEqual([EAST, [[eastSku, 1]], 5_000]);

  // The warehouse scoped to wh_east sees only its parcel; the all-warehouses key both.
  const east = await parcels.listParcels(API_KEYS.eastWarehouse, 'PENDING');
  expect(east.status).toBe(200);
  expect(east.body.parcels.filter((p: { orderId: string }) => p.orderId === order.orderId).map((p: { parcelId: string }) => p.parcelId)).toEqual([p2.parcelId]);
  expect(east.body.parcels.every((p: { warehouseId: string }) => p.warehouseId === EAST)).toBe(true);
  const all = await parcels.listParcels(API_KEYS.warehouse);
  expect(all.body.parcels.filter((p: { orderId: string }) => p.orderId === order.orderId).map((p: { parcelId: string }) => p.parcelId).sort()).toEqual([p1.parcelId, p2.parcelId].sort());

  // The whole-order ship route refuses an order of several parcels (409 naming them); nothing moved.
  const whole = await kit.ship(order.orderId);
  expect(whole.status).toBe(409);
  expect(whole.body.detail).toContain(p1.parcelId);
  expect(await parcels.stockIn(mainSku, 'wh_main')).toEqual({ onHand: 10, reserved: 2 });

  // wh_east cannot ship wh_main's parcel (404); the first parcel out makes the order SHIPPED.
  expect((await parcels.shipParcel(p1.parcelId, API_KEYS.eastWarehouse)).status).toBe(404);
  const first = await parcels.shipParcel(p1.parcelId);
  expect(first.status).toBe(200);
  expect([first.body.status, first.body.phase]).toEqual(['SHIPPED', 'PARTIALLY_SHIPPED']);
  expect(await parcels.stockIn(mainSku, 'wh_main')).toEqual({ onHand: 8, reserved: 0 });
  expect(await parcels.stockIn(eastSku, EAST)).toEqual({ onHand: 10, reserved: 1 });
  // The same shipment again (a retry) answers with the order it made; another tracking number is refused.
  const repeat = await parcels.shipParcel(p1.parcelId);
  expect([repeat.status, repeat.body.version]).toEqual([200, first.body.version]);
  const other = await request(kit.api().url).post(`/warehouse/parcels/${p1.parcelId}/ship`).set('X-API-Key', API_KEYS.warehouse).send({ carrier: 'SF', trackingNumber: 'SF-other' });
  expect(other.status).toBe(409); // already shipped
  expect(await parcels.stockIn(mainSku, 'wh_main')).toEqual({ onHand: 8, reserved: 0 });

  const second = await parcels.shipParcel(p2.parcelId, API_KEYS.eastWarehouse);
  expect(second.status).toBe(200);
  expect(second.body.phase).toBe('SHIPPED');
  expect(await parcels.stockIn(eastSku, EAST)).toEqual({ onHand: 9, reserved: 0 });
  // Auto-confirm runs from the last shipment.
  const shipped = second.body as ParcelledOrder;
  const lastShippedAt = parcels.parcel(shipped, 2).shippedAt!;
  expect(Date.parse(shipped.deadlines.autoConfirmAt!) - Date.parse(lastShippedAt)).toBe(120_000);

  // Delivered separately: the first delivery leaves the order SHIPPED, the last makes it DELIVERED.
  expect((await parcels.carrierEvent(p1.parcelId, `${p1.parcelId}-d`, 'DELIVERED', 10)).status).toBe(200);
  const half = (await kit.getOrder(memberId, order.orderId)) as ParcelledOrder;
  expect([half.status, parcels.parcel(half, 1).status, parcels.parcel(half, 2).status]).toEqual(['SHIPPED', 'DELIVERED', 'SHIPPED']);
  expect((await parcels.carrierEvent(p2.parcelId, `${p2.parcelId}-d`, 'DELIVERED', 20)).status).toBe(200);
  const delivered = (await kit.waitForStatus(memberId, order.orderId, 'DELIVERED')) as ParcelledOrder;
  expect(delivered.parcels!.map((p) => [p.status, p.deliveredBy])).toEqual([['DELIVERED', 'carrier'], ['DELIVERED', 'carrier']]);
  expect(delivered.timeline.filter((entry) => entry.event === 'delivered')).toHaveLength(1);

  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.totals.refundedFen).toBe(0);
  const ledger = await kit.ledger(order.orderId);
  expect(ledger.map((entry) => entry.kind).sort()).toEqual(['PAYMENT_CAPTURED', 'REVENUE_RECOGNISED']);
  expect(await parcels.parcelRow(p2.parcelId)).toEqual({ status: 'DELIVERED', warehouse_id: EAST });
  await recordHistory(kit.env(), order.orderId, 'standard-two-parcels');
});

test("one parcel's shipment failure refunds exactly its lines and releases only its stock; the other parcel goes on", async () => {
  const { memberId, mainSku, eastSku, couponId } = await parcels.twoWarehouseShop();
  // 2 × 100 + 1 × 50 = 250 yuan, coupon −20 → 230 yuan, split over the lines pro rata.
  const placed = await kit.placePaid(memberId, { lines: [{ skuId: mainSku, quantity: 2 }, { skuId: eastSku, quantity: 1 }], couponId });
  expect(placed.totals.paidFen).toBe(23_000);
  const order = await parcels.withParcels(memberId, placed.orderId, 2);
  const eastLine = order.lines.find((line) => line.skuId === eastSku)!;
  const [p1, p2] = [parcels.parcel(order, 1), parcels.parcel(order, 2)];
  expect(p2.payableFen).toBe(eastLine.payableFen);
  expect(p1.payableFen + p2.payableFen).toBe(23_000);

  expect((await parcels.shipParcel(p1.parcelId)).status).toBe(200);
  const failed = await parcels.parcelFailed(p2.parcelId, 'the east warehouse lost it', API_KEYS.eastWarehouse);
  expect(failed.status).toBe(200);
  const after = failed.body as ParcelledOrder;
  expect([after.status, after.phase]).toEqual(['SHIPPED', 'SHIPPED']);
  expect(parcels.parcel(after, 2)).toMatchObject({ status: 'FAILED', failure: { reason: 'the east warehouse lost it', refundedFen: eastLine.payableFen } });
  expect(after.totals.refundedFen).toBe(eastLine.payableFen);
  expect(after.lines.find((line) => line.skuId === eastSku)!.refundedFen).toBe(eastLine.payableFen);
  expect(after.lines.find((line) => line.skuId === mainSku)!.refundedFen).toBe(0);

  // Money: one refund of exactly the parcel's lines, at the provider, in finance and in the ledger.
  expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 23_000, refundedFen: eastLine.payableFen, refunds: 1 });
  const refunds = await kit.financeRefunds(order.orderId);
  expect(refunds.map((refund) => [refund.amountFen, refund.state])).toEqual([[eastLine.payableFen, 'SUCCEEDED']]);
  const ledger = await kit.ledger(order.orderId);
  expect(ledger.filter((entry) => entry.kind === 'REFUND').map((entry) => entry.amountFen)).toEqual([eastLine.payableFen]);
  // Stock per warehouse: the shipped parcel's units gone for good, the failed parcel's back on hand.
  expect(await parcels.stockIn(mainSku, 'wh_main')).toEqual({ onHand: 8, reserved: 0 });
  expect(await parcels.stockIn(eastSku, EAST)).toEqual({ onHand: 10, reserved: 0 });
  // The refunded line cannot be refunded again through after-sales; the coupon stays used (the order goes on).
  const again = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: eastLine.lineId, quantity: 1 }], reason: 'never came' });
  expect(again.status).toBe(422);
  expect(again.body.code ?? again.body.reason ?? again.body.detail).toEqual(expect.stringMatching(/LINE_ALREADY_REFUNDED|already refunded/));
  expect(await kit.coupon(couponId)).toBe('USED');

  expect((await parcels.carrierEvent(p1.parcelId, `${p1.parcelId}-d`, 'DELIVERED', 30)).status).toBe(200);
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.totals.refundedFen).toBe(eastLine.payableFen);
  expect((await kit.ledger(order.orderId)).map((entry) => entry.kind).sort()).toEqual(['PAYMENT_CAPTURED', 'REFUND', 'REVENUE_RECOGNISED']);
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
});

test('carrier events duplicated and out of order: one timeline entry each, never backwards; an exception is visible to support', async () => {
  const { memberId, mainSku, eastSku } = await parcels.twoWarehouseShop();
  parcels.laterEvents();
  const placed = await kit.placePaid(memberId, { lines: [{ skuId: mainSku, quantity: 1 }, { skuId: eastSku, quantity: 1 }] });
  const order = await parcels.withParcels(memberId, placed.orderId, 2);
  const [p1, p2] = [parcels.parcel(order, 1), parcels.parcel(order, 2)];

  // Before its warehouse ships it, the carrier has nothing to report on the parcel; a warehouse may not report for the carrier.
  expect((await parcels.carrierEvent(p1.parcelId, `${p1.parcelId}-e0`, 'PICKED_UP', 0)).status).toBe(409);
  expect((await parcels.carrierEvent(p1.parcelId, `${p1.parcelId}-e0`, 'PICKED_UP', 0, API_KEYS.warehouse)).status).toBe(403);
  expect((await parcels.carrierEvent('ord_none-p1', 'evt_none', 'PICKED_UP', 0)).status).toBe(404);
  expect((await parcels.shipParcel(p1.parcelId)).status).toBe(200);
  expect((await parcels.shipParcel(p2.parcelId)).status).toBe(200);

  const e = (n: number) => `${p1.parcelId}-e${n}`;
  for (const [eventId, code, minutes] of [
    [e(1), 'PICKED_UP', 1],
    [e(2), 'IN_TRANSIT', 2],
    [e(2), 'IN_TRANSIT', 2], // the carrier's redelivery
    [e(4), 'DELIVERED', 4],
    [e(3), 'OUT_FOR_DELIVERY', 3], // late: older than the delivery
    [e(5), 'IN_TRANSIT', 5], // after delivered: history only
    [e(4), 'DELIVERED', 4],
  ] as const) {
    expect((await parcels.carrierEvent(p1.parcelId, eventId, code, minutes)).status).toBe(200);
  }
  // The second parcel: an exception support can see, then it recovers and is delivered.
  expect((await parcels.carrierEvent(p2.parcelId, `${p2.parcelId}-x`, 'EXCEPTION', 2)).status).toBe(200);
  const exception = (await kit.getOrder(memberId, order.orderId)) as ParcelledOrder;
  expect(parcels.parcel(exception, 2)).toMatchObject({ status: 'EXCEPTION', exception: { eventId: `${p2.parcelId}-x` } });
  const seen = await parcels.supportParcels('EXCEPTION');
  expect(seen.status).toBe(200);
  expect(seen.body.parcels.map((p: { parcelId: string }) => p.parcelId)).toContain(p2.parcelId);
  expect(seen.body.parcels.every((p: { status: string }) => p.status === 'EXCEPTION')).toBe(true);
  expect(exception.status).toBe('SHIPPED');

  const view = exception;
  const first = parcels.parcel(view, 1);
  expect(first.status).toBe('DELIVERED');
  expect(first.tracking.map((t) => [t.eventId, t.applied])).toEqual([
    [e(1), false], // picked up: the parcel was already shipped
    [e(2), true],
    [e(4), true],
    [e(3), false],
    [e(5), false],
  ]);
  const timelineIds = view.timeline.map((entry) => (entry.detail as { eventId?: string } | undefined)?.eventId).filter((id) => id?.startsWith(p1.parcelId));
  expect(timelineIds).toEqual([e(1), e(2), e(4), e(3), e(5)]);
  expect((await parcels.trackingRows(p1.parcelId)).map((row) => [row.eventId, row.applied])).toEqual([
    [e(1), false],
    [e(2), true],
    [e(3), false],
    [e(4), true],
    [e(5), false],
  ]);

  expect((await parcels.carrierEvent(p2.parcelId, `${p2.parcelId}-t`, 'IN_TRANSIT', 3)).status).toBe(200);
  expect((await parcels.carrierEvent(p2.parcelId, `${p2.parcelId}-d`, 'DELIVERED', 6)).status).toBe(200);
  expect((await parcels.carrierEvent(p2.parcelId, `${p2.parcelId}-d`, 'DELIVERED', 6)).status).toBe(200);
  const delivered = (await kit.waitForStatus(memberId, order.orderId, 'DELIVERED')) as ParcelledOrder;
  expect(parcels.parcel(delivered, 2).tracking.map((t) => t.eventId)).toEqual([`${p2.parcelId}-x`, `${p2.parcelId}-t`, `${p2.parcelId}-d`]);
  expect((await parcels.supportParcels('EXCEPTION')).body.parcels.map((p: { parcelId: string }) => p.parcelId)).not.toContain(p2.parcelId);
});
