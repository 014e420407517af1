-- Up Migration
-- Inventory: stock per SKU and warehouse, reservations for orders, shipments (for returns),
-- campaign stock pools and low-stock alerts. SKU ids are the catalog's, kept as plain text (no
-- cross-schema foreign key: modules never reach into each other's tables).
CREATE SCHEMA IF NOT EXISTS inventory;

CREATE TABLE inventory.operations (
  key            text PRIMARY KEY,
  operation      text NOT NULL,
  state          text NOT NULL CHECK (state IN ('APPLIED', 'COMPENSATED')),
  result         jsonb,
  compensation   jsonb,
  applied_at     timestamptz NOT NULL DEFAULT now(),
  compensated_at timestamptz
);

-- Lower priority number ships first; ties by id.
CREATE TABLE inventory.warehouses (
  id         text PRIMARY KEY CHECK (length(id) > 0),
  name       text NOT NULL CHECK (length(name) > 0),
  priority   integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- available = on_hand - reserved; the CHECKs make overselling impossible whatever the code does.
CREATE TABLE inventory.stock (
  sku_id       text NOT NULL CHECK (length(sku_id) > 0),
  warehouse_id text NOT NULL REFERENCES inventory.warehouses (id),
  on_hand      integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
  reserved     integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sku_id, warehouse_id),
  CHECK (reserved <= on_hand)
);

CREATE TABLE inventory.sku_settings (
  sku_id              text PRIMARY KEY CHECK (length(sku_id) > 0),
  low_stock_threshold integer NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0)
);

-- One row per reserve operation (its idempotency key), so release and commit know what to undo.
CREATE TABLE inventory.reservations (
  key          text PRIMARY KEY,
  order_id     text NOT NULL,
  status       text NOT NULL DEFAULT 'RESERVED' CHECK (status IN ('RESERVED', 'RELEASED', 'COMMITTED')),
  created_at   timestamptz NOT NULL,
  released_at  timestamptz,
  committed_at timestamptz,
  CHECK ((status = 'RELEASED') = (released_at IS NOT NULL)),
  CHECK ((status = 'COMMITTED') = (committed_at IS NOT NULL))
);
CREATE INDEX reservations_order_id_idx ON inventory.reservations (order_id);

CREATE TABLE inventory.reservation_allocations (
  reservation_key text NOT NULL REFERENCES inventory.reservations (key),
  sku_id          text NOT NULL,
  warehouse_id    text NOT NULL REFERENCES inventory.warehouses (id),
  quantity        integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (reservation_key, sku_id, warehouse_id)
);

-- Units shipped per order, SKU and source warehouse (NULL: campaign stock, which has no warehouse),
-- and how many came back; a return can never bring back more than was shipped.
CREATE TABLE inventory.shipments (
  id           bigserial PRIMARY KEY,
  order_id     text NOT NULL,
  sku_id       text NOT NULL,
  warehouse_id text REFERENCES inventory.warehouses (id),
  shipped      integer NOT NULL CHECK (shipped > 0),
  returned     integer NOT NULL DEFAULT 0 CHECK (returned >= 0),
  CHECK (returned <= shipped),
  UNIQUE NULLS NOT DISTINCT (order_id, sku_id, warehouse_id)
);

CREATE TABLE inventory.restocks (
  key        text PRIMARY KEY,
  order_id   text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE inventory.restock_lines (
  restock_key  text NOT NULL REFERENCES inventory.restocks (key),
  sku_id       text NOT NULL,
  warehouse_id text NOT NULL REFERENCES inventory.warehouses (id),
  quantity     integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (restock_key, sku_id, warehouse_id)
);

-- A campaign's stock is a pool of its own (set aside physically, not counted in inventory.stock):
-- cap units, of which some are reserved by unpaid orders and some sold.
CREATE TABLE inventory.campaign_stock (
  campaign_id text NOT NULL CHECK (length(campaign_id) > 0),
  sku_id      text NOT NULL CHECK (length(sku_id) > 0),
  cap         integer NOT NULL CHECK (cap >= 0),
  reserved    integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  sold        integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, sku_id),
  CHECK (reserved + sold <= cap)
);

CREATE TABLE inventory.campaign_reservations (
  key          text PRIMARY KEY,
  campaign_id  text NOT NULL,
  sku_id       text NOT NULL,
  order_id     text NOT NULL,
  quantity     integer NOT NULL CHECK (quantity > 0),
  status       text NOT NULL DEFAULT 'RESERVED' CHECK (status IN ('RESERVED', 'RELEASED', 'COMMITTED')),
  created_at   timestamptz NOT NULL,
  released_at  timestamptz,
  committed_at timestamptz,
  FOREIGN KEY (campaign_id, sku_id) REFERENCES inventory.campaign_stock (campaign_id, sku_id),
  CHECK ((status = 'RELEASED') = (released_at IS NOT NULL)),
  CHECK ((status = 'COMMITTED') = (committed_at IS NOT NULL))
);
CREATE INDEX campaign_reservations_order_id_idx ON inventory.campaign_reservations (order_id);

CREATE TABLE inventory.low_stock_alerts (
  id              bigserial PRIMARY KEY,
  sku_id          text NOT NULL,
  available       integer NOT NULL CHECK (available >= 0),
  threshold       integer NOT NULL CHECK (threshold > 0),
  created_at      timestamptz NOT NULL,
  acknowledged_at timestamptz
);
-- At most one open alert per SKU.
CREATE UNIQUE INDEX low_stock_alerts_open_sku_idx ON inventory.low_stock_alerts (sku_id) WHERE acknowledged_at IS NULL;

-- Down Migration
DROP SCHEMA inventory CASCADE;
