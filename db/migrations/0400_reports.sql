-- Up Migration
-- Reports (报表): roll-ups of the order projection, the ledger, inventory and members, one set of rows
-- per business day (or ISO week) in the store's time zone. A roll-up replaces a day's rows in one
-- transaction, so re-running any day is harmless. Breakdowns are (dimension, key) rows: a new
-- dimension (e.g. 'channel' once sales channels exist) needs no schema change.
CREATE SCHEMA IF NOT EXISTS reports;

CREATE TABLE reports.sales_daily (
  day            date PRIMARY KEY,
  orders         integer NOT NULL,
  buyers         integer NOT NULL,
  gmv_fen        bigint NOT NULL,
  paid_orders    integer NOT NULL,
  paid_fen       bigint NOT NULL,
  refunded_fen   bigint NOT NULL,
  net_fen        bigint NOT NULL,
  aov_fen        bigint NOT NULL,
  rolled_up_at   timestamptz NOT NULL
);

CREATE TABLE reports.sales_daily_breakdown (
  day        date NOT NULL,
  dimension  text NOT NULL CHECK (dimension IN ('order_type', 'campaign', 'sku', 'hour', 'channel')),
  key        text NOT NULL,
  orders     integer NOT NULL,
  units      integer NOT NULL,
  gmv_fen    bigint NOT NULL,
  PRIMARY KEY (day, dimension, key)
);

CREATE TABLE reports.members_daily (
  day                 date PRIMARY KEY,
  buyers              integer NOT NULL,
  new_buyers          integer NOT NULL,
  returning_buyers    integer NOT NULL,
  buyers_30d          integer NOT NULL,
  repeat_buyers_30d   integer NOT NULL,
  buyers_90d          integer NOT NULL,
  repeat_buyers_90d   integer NOT NULL,
  points_issued       bigint NOT NULL,
  points_redeemed     bigint NOT NULL,
  tiers               jsonb NOT NULL,           -- {"BRONZE": n, ...}: members per tier at the roll-up
  rolled_up_at        timestamptz NOT NULL
);

CREATE TABLE reports.stock_weekly (
  week           text NOT NULL CHECK (week ~ '^\d{4}-W\d{2}$'),
  warehouse_id   text NOT NULL,
  sku_id         text NOT NULL,
  on_hand        integer NOT NULL,
  reserved       integer NOT NULL,
  sold           integer NOT NULL,
  turnover_days  numeric(10, 1),                -- on hand / sold per day; NULL when nothing sold
  stock_status   text NOT NULL CHECK (stock_status IN ('OK', 'LOW', 'OUT')),
  rolled_up_at   timestamptz NOT NULL,
  PRIMARY KEY (week, warehouse_id, sku_id)
);

CREATE TABLE reports.after_sales_daily (
  day                    date PRIMARY KEY,
  requests               integer NOT NULL,
  orders_placed          integer NOT NULL,
  refunded_fen           bigint NOT NULL,
  approved               integer NOT NULL,
  rejected               integer NOT NULL,
  auto_approved          integer NOT NULL,
  avg_decision_seconds   integer,
  max_decision_seconds   integer,
  rolled_up_at           timestamptz NOT NULL
);

CREATE TABLE reports.after_sales_daily_breakdown (
  day           date NOT NULL,
  dimension     text NOT NULL CHECK (dimension IN ('reason', 'sku')),
  key           text NOT NULL,
  requests      integer NOT NULL,
  requested_fen bigint NOT NULL,
  refunded_fen  bigint NOT NULL,
  PRIMARY KEY (day, dimension, key)
);

CREATE TABLE reports.trial_balance_daily (
  day                 date NOT NULL,
  account             text NOT NULL,
  debit_fen           bigint NOT NULL,   -- movements of the day
  credit_fen          bigint NOT NULL,
  closing_debit_fen   bigint NOT NULL,   -- cumulative up to the end of the day
  closing_credit_fen  bigint NOT NULL,
  PRIMARY KEY (day, account)
);

CREATE TABLE reports.reconciliation_daily (
  day         date PRIMARY KEY,
  status      text NOT NULL,           -- CLEAN, DIFFERENCES, or NONE (no reconciliation that day)
  differences integer NOT NULL
);

-- Down Migration
DROP SCHEMA reports CASCADE;
