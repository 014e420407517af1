-- Up Migration
-- Parcels (issue 13 part B): one per warehouse of an order's stock allocation, each shipped, tracked
-- and delivered on its own. The order workflow is the source of truth; logistics.parcels is its
-- projection (written by an activity on every parcel change, newest version wins) so a warehouse can
-- list its parcels and support can find parcels in EXCEPTION.
CREATE SCHEMA IF NOT EXISTS logistics;

CREATE TABLE logistics.parcels (
  parcel_id       text PRIMARY KEY,
  order_id        text NOT NULL,
  seq             integer NOT NULL CHECK (seq > 0),
  -- NULL: campaign stock (a flash sale's pool), which belongs to no warehouse.
  warehouse_id    text,
  status          text NOT NULL CHECK (status IN ('PENDING', 'SHIPPED', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'EXCEPTION', 'DELIVERED', 'RETURNED', 'FAILED')),
  carrier         text,
  tracking_number text,
  view            jsonb NOT NULL,        -- the parcel as the order shows it (items, amounts, history)
  version         integer NOT NULL,      -- only a newer version replaces a row
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  UNIQUE (order_id, seq)
);
CREATE INDEX parcels_by_warehouse ON logistics.parcels (warehouse_id, status, created_at);
CREATE INDEX parcels_by_status ON logistics.parcels (status, updated_at);

-- Every carrier event ever received for a parcel, once per carrier event id (a carrier's redelivery
-- is the same row); `applied` false: recorded in the history only (late or out of order).
CREATE TABLE logistics.tracking_events (
  carrier_event_id text PRIMARY KEY,
  parcel_id        text NOT NULL REFERENCES logistics.parcels (parcel_id),
  order_id         text NOT NULL,
  code             text NOT NULL CHECK (code IN ('PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION', 'RETURNED_TO_SENDER')),
  occurred_at      timestamptz NOT NULL,
  applied          boolean NOT NULL,
  detail           jsonb NOT NULL DEFAULT '{}',
  recorded_at      timestamptz NOT NULL
);
CREATE INDEX tracking_events_by_parcel ON logistics.tracking_events (parcel_id, occurred_at);

-- Per-parcel stock: each allocation of a reservation is committed (its parcel shipped) or released
-- (its parcel failed) on its own; the reservation's status follows once none is left RESERVED.
ALTER TABLE inventory.reservation_allocations
  ADD COLUMN state text NOT NULL DEFAULT 'RESERVED' CHECK (state IN ('RESERVED', 'COMMITTED', 'RELEASED'));

-- Down Migration
ALTER TABLE inventory.reservation_allocations DROP COLUMN state;
DROP TABLE logistics.tracking_events;
DROP TABLE logistics.parcels;
