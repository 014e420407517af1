-- Up Migration
-- One audit trail: the back office's changes (catalog, stock, coupons, alerts) move from their own
-- table into audit.events, beside every other actor's. A retried back-office request is audited once:
-- its Idempotency-Key becomes audit.events.idempotency_key (unique where present; other rows have none).
ALTER TABLE audit.events ADD COLUMN idempotency_key text CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 300);
CREATE UNIQUE INDEX audit_events_idempotency_key ON audit.events (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- back_office.audit_log rows: actor "<role>:<subject>", target "<type>:<id>", action "receive-stock".
INSERT INTO audit.events (at, actor, actor_role, action, target_type, target_id, outcome, details, idempotency_key)
SELECT at,
       substr(actor, strpos(actor, ':') + 1),
       split_part(actor, ':', 1),
       'back-office.' || action,
       split_part(target, ':', 1),
       substr(target, strpos(target, ':') + 1),
       'ACCEPTED',
       details,
       'back-office:' || idempotency_key
  FROM back_office.audit_log
 ORDER BY id;

DROP SCHEMA back_office CASCADE;

-- Down Migration
CREATE SCHEMA back_office;
CREATE TABLE back_office.audit_log (
  id              bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 300),
  action          text NOT NULL,
  target          text NOT NULL,
  details         jsonb NOT NULL,
  at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_by_target ON back_office.audit_log (target, at);
CREATE FUNCTION back_office.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'back_office.audit_log is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON back_office.audit_log
  FOR EACH ROW EXECUTE FUNCTION back_office.refuse_change();
-- audit.events is append-only: the moved rows stay there (with their keys), the column stays too.
