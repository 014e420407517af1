-- Up Migration
-- Finance: payments, refunds and the double-entry journal (schema finance), plus the sandbox payment
-- provider's own records (schema finance_sandbox). The sandbox stands in for an external system, so
-- its tables are never joined with the ledger's: reconciliation compares them through the provider API.
CREATE SCHEMA IF NOT EXISTS finance;

CREATE TABLE finance.operations (
  key            text PRIMARY KEY,
  operation      text NOT NULL,
  state          text NOT NULL CHECK (state IN ('APPLIED', 'COMPENSATED')),
  result         jsonb,
  compensation   jsonb,
  applied_at     timestamptz NOT NULL DEFAULT now(),
  compensated_at timestamptz
);

-- Chart of accounts: see modules/finance/accounts.ts for why each account exists.
CREATE TABLE finance.accounts (
  code        text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('asset', 'liability', 'revenue', 'contra_revenue', 'income')),
  normal_side text NOT NULL CHECK (normal_side IN ('debit', 'credit')),
  description text NOT NULL
);

INSERT INTO finance.accounts (code, kind, normal_side, description) VALUES
  ('cash:provider', 'asset', 'debit', 'money held for us by the payment provider'),
  ('liability:customer_prepayments', 'liability', 'credit', 'money received for orders not yet completed (unearned)'),
  ('revenue:sales', 'revenue', 'credit', 'sales earned at order completion'),
  ('revenue:sales_returns', 'contra_revenue', 'debit', 'refunds of sales already recognised'),
  ('income:forfeited_deposits', 'income', 'credit', 'presale deposits kept when the final payment was missed');

-- One row per payment intent. A presale order has two (deposit, final payment).
CREATE TABLE finance.payments (
  id            bigserial PRIMARY KEY,
  order_id      text NOT NULL,
  intent_id     text NOT NULL UNIQUE,
  currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
  captured_fen  bigint NOT NULL DEFAULT 0,
  refunded_fen  bigint NOT NULL DEFAULT 0,   -- includes refunds reserved but not yet settled
  forfeited_fen bigint NOT NULL DEFAULT 0,
  state         text NOT NULL CHECK (state IN ('REQUIRES_PAYMENT', 'AUTHORIZED', 'CAPTURED', 'CANCELLED')),
  capture_id    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (captured_fen >= 0 AND captured_fen <= amount_fen),
  CHECK (refunded_fen >= 0 AND refunded_fen <= captured_fen),
  CHECK (forfeited_fen >= 0 AND refunded_fen + forfeited_fen <= captured_fen),
  CHECK (state <> 'CAPTURED' OR capture_id IS NOT NULL)
);
CREATE INDEX payments_order_idx ON finance.payments (order_id);

-- One row per provider refund. A refund request spanning several payments has one row per payment.
CREATE TABLE finance.refunds (
  id                 bigserial PRIMARY KEY,
  request_key        text NOT NULL,
  provider_key       text NOT NULL UNIQUE,
  payment_id         bigint NOT NULL REFERENCES finance.payments (id),
  order_id           text NOT NULL,
  amount_fen         bigint NOT NULL CHECK (amount_fen > 0),
  reason             text NOT NULL,
  state              text NOT NULL CHECK (state IN ('PENDING', 'SUCCEEDED', 'FAILED')),
  provider_refund_id text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  settled_at         timestamptz,
  CHECK (state <> 'SUCCEEDED' OR provider_refund_id IS NOT NULL)
);
CREATE INDEX refunds_request_idx ON finance.refunds (request_key);
CREATE INDEX refunds_order_idx ON finance.refunds (order_id);

CREATE TABLE finance.journal_entries (
  id              bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  kind            text NOT NULL CHECK (kind IN ('PAYMENT_CAPTURED', 'REVENUE_RECOGNISED', 'REFUND', 'DEPOSIT_FORFEITED')),
  order_id        text,
  currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  external_ref    text,            -- the provider's transaction id (capture, refund): what reconciliation matches
  memo            text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_order_idx ON finance.journal_entries (order_id);
CREATE INDEX journal_entries_created_idx ON finance.journal_entries (created_at);
CREATE INDEX journal_entries_ref_idx ON finance.journal_entries (external_ref);

CREATE TABLE finance.journal_lines (
  id         bigserial PRIMARY KEY,
  entry_id   bigint NOT NULL REFERENCES finance.journal_entries (id),
  account    text NOT NULL REFERENCES finance.accounts (code),
  debit_fen  bigint NOT NULL DEFAULT 0 CHECK (debit_fen >= 0),
  credit_fen bigint NOT NULL DEFAULT 0 CHECK (credit_fen >= 0),
  CHECK ((debit_fen > 0) <> (credit_fen > 0))
);
CREATE INDEX journal_lines_entry_idx ON finance.journal_lines (entry_id);
CREATE INDEX journal_lines_account_idx ON finance.journal_lines (account);

-- Every entry balances (an entry has one currency, so this is the per-currency balance) and has at
-- least two lines. Checked at commit, so the lines of one entry can be inserted one by one.
CREATE FUNCTION finance.assert_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target bigint;
  debits numeric;
  credits numeric;
  line_count integer;
BEGIN
  IF TG_TABLE_NAME = 'journal_entries' THEN
    target := NEW.id;
  ELSIF TG_OP = 'DELETE' THEN
    target := OLD.entry_id;
  ELSE
    target := NEW.entry_id;
  END IF;
  SELECT COALESCE(SUM(debit_fen), 0), COALESCE(SUM(credit_fen), 0), COUNT(*)
    INTO debits, credits, line_count
    FROM finance.journal_lines WHERE entry_id = target;
  IF line_count < 2 OR debits <> credits THEN
    RAISE EXCEPTION 'journal entry % is unbalanced: debits %, credits %, % lines', target, debits, credits, line_count
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER journal_lines_balanced
  AFTER INSERT OR UPDATE OR DELETE ON finance.journal_lines
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance.assert_entry_balanced();

CREATE CONSTRAINT TRIGGER journal_entries_balanced
  AFTER INSERT ON finance.journal_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance.assert_entry_balanced();

-- The journal is append-only: a correction is a new entry, never an edit of history.
CREATE FUNCTION finance.refuse_journal_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the journal is append-only (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON finance.journal_entries
  FOR EACH ROW EXECUTE FUNCTION finance.refuse_journal_change();
CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON finance.journal_lines
  FOR EACH ROW EXECUTE FUNCTION finance.refuse_journal_change();

CREATE TABLE finance.reconciliation_reports (
  id               bigserial PRIMARY KEY,
  report_date      date NOT NULL,
  status           text NOT NULL CHECK (status IN ('CLEAN', 'DIFFERENCES')),
  provider_count   integer NOT NULL,
  ledger_count     integer NOT NULL,
  provider_net_fen bigint NOT NULL,
  ledger_net_fen   bigint NOT NULL,
  differences      jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'CLEAN') = (jsonb_array_length(differences) = 0))
);
CREATE INDEX reconciliation_reports_date_idx ON finance.reconciliation_reports (report_date);

-- The sandbox payment provider's own books.
CREATE SCHEMA IF NOT EXISTS finance_sandbox;

CREATE TABLE finance_sandbox.intents (
  id              text PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  order_id        text NOT NULL,
  currency        text NOT NULL,
  amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
  status          text NOT NULL CHECK (status IN ('requires_payment', 'authorized', 'captured', 'cancelled')),
  captured_fen    bigint NOT NULL DEFAULT 0,
  refunded_fen    bigint NOT NULL DEFAULT 0,
  last_error      text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  CHECK (captured_fen >= 0 AND captured_fen <= amount_fen),
  CHECK (refunded_fen >= 0 AND refunded_fen <= captured_fen)
);

-- Money that moved: captures and refunds (what listTransactions reports).
CREATE TABLE finance_sandbox.transactions (
  id              text PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  intent_id       text NOT NULL REFERENCES finance_sandbox.intents (id),
  kind            text NOT NULL CHECK (kind IN ('capture', 'refund')),
  amount_fen      bigint NOT NULL CHECK (amount_fen > 0),
  created_at      timestamptz NOT NULL
);
CREATE INDEX sandbox_transactions_created_idx ON finance_sandbox.transactions (created_at);

-- Scripted misbehaviour: decline / delay / error, for the next N calls (remaining) or while it lasts (NULL).
CREATE TABLE finance_sandbox.behaviours (
  id         bigserial PRIMARY KEY,
  action     text NOT NULL CHECK (action IN ('decline', 'delay', 'error')),
  operation  text,
  order_id   text,
  remaining  integer CHECK (remaining >= 0),
  delay_ms   integer NOT NULL DEFAULT 0 CHECK (delay_ms >= 0),
  phase      text NOT NULL DEFAULT 'before' CHECK (phase IN ('before', 'after')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Outbox of webhook events: delivered at least once, each with a unique id the receiver dedupes on.
CREATE TABLE finance_sandbox.webhook_events (
  id              text PRIMARY KEY,
  type            text NOT NULL,
  payload         jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  delivered_at    timestamptz,
  gave_up_at      timestamptz,
  last_error      text
);
CREATE INDEX sandbox_webhook_pending_idx ON finance_sandbox.webhook_events (next_attempt_at)
  WHERE delivered_at IS NULL AND gave_up_at IS NULL;

-- Down Migration
DROP SCHEMA finance_sandbox CASCADE;
DROP SCHEMA finance CASCADE;
