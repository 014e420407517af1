import { createInventoryService, parcelStockSchema, type ParcelStockInput } from '../modules/inventory';
import { createParcelService, type TrackingEventInput } from '../modules/logistics';
import type { OpenedParcel, ParcelView } from '../workflows/order/parcel-definitions';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of parcels (issue 13): the allocation's warehouses become parcels; per-parcel stock; the parcels' rows and tracking history. */
export function createParcelActivities(deps: ActivityDeps) {
  const inventory = createInventoryService({ pool: deps.pool, clock: deps.clock });
  const parcels = createParcelService({ pool: deps.pool, clock: deps.clock });
  return {
    /**
     * One parcel per warehouse of the reservation, in the warehouses' priority order (a campaign pool
     * has no warehouse: one parcel). Read only and deterministic for a reservation: safe to retry.
     */
    async openParcels(input: { orderId: string; reservationKey?: string; lines: { lineId: string; skuId: string; quantity: number }[] }): Promise<OpenedParcel[]> {
      return asActivity(async () => {
        const shares = input.reservationKey ? await inventory.sharesOfReservation(input.reservationKey) : [];
        return parcels.splitIntoParcels({ orderId: input.orderId, lines: input.lines, shares });
      });
    },
    /** The parcel shipped: its warehouse's units leave for good. */
    async commitParcelStock(input: ParcelStockInput) {
      return asActivity(() => inventory.commitParcelStock(parcelStockSchema.parse(input)));
    },
    /** The parcel's shipment failed: its warehouse's units are available again. */
    async releaseParcelStock(input: ParcelStockInput) {
      return asActivity(() => inventory.releaseParcelStock(parcelStockSchema.parse(input)));
    },
    /** The order's parcels as rows (warehouse and support lists); newest version wins. */
    async recordParcels(input: { orderId: string; parcels: ParcelView[]; version: number }): Promise<void> {
      return asActivity(() => parcels.recordParcels(input.orderId, input.parcels, input.version));
    },
    /** The carrier's event in the parcel's tracking history, once per carrier event id. */
    async recordTrackingEvent(input: TrackingEventInput): Promise<boolean> {
      return asActivity(() => parcels.recordTrackingEvent(input));
    },
  };
}

export type ParcelActivities = ReturnType<typeof createParcelActivities>;
