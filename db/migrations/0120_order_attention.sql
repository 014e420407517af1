-- Up Migration
-- What ops did about orders in NEEDS_ATTENTION (retry the step, or resolve it by hand): append-only,
-- one row per action, keyed by the order's own action counter so a retried activity writes it once.
CREATE TABLE orders.attention_actions (
  id              bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  order_id        text NOT NULL,
  action          text NOT NULL CHECK (action IN ('RETRY', 'RESOLVE')),
  actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
  step            text NOT NULL,
  workflow_id     text NOT NULL,
  run_id          text NOT NULL,
  at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attention_actions_by_order ON orders.attention_actions (order_id, at);

CREATE FUNCTION orders.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'orders.attention_actions is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER attention_actions_append_only BEFORE UPDATE OR DELETE ON orders.attention_actions
  FOR EACH ROW EXECUTE FUNCTION orders.refuse_change();

-- Down Migration
DROP TABLE orders.attention_actions;
DROP FUNCTION orders.refuse_change();
