import { setUpdateHandler } from '../shared/updates';
import { enforce, refuse } from '../shared/refusals';
import { waitUntil } from '../shared/wait';
import type { OrderContext } from './context';
import { carrierEventUpdate, parcelShipmentFailedUpdate, shipParcelUpdate } from './definitions';
import type { CarrierEvent, ParcelShipmentFailed, ShipParcel } from './parcel-definitions';
import { failParcel, parcelOf, parcelsOf, shipParcel, takeCarrierEvent } from './parcel-shipping';
import { canRecordCarrierEvent, canReportParcelFailure, canShipParcel } from './policy';

/**
 * The parcel messages (issue 13): each validator asks the policy about the order and the parcel, so a
 * refusal is a 409 before anything changes; the work is parcel-shipping.ts's.
 */
export function registerParcelHandlers(order: OrderContext): void {
  setUpdateHandler(
    order.answersAfterLocalSteps,
    shipParcelUpdate,
    async (request) => {
      await shipParcel(order, request);
      return order.state.snapshot();
    },
    { validator: (request: ShipParcel) => enforce(canShipParcel(order.facts(), parcelOf(order, request?.parcelId))) },
  );
  setUpdateHandler(
    order.answersAfterLocalSteps,
    parcelShipmentFailedUpdate,
    async ({ parcelId, reason }) => {
      await failParcel(order, parcelId, reason);
      // The order's last parcel: answer once the order is cancelled (or waits for ops), as the whole-order failure does.
      if (order.shipmentFailure) await waitUntil(() => order.phase === 'CANCELLED' || order.phase === 'NEEDS_ATTENTION');
      return order.state.snapshot();
    },
    { validator: (request: ParcelShipmentFailed) => enforce(canReportParcelFailure(order.facts(), parcelOf(order, request?.parcelId))) },
  );
  setUpdateHandler(
    order.answersAfterLocalSteps,
    carrierEventUpdate,
    async (event) => {
      await takeCarrierEvent(order, event);
      return order.state.snapshot();
    },
    { validator: (event: CarrierEvent) => enforce(canRecordCarrierEvent(order.facts(), parcelOf(order, event?.parcelId))) },
  );
}

/**
 * The whole-order ship and shipment-failed messages of a parcelled order (the old warehouse routes):
 * they act on the order's only parcel; an order of several parcels refuses them (SEVERAL_PARCELS,
 * a 409 naming the parcels: ship each with POST /warehouse/parcels/{id}/ship).
 */
export async function onlyParcel(order: OrderContext): Promise<string> {
  await waitUntil(() => order.view.parcels !== undefined || order.phase !== 'PAID');
  const parcels = parcelsOf(order);
  if (parcels.length !== 1) {
    refuse('SEVERAL_PARCELS', `order ${order.orderId} ships as ${parcels.length} parcels (${parcels.map((p) => p.parcelId).join(', ')}): ship or fail each parcel with /warehouse/parcels/{id}/ship or /shipment-failed`);
  }
  return parcels[0].parcelId;
}

/** Validators of the whole-order messages: a parcelled order of several parcels refuses them at once. */
export function refuseIfSeveralParcels(order: OrderContext): void {
  const parcels = order.view.parcels;
  if (parcels && parcels.length > 1) {
    refuse('SEVERAL_PARCELS', `order ${order.orderId} ships as ${parcels.length} parcels (${parcels.map((p) => p.parcelId).join(', ')}): ship or fail each parcel with /warehouse/parcels/{id}/ship or /shipment-failed`);
  }
}
