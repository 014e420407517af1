-- Up Migration
-- The audit trail: one row per state change caused by a person or a partner system (a warehouse
-- shipping, a carrier delivering, an agent deciding a refund, an admin creating a campaign, opening a
-- flash sale or placing an order for a customer). Append-only: a trigger refuses UPDATE, DELETE and
-- TRUNCATE, here and on after_sales.decisions (the refund decisions' own audit), so a row once written
-- stays as written whatever the application does.
CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE audit.events (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text NOT NULL CHECK (length(actor) > 0),       -- the principal's subject (agent id, warehouse team, admin)
  actor_role   text NOT NULL CHECK (length(actor_role) > 0),
  action       text NOT NULL CHECK (length(action) > 0),      -- order.ship, refund.approve, campaign.create...
  target_type  text NOT NULL,                                 -- order, refund, campaign, flash_sale
  target_id    text NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('ACCEPTED', 'REFUSED')),
  before       jsonb,
  after        jsonb,
  details      jsonb,                                         -- what the actor sent (tracking number, reason, amount)
  request_id   text,
  workflow_id  text,
  run_id       text
);
CREATE INDEX audit_events_by_target ON audit.events (target_type, target_id, id);
CREATE INDEX audit_events_by_actor ON audit.events (actor, at);

CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit rows are append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON audit.events
  FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit.events
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON after_sales.decisions
  FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON after_sales.decisions
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- Down Migration
DROP TRIGGER decisions_no_truncate ON after_sales.decisions;
DROP TRIGGER decisions_append_only ON after_sales.decisions;
DROP SCHEMA audit CASCADE;
