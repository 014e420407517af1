-- Up Migration
-- The transactional outbox (modules/events): one row per domain event, written in the same
-- transaction as the effect it reports. event_id is the event's business identity
-- (`ord_123:paid`), so a retried or replayed activity inserts nothing twice (ON CONFLICT DO NOTHING).
-- seq is the global order delivery follows. Append-only: an event that happened stays.
CREATE SCHEMA IF NOT EXISTS events;

CREATE TABLE events.outbox (
  seq          bigserial PRIMARY KEY,
  event_id     text NOT NULL UNIQUE CHECK (length(event_id) BETWEEN 1 AND 300),
  type         text NOT NULL,
  version      integer NOT NULL CHECK (version >= 1),
  order_id     text,
  customer_id  text,
  occurred_at  timestamptz NOT NULL,
  data         jsonb NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_by_order ON events.outbox (order_id, seq);
CREATE INDEX outbox_by_type ON events.outbox (type, seq);

CREATE FUNCTION events.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events.outbox is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER outbox_append_only BEFORE UPDATE OR DELETE ON events.outbox
  FOR EACH ROW EXECUTE FUNCTION events.refuse_change();

-- Who receives the events: HTTP subscribers registered by an admin (WEBHOOK), or consumers inside
-- the engine registered by the worker (CONSUMER, e.g. notifications), delivered the same way.
CREATE TABLE events.subscriptions (
  id            text PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('WEBHOOK', 'CONSUMER')),
  url           text,
  consumer      text UNIQUE,
  event_types   text[] NOT NULL,
  secret        text,
  max_attempts  integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- Delivery starts after this outbox position (the newest event when the subscription was made).
  start_seq     bigint NOT NULL DEFAULT 0,
  CHECK ((kind = 'WEBHOOK' AND url IS NOT NULL AND secret IS NOT NULL) OR (kind = 'CONSUMER' AND consumer IS NOT NULL))
);

-- One row per (subscription, event): the dispatcher's record of what it delivered, of attempts
-- that failed (RETRYING), of dead letters (DEAD) and of what ops asked to replay (REPLAY).
-- The primary key is what makes a second delivery of a DELIVERED event impossible.
CREATE TABLE events.deliveries (
  subscription_id text NOT NULL REFERENCES events.subscriptions (id),
  event_id        text NOT NULL REFERENCES events.outbox (event_id),
  seq             bigint NOT NULL,
  status          text NOT NULL CHECK (status IN ('RETRYING', 'DELIVERED', 'DEAD', 'REPLAY')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  delivered_at    timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscription_id, event_id)
);
CREATE INDEX deliveries_dead ON events.deliveries (subscription_id, seq) WHERE status = 'DEAD';

-- Down Migration
DROP TABLE events.deliveries;
DROP TABLE events.subscriptions;
DROP TABLE events.outbox;
DROP FUNCTION events.refuse_change();
