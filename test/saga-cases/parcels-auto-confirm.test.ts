import { API_KEYS } from '../support/api';
import { caseTimeouts, useCase } from './kit';
import { EAST, parcelSteps, type ParcelledOrder } from './parcel-kit';

/**
 * Issue 13 part B: the auto-confirm timer of a parcelled order runs from its last shipment; an order
 * whose every parcel fails is the whole order's shipment failure (CANCELLED, everything undone once).
 */
jest.setTimeout(180_000);

const AUTO_CONFIRM_MS = 6_000;
const kit = useCase(caseTimeouts({ autoConfirmDeliveryMs: AUTO_CONFIRM_MS }));
const parcels = parcelSteps(kit);

test('no carrier confirmation: every parcel is delivered by auto-confirm, counted from the last shipment', async () => {
  const { memberId, mainSku, eastSku } = await parcels.twoWarehouseShop();
  const placed = await kit.placePaid(memberId, { lines: [{ skuId: mainSku, quantity: 1 }, { skuId: eastSku, quantity: 1 }] });
  const order = await parcels.withParcels(memberId, placed.orderId, 2);
  expect((await parcels.shipParcel(parcels.parcel(order, 1).parcelId)).status).toBe(200);
  // The second parcel leaves once the first one's deadline has been set (and would have run for a while).
  await kit.waitFor(memberId, order.orderId, (o) => o.phase === 'PARTIALLY_SHIPPED', 'first parcel shipped');
  const second = await parcels.shipParcel(parcels.parcel(order, 2).parcelId, API_KEYS.eastWarehouse);
  expect(second.status).toBe(200);

  const delivered = (await kit.waitForStatus(memberId, order.orderId, 'DELIVERED', 60_000)) as ParcelledOrder;
  const lastShippedAt = Math.max(...delivered.parcels!.map((p) => Date.parse(p.shippedAt!)));
  expect(Date.parse(delivered.deliveredAt!) - lastShippedAt).toBeGreaterThanOrEqual(AUTO_CONFIRM_MS);
  expect(delivered.parcels!.map((p) => [p.status, p.deliveredBy])).toEqual([['DELIVERED', 'auto-confirm'], ['DELIVERED', 'auto-confirm']]);
  expect(delivered.timeline.find((entry) => entry.event === 'delivered')?.detail).toEqual({ by: 'auto-confirm' });
  await kit.waitForStatus(memberId, order.orderId, 'COMPLETED');
});

test('every parcel fails: the order is cancelled, refunded once in full, its stock back in both warehouses', async () => {
  const { memberId, mainSku, eastSku, couponId } = await parcels.twoWarehouseShop();
  const placed = await kit.placePaid(memberId, { lines: [{ skuId: mainSku, quantity: 2 }, { skuId: eastSku, quantity: 1 }], couponId, pointsToRedeem: 500 });
  expect(placed.totals.paidFen).toBe(22_500); // 250 − 20 coupon − 5 for 500 points
  const order = await parcels.withParcels(memberId, placed.orderId, 2);
  const [p1, p2] = [parcels.parcel(order, 1), parcels.parcel(order, 2)];

  const first = await parcels.parcelFailed(p2.parcelId, 'water damage', API_KEYS.eastWarehouse);
  expect(first.status).toBe(200);
  expect((first.body as ParcelledOrder).status).toBe('PAID'); // the other parcel still ships
  expect(parcels.parcel(first.body, 2).failure?.refundedFen).toBe(p2.payableFen);
  expect(await parcels.stockIn(eastSku, EAST)).toEqual({ onHand: 10, reserved: 0 });
  expect(await parcels.stockIn(mainSku, 'wh_main')).toEqual({ onHand: 10, reserved: 2 });

  const last = await parcels.parcelFailed(p1.parcelId, 'nobody to pack it');
  expect(last.status).toBe(200);
  const cancelled = await kit.waitForStatus(memberId, order.orderId, 'CANCELLED');
  expect(cancelled.cancellation?.reason).toContain('nobody to pack it');
  // Money: two refunds (the first parcel's, then the rest), together exactly what was captured.
  expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 22_500, refundedFen: 22_500, refunds: 2 });
  expect(cancelled.totals.refundedFen).toBe(22_500);
  expect((await kit.ledger(order.orderId)).filter((entry) => entry.kind === 'REFUND').reduce((sum, entry) => sum + entry.amountFen, 0)).toBe(22_500);
  // Holds: every unit back where it was, coupon and points as before the order.
  expect(await parcels.stockIn(mainSku, 'wh_main')).toEqual({ onHand: 10, reserved: 0 });
  expect(await parcels.stockIn(eastSku, EAST)).toEqual({ onHand: 10, reserved: 0 });
  expect(await kit.coupon(couponId)).toBe('AVAILABLE');
  expect(await kit.points(memberId)).toEqual({ available: 2_000, held: 0, pending: 0 });
  expect(await kit.waitForRunStatus(order.orderId, ['COMPLETED'])).toBe('COMPLETED');
});
