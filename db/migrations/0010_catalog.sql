-- Up Migration
-- Catalog: products and their sellable SKUs with list prices (integer fen).
CREATE SCHEMA IF NOT EXISTS catalog;

CREATE TABLE catalog.operations (
  key            text PRIMARY KEY,
  operation      text NOT NULL,
  state          text NOT NULL CHECK (state IN ('APPLIED', 'COMPENSATED')),
  result         jsonb,
  compensation   jsonb,
  applied_at     timestamptz NOT NULL DEFAULT now(),
  compensated_at timestamptz
);

CREATE TABLE catalog.products (
  id         text PRIMARY KEY CHECK (length(id) > 0),
  name       text NOT NULL CHECK (length(name) > 0),
  status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog.skus (
  id             text PRIMARY KEY CHECK (length(id) > 0),
  product_id     text NOT NULL REFERENCES catalog.products (id),
  name           text NOT NULL CHECK (length(name) > 0),
  list_price_fen integer NOT NULL CHECK (list_price_fen > 0),
  currency       text NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
  active         boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX skus_product_id_idx ON catalog.skus (product_id);

-- Down Migration
DROP SCHEMA catalog CASCADE;
