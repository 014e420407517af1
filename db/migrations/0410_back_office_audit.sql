-- Up Migration
-- What back-office people changed (catalog, stock, coupons, alerts): append-only, one row per
-- accepted request, keyed by the request's Idempotency-Key so a retried request is audited once.
-- (To be folded into the shared audit schema once it exists.)
CREATE SCHEMA IF NOT EXISTS back_office;

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

-- Down Migration
DROP SCHEMA back_office CASCADE;
