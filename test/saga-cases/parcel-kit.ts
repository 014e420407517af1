import request from 'supertest';
import type { ParcelView } from '../../workflows/order/parcel-definitions';
import { API_KEYS } from '../support/api';
import { addSku, services } from '../support/fixtures';
import type { caseKit, PhasedOrder } from './kit';

/**
 * Parcels (issue 13) through the real API: a shop whose two SKUs sit in two warehouses (so an order
 * of both ships as two parcels), the warehouse's parcel routes, the carrier's tracking events, and
 * the rows the logistics module keeps.
 */
type Kit = ReturnType<typeof caseKit>;

export const EAST = 'wh_east';
export type ParcelledOrder = PhasedOrder & { parcels?: ParcelView[] };

export function parcelSteps(kit: Kit) {
  const url = () => kit.api().url;
  const pool = () => kit.env().pool;
  let clock = Date.parse('2026-12-01T08:00:00Z');

  const steps = {
    /** SKU A (100 yuan) only in wh_main, SKU B (50 yuan) only in wh_east (priority 2). */
    async twoWarehouseShop(stock = 10) {
      const shop = await kit.shop({ stock });
      const eastSku = kit.next('sku_east');
      await addSku(pool(), eastSku, 5_000, 0);
      await services(pool()).inventory.upsertWarehouse({ id: EAST, name: 'East', priority: 2 });
      await services(pool()).inventory.setStock({ skuId: eastSku, warehouseId: EAST, onHand: stock });
      return { ...shop, mainSku: shop.skuId, eastSku };
    },
    /** The order once its parcels are open (right after payment). */
    async withParcels(memberId: string, orderId: string, count: number): Promise<ParcelledOrder & { parcels: ParcelView[] }> {
      const order = (await kit.waitFor(memberId, orderId, (o) => (o as ParcelledOrder).parcels?.length === count, `${count} parcels`)) as ParcelledOrder;
      return order as ParcelledOrder & { parcels: ParcelView[] };
    },
    shipParcel(parcelId: string, apiKey: string = API_KEYS.warehouse) {
      return request(url()).post(`/warehouse/parcels/${parcelId}/ship`).set('X-API-Key', apiKey).send({ carrier: 'SF', trackingNumber: `SF-${parcelId}` });
    },
    parcelFailed(parcelId: string, reason = 'the east warehouse lost it', apiKey: string = API_KEYS.warehouse) {
      return request(url()).post(`/warehouse/parcels/${parcelId}/shipment-failed`).set('X-API-Key', apiKey).send({ reason });
    },
    listParcels(apiKey: string, status?: string) {
      return request(url()).get(`/warehouse/parcels${status ? `?status=${status}` : ''}`).set('X-API-Key', apiKey);
    },
    supportParcels(status: string) {
      return request(url()).get(`/support/parcels?status=${status}`).set('X-API-Key', API_KEYS.support);
    },
    /** A carrier event; `minutes` after a fixed start so tests can send them out of order. */
    carrierEvent(parcelId: string, eventId: string, code: string, minutes: number, apiKey: string = API_KEYS.carrier) {
      const occurredAt = new Date(clock + minutes * 60_000).toISOString();
      return request(url()).post(`/carrier/parcels/${parcelId}/events`).set('X-API-Key', apiKey).send({ eventId, code, occurredAt, location: 'Hangzhou hub' });
    },
    /** Moves the carrier's clock on (a new order's events start later than the last). */
    laterEvents(hours = 24) {
      clock += hours * 3_600_000;
    },
    async trackingRows(parcelId: string) {
      const rows = await pool().query<{ carrier_event_id: string; code: string; applied: boolean }>(
        'SELECT carrier_event_id, code, applied FROM logistics.tracking_events WHERE parcel_id = $1 ORDER BY occurred_at, carrier_event_id',
        [parcelId],
      );
      return rows.rows.map((row) => ({ eventId: row.carrier_event_id, code: row.code, applied: row.applied }));
    },
    async parcelRow(parcelId: string) {
      const rows = await pool().query<{ status: string; warehouse_id: string | null }>('SELECT status, warehouse_id FROM logistics.parcels WHERE parcel_id = $1', [parcelId]);
      return rows.rows[0];
    },
    async stockIn(skuId: string, warehouseId: string) {
      const stock = await services(pool()).inventory.getStock(skuId);
      const row = stock.warehouses.find((warehouse) => warehouse.warehouseId === warehouseId);
      return row && { onHand: row.onHand, reserved: row.reserved };
    },
    parcel(order: ParcelledOrder, seq: number): ParcelView {
      const found = order.parcels?.find((parcel) => parcel.seq === seq);
      if (!found) throw new Error(`order ${order.orderId} has no parcel ${seq}`);
      return found;
    },
  };
  return steps;
}
