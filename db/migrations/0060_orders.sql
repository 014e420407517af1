-- Up Migration
-- The order as the storefront lists it: a projection of the order workflow's state, written by an
-- activity on every change. Lets the API list a customer's orders consistently, without waiting for
-- Temporal visibility (eventually consistent). The workflow stays the source of truth.
CREATE SCHEMA IF NOT EXISTS orders;

CREATE TABLE orders.orders (
  order_id     text PRIMARY KEY,
  customer_id  text NOT NULL,
  order_type   text NOT NULL,
  status       text NOT NULL,
  currency     text NOT NULL,
  payable_fen  bigint NOT NULL CHECK (payable_fen >= 0),
  refunded_fen bigint NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0),
  view         jsonb NOT NULL,          -- the full OrderView (lines with price breakdown, payment, timeline)
  version      integer NOT NULL,        -- only a newer version replaces a row (retries and reorders are harmless)
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_customer ON orders.orders (customer_id, created_at DESC);
CREATE INDEX orders_by_status ON orders.orders (status, created_at);

-- Payment-provider webhook events already handled: a replayed event has no second effect.
CREATE TABLE orders.payment_events (
  event_id     text PRIMARY KEY,
  order_id     text NOT NULL,
  kind         text NOT NULL,
  payload      jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP SCHEMA orders CASCADE;
