/**
 * Parcels (issue 13): each warehouse's part of an order's stock allocation is a parcel, shipped,
 * tracked and delivered on its own. Types only (shared by workflow and API code); the state machine
 * is parcels.ts, the workflow side parcel-shipping.ts, the messages are in definitions.ts.
 */

/**
 * PENDING: with its warehouse. SHIPPED..OUT_FOR_DELIVERY: on its way. EXCEPTION: the carrier reported
 * a problem (support sees it). DELIVERED, RETURNED (to the sender) and FAILED (the warehouse could
 * not ship it: its lines and freight share refunded, its stock released) are final.
 */
export type ParcelStatus = 'PENDING' | 'SHIPPED' | 'IN_TRANSIT' | 'OUT_FOR_DELIVERY' | 'EXCEPTION' | 'DELIVERED' | 'RETURNED' | 'FAILED';

/** The carrier's event codes (POST /carrier/parcels/{id}/events). */
export const CARRIER_EVENT_CODES = ['PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION', 'RETURNED_TO_SENDER'] as const;
export type CarrierEventCode = (typeof CARRIER_EVENT_CODES)[number];

export interface ParcelItem {
  lineId: string;
  skuId: string;
  quantity: number;
  /** What the buyer paid for these units (the line's payable split over its units, to the fen). */
  payableFen: number;
}

/** One carrier event as received; `applied` false: late or out of order, kept in the history only. */
export interface TrackingEntry {
  eventId: string;
  code: CarrierEventCode;
  occurredAt: string;
  receivedAt: string;
  applied: boolean;
  location?: string;
  description?: string;
}

export interface ParcelView {
  parcelId: string;
  /** 1, 2...: the warehouses' priority order. */
  seq: number;
  /** null: campaign stock (no warehouse; only an all-warehouses principal ships it). */
  warehouseId: string | null;
  status: ParcelStatus;
  items: ParcelItem[];
  payableFen: number;
  /** This parcel's share of the order's freight (parcels.ts freightShares). */
  freightFen: number;
  carrier?: string;
  trackingNumber?: string;
  shippedAt?: string;
  deliveredAt?: string;
  deliveredBy?: string;
  /** The occurredAt of the last carrier event that moved the parcel: an older one moves nothing. */
  lastMovedAt?: string;
  exception?: { eventId: string; description?: string; at: string };
  /** refundedFen: what this parcel gave back; absent when it was the last parcel and the order was cancelled whole. */
  failure?: { reason: string; refundedFen?: number; at: string };
  tracking: TrackingEntry[];
}

/** What the allocation gives a parcel before pricing (the logistics module's openParcels). */
export interface OpenedParcel {
  parcelId: string;
  seq: number;
  warehouseId: string | null;
  items: { lineId: string; skuId: string; quantity: number }[];
}

// --- what comes in -------------------------------------------------------------------------------

export interface ShipParcel {
  parcelId: string;
  carrier: string;
  trackingNumber: string;
}

export interface ParcelShipmentFailed {
  parcelId: string;
  reason: string;
}

export interface CarrierEvent {
  parcelId: string;
  /** The carrier's own id of the event: the same id again is the same event (no second effect). */
  eventId: string;
  code: CarrierEventCode;
  occurredAt: string;
  location?: string;
  description?: string;
}
