import { condition } from '@temporalio/workflow';
import { mustComplete } from '../shared/activities';
import { refuse } from '../shared/refusals';
import { afterMs, msUntil, now } from '../shared/time';
import { shielded, waitUntil } from '../shared/wait';
import { mustDo } from './attention';
import type { OrderContext } from './context';
import type { CarrierEvent, ParcelView, ShipParcel } from './parcel-definitions';
import { refundFailedParcel } from './parcel-refund';
import { allArrived, allReported, anyShipped, carrierEventTarget, isOnTheWay, moveParcel, nothingRemains, priceParcels } from './parcels';
import { restockRefundedBeforeShipment } from './steps/stock';

/**
 * The order's side of parcels (issue 13): after payment the allocation's warehouses become parcels;
 * each is shipped (its warehouse's stock deducted) or fails (its lines and freight share refunded,
 * its stock released) on its own, and the carrier's events move it (parcels.ts decides how far).
 * The status is SHIPPED from the first parcel out; the auto-confirm timer runs from the last one.
 */

export function parcelsOf(order: OrderContext): ParcelView[] {
  return order.view.parcels ?? [];
}

export function parcelOf(order: OrderContext, parcelId: string): ParcelView {
  const parcel = parcelsOf(order).find((candidate) => candidate.parcelId === parcelId);
  if (!parcel) refuse('PARCEL_NOT_FOUND', `order ${order.orderId} has no parcel ${parcelId}`);
  return parcel;
}

/** Writes the parcels' rows (warehouse and support lists), then the order's projection. */
async function show(order: OrderContext): Promise<void> {
  // Local steps: the projection writes the parcels' rows itself (one local activity).
  if (order.localSteps) return order.project();
  const parcels = parcelsOf(order);
  const version = order.view.version;
  await shielded(() =>
    order.records.recordParcels.executeWithOptions({ summary: 'record the parcels' }, [{ orderId: order.orderId, parcels: JSON.parse(JSON.stringify(parcels)), version }]),
  );
  await order.project();
}

/** The parcels of a paid order: one per warehouse of its reservation (a campaign pool: one, no warehouse). */
async function openParcels(order: OrderContext): Promise<void> {
  const { view } = order;
  // A lookup of the reservation's warehouses: local with local steps, like the projection after it.
  const opened = await order.records.openParcels.executeWithOptions({ summary: 'open one parcel per warehouse' }, [
    {
      orderId: order.orderId,
      reservationKey: order.holds.campaignStock ? undefined : order.key('reserve-stock'),
      lines: view.lines.map(({ lineId, skuId, quantity }) => ({ lineId, skuId, quantity })),
    },
  ]);
  // Freight (issue 13 part A) is a total of its own once placement prices it; none before.
  const freightFen = (view.totals as { freightFen?: number }).freightFen ?? 0;
  view.parcels = priceParcels(opened, view.lines, freightFen);
  order.record('parcels opened', {
    parcels: view.parcels.map(({ parcelId, warehouseId, payableFen, freightFen: freight }) => ({ parcelId, warehouseId, payableFen, freightFen: freight })),
  });
  await show(order);
}

/**
 * Waits for the warehouses: true once every parcel shipped or failed and at least one shipped;
 * false when the order must end otherwise (nothing shipped: cancelled, refunded in full, or every
 * parcel failed, which is the order's shipment failure).
 */
export async function awaitParcelShipments(order: OrderContext): Promise<boolean> {
  await mustDo(order, 'open the parcels', () => openParcels(order));
  const parcels = parcelsOf(order);
  const stopped = () => order.cancellation !== undefined || order.refundState.refundedInFull || order.shipmentFailure !== undefined;
  await condition(() => !order.parcelBusy && (allReported(parcels) || (!anyShipped(parcels) && stopped())));
  if (!anyShipped(parcels)) return false;
  await mustDo(order, 'restock units refunded before shipment', () => restockRefundedBeforeShipment(order));
  return true;
}

/** Parcel work takes turns: one shipment or failure at a time moves stock, money and the phase. */
async function inTurn(order: OrderContext, work: () => Promise<void>): Promise<void> {
  await waitUntil(() => !order.parcelBusy);
  order.parcelBusy = true;
  try {
    await work();
  } finally {
    order.parcelBusy = false;
  }
}

/** After the policy allowed it: the parcel's stock leaves for good, the parcel is on its way. */
export function shipParcel(order: OrderContext, { parcelId, carrier, trackingNumber }: ShipParcel): Promise<void> {
  return inTurn(order, async () => {
    const parcel = parcelOf(order, parcelId);
    await mustDo(order, `deduct the stock of parcel ${parcelId}`, () => commitParcelStock(order, parcel));
    moveParcel(parcel, 'SHIPPED');
    Object.assign(parcel, { carrier, trackingNumber, shippedAt: now() });
    if (!order.shipment) {
      // The first parcel left: nothing is undone by the saga any more; later failures refund per parcel.
      order.shipment = { carrier, trackingNumber };
      order.view.shipment = { carrier, trackingNumber, shippedAt: parcel.shippedAt! };
      order.saga.clear();
    }
    order.view.deadlines.autoConfirmAt = afterMs(order.timeouts.autoConfirmDeliveryMs);
    const phase = allReported(parcelsOf(order)) ? 'SHIPPED' : 'PARTIALLY_SHIPPED';
    order.record('parcel shipped', { parcelId, warehouseId: parcel.warehouseId, carrier, trackingNumber }, phase === order.phase ? undefined : phase);
    await show(order);
  });
}

async function commitParcelStock(order: OrderContext, parcel: ParcelView): Promise<void> {
  if (parcel.warehouseId === null) {
    // Campaign stock: one parcel holds the whole pool reservation.
    await mustComplete.commitCampaignStock.executeWithOptions({ summary: 'deduct the shipped campaign units for good' }, [
      { idempotencyKey: order.key('commit-campaign-stock'), reservationKey: order.key('reserve-campaign-stock') },
    ]);
    return;
  }
  await mustComplete.commitParcelStock.executeWithOptions({ summary: `deduct the stock of parcel ${parcel.parcelId}` }, [
    { idempotencyKey: `${parcel.parcelId}:commit-stock`, reservationKey: order.key('reserve-stock'), warehouseId: parcel.warehouseId },
  ]);
}

/**
 * The warehouse cannot ship the parcel. The last parcel left of an order that shipped nothing is the
 * order's shipment failure (cancelled, everything undone as before parcels); otherwise its lines and
 * freight share are refunded and its stock released, and the other parcels go on.
 */
export function failParcel(order: OrderContext, parcelId: string, reason: string): Promise<void> {
  return inTurn(order, async () => {
    const parcel = parcelOf(order, parcelId);
    moveParcel(parcel, 'FAILED');
    parcel.failure = { reason, at: now() };
    if (nothingRemains(parcelsOf(order))) {
      order.shipmentFailure = reason;
      order.record('shipment failed', { reason, parcelId });
      await show(order);
      return;
    }
    if (parcel.warehouseId !== null) {
      const warehouseId = parcel.warehouseId;
      await mustDo(order, `release the stock of parcel ${parcelId}`, () =>
        mustComplete.releaseParcelStock.executeWithOptions({ summary: `release the stock of parcel ${parcelId}` }, [
          { idempotencyKey: `${parcelId}:release-stock`, reservationKey: order.key('reserve-stock'), warehouseId },
        ]),
      );
    }
    let refundedFen = 0;
    await mustDo(order, `refund parcel ${parcelId}`, async () => {
      refundedFen = await refundFailedParcel(order, parcel, reason);
    });
    parcel.failure = { reason, at: parcel.failure.at, refundedFen };
    const phase = order.phase === 'PARTIALLY_SHIPPED' && allReported(parcelsOf(order)) ? 'SHIPPED' : undefined;
    order.record('parcel shipment failed', { parcelId, reason, refundedFen }, phase);
    await show(order);
  });
}

/**
 * A carrier's tracking event: once per carrier event id (a repeat changes nothing); it moves the
 * parcel only forward (parcels.ts), otherwise it is kept in the tracking history only.
 */
export async function takeCarrierEvent(order: OrderContext, event: CarrierEvent): Promise<void> {
  const parcel = parcelOf(order, event.parcelId);
  if (parcel.tracking.some((entry) => entry.eventId === event.eventId)) return;
  const to = carrierEventTarget(parcel, event);
  const { eventId, code, occurredAt, location, description } = event;
  parcel.tracking.push({ eventId, code, occurredAt, receivedAt: now(), applied: to !== undefined, ...(location ? { location } : {}), ...(description ? { description } : {}) });
  if (to) {
    moveParcel(parcel, to);
    parcel.lastMovedAt = occurredAt;
    if (to === 'EXCEPTION') parcel.exception = { eventId, at: occurredAt, ...(description ? { description } : {}) };
    if (to === 'DELIVERED') Object.assign(parcel, { deliveredAt: now(), deliveredBy: 'carrier' });
  }
  order.record(to ? `parcel ${to.toLowerCase().replaceAll('_', ' ')}` : 'carrier event recorded', { parcelId: parcel.parcelId, eventId, code, occurredAt, applied: to !== undefined });
  await shielded(() =>
    order.records.recordTrackingEvent.executeWithOptions({ summary: `tracking: ${code} for parcel ${parcel.parcelId}` }, [
      { orderId: order.orderId, parcelId: parcel.parcelId, eventId, code, occurredAt, applied: to !== undefined, detail: { ...(location ? { location } : {}), ...(description ? { description } : {}) } },
    ]),
  );
  await show(order);
}

/**
 * Delivery of a parcelled order: every parcel delivered (or returned), the buyer's confirmation, or
 * the auto-confirm deadline counted from the last shipment. Returns who delivered it.
 */
export async function awaitParcelDeliveries(order: OrderContext): Promise<string> {
  const parcels = parcelsOf(order);
  const due = order.view.deadlines.autoConfirmAt ?? afterMs(order.timeouts.autoConfirmDeliveryMs);
  const arrived = await condition(() => order.deliveredBy !== undefined || allArrived(parcels), msUntil(due), {
    summary: 'wait for every parcel to be delivered (auto-confirm from the last shipment)',
  });
  const by = order.deliveredBy ?? (arrived ? 'carrier' : 'auto-confirm');
  for (const parcel of parcels.filter((candidate) => isOnTheWay(candidate.status))) {
    moveParcel(parcel, 'DELIVERED');
    Object.assign(parcel, { deliveredAt: now(), deliveredBy: by });
  }
  // Local steps: the caller records the delivery and projects it with the parcels right after.
  if (!order.localSteps) await show(order);
  return by;
}
