import type { Pool } from 'pg';
import { z } from 'zod';
import type { CarrierEventCode, OpenedParcel, ParcelStatus, ParcelView } from '../../workflows/order/parcel-definitions';
import { CARRIER_EVENT_CODES } from '../../workflows/order/parcel-definitions';
import { systemClock, type Clock } from '../shared/db';

/**
 * Parcels of orders (issue 13): one per warehouse of the stock allocation. The order workflow holds
 * each parcel's state (workflows/order/parcels.ts); this module keeps the rows the API lists
 * (a warehouse its parcels, support the parcels in EXCEPTION) and the carrier's tracking history,
 * once per carrier event id. Every write is idempotent: parcels by id (newest version wins),
 * tracking events by the carrier's event id (a unique key).
 */
const id = z.string().min(1).max(200);

export const openParcelsSchema = z.object({
  orderId: id,
  lines: z.array(z.object({ lineId: id, skuId: id, quantity: z.number().int().positive() })).min(1),
  /** The allocation's warehouses in priority order with their units; none: campaign stock (one parcel, no warehouse). */
  shares: z.array(z.object({ warehouseId: id, allocations: z.array(z.object({ skuId: id, quantity: z.number().int().positive() })) })),
});
export type OpenParcelsInput = z.infer<typeof openParcelsSchema>;

export const parcelIdOf = (orderId: string, seq: number) => `${orderId}-p${seq}`;

/** Splits the order's lines over the warehouses' shares: a line's units go to parcels in priority order. */
export function splitIntoParcels({ orderId, lines, shares }: OpenParcelsInput): OpenedParcel[] {
  if (shares.length === 0) {
    return [{ parcelId: parcelIdOf(orderId, 1), seq: 1, warehouseId: null, items: lines.map(({ lineId, skuId, quantity }) => ({ lineId, skuId, quantity })) }];
  }
  const left = new Map(lines.map((line) => [line.lineId, line.quantity]));
  return shares.map((share, index) => {
    const items: OpenedParcel['items'] = [];
    for (const allocation of share.allocations) {
      let units = allocation.quantity;
      // Lines of the same SKU were reserved together: fill them in line order.
      for (const line of lines.filter((candidate) => candidate.skuId === allocation.skuId)) {
        const taken = Math.min(units, left.get(line.lineId) ?? 0);
        if (taken === 0) continue;
        items.push({ lineId: line.lineId, skuId: line.skuId, quantity: taken });
        left.set(line.lineId, (left.get(line.lineId) ?? 0) - taken);
        units -= taken;
      }
    }
    items.sort((a, b) => (a.lineId < b.lineId ? -1 : a.lineId > b.lineId ? 1 : 0));
    return { parcelId: parcelIdOf(orderId, index + 1), seq: index + 1, warehouseId: share.warehouseId, items };
  });
}

export const trackingEventSchema = z.object({
  orderId: id,
  parcelId: id,
  eventId: id,
  code: z.enum(CARRIER_EVENT_CODES),
  occurredAt: z.string().datetime({ offset: true }),
  applied: z.boolean(),
  detail: z.record(z.string(), z.unknown()).default({}),
});
export type TrackingEventInput = z.input<typeof trackingEventSchema>;

export interface ParcelRow {
  parcelId: string;
  orderId: string;
  seq: number;
  warehouseId: string | null;
  status: ParcelStatus;
  carrier: string | null;
  trackingNumber: string | null;
  parcel: ParcelView;
  updatedAt: string;
}

export interface StoredTrackingEvent {
  eventId: string;
  parcelId: string;
  code: CarrierEventCode;
  occurredAt: string;
  applied: boolean;
}

const selectRow = `SELECT parcel_id AS "parcelId", order_id AS "orderId", seq, warehouse_id AS "warehouseId", status, carrier,
  tracking_number AS "trackingNumber", view AS parcel, updated_at AS "updatedAt" FROM logistics.parcels`;

/**
 * The call of logistics.record_parcels (db/migrations/0910_parcels_record.sql) with its four
 * parameters from `$first` on, for a statement that writes the parcels beside something else.
 */
export const RECORD_PARCELS_CALL = (first: number) => `logistics.record_parcels($${first}, $${first + 1}, $${first + 2}::jsonb, $${first + 3})`;

export function recordParcelsArguments(orderId: string, parcels: readonly ParcelView[], version: number, now: Date): unknown[] {
  return [orderId, version, JSON.stringify(parcels), now];
}

export function createParcelService({ pool, clock = systemClock }: { pool: Pool; clock?: Clock }) {
  return {
    splitIntoParcels: (input: OpenParcelsInput) => splitIntoParcels(openParcelsSchema.parse(input)),

    /** The order's parcels as the workflow holds them; an older version never replaces a newer one. One statement. */
    async recordParcels(orderId: string, parcels: readonly ParcelView[], version: number): Promise<void> {
      await pool.query(`SELECT ${RECORD_PARCELS_CALL(1)}`, recordParcelsArguments(orderId, parcels, version, clock()));
    },

    /** Once per carrier event id; returns false when it was recorded before. */
    async recordTrackingEvent(input: TrackingEventInput): Promise<boolean> {
      const event = trackingEventSchema.parse(input);
      const inserted = await pool.query(
        `INSERT INTO logistics.tracking_events (carrier_event_id, parcel_id, order_id, code, occurred_at, applied, detail, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (carrier_event_id) DO NOTHING`,
        [event.eventId, event.parcelId, event.orderId, event.code, event.occurredAt, event.applied, JSON.stringify(event.detail), clock()],
      );
      return inserted.rowCount === 1;
    },

    async get(parcelId: string): Promise<ParcelRow | undefined> {
      return (await pool.query<ParcelRow>(`${selectRow} WHERE parcel_id = $1`, [parcelId])).rows[0];
    },

    async ofOrder(orderId: string): Promise<ParcelRow[]> {
      return (await pool.query<ParcelRow>(`${selectRow} WHERE order_id = $1 ORDER BY seq`, [orderId])).rows;
    },

    /** Parcels of these warehouses ('all': every parcel, campaign stock included), newest first. */
    async list(filter: { warehouseIds: readonly string[] | 'all'; status?: ParcelStatus; limit?: number }): Promise<ParcelRow[]> {
      const all = filter.warehouseIds === 'all';
      return (
        await pool.query<ParcelRow>(
          `${selectRow} WHERE ($1::boolean OR warehouse_id = ANY($2::text[])) AND ($3::text IS NULL OR status = $3)
           ORDER BY updated_at DESC, parcel_id LIMIT $4`,
          [all, all ? [] : filter.warehouseIds, filter.status ?? null, filter.limit ?? 100],
        )
      ).rows;
    },

    async trackingOf(parcelId: string): Promise<StoredTrackingEvent[]> {
      return (
        await pool.query<StoredTrackingEvent>(
          `SELECT carrier_event_id AS "eventId", parcel_id AS "parcelId", code, occurred_at AS "occurredAt", applied
           FROM logistics.tracking_events WHERE parcel_id = $1 ORDER BY occurred_at, carrier_event_id`,
          [parcelId],
        )
      ).rows;
    },
  };
}

export type ParcelService = ReturnType<typeof createParcelService>;
