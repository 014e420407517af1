-- Up Migration
-- Real payment providers (Alipay, WeChat Pay): what the buyer needs to pay an intent, and the
-- provider notifications the payment gate refused.

-- What the storefront shows the buyer to pay (Alipay: a QR code or a pay URL); null for the sandbox.
ALTER TABLE finance.payments ADD COLUMN checkout jsonb;

-- A signed provider notification that did not match our own record of the intent (amount, currency,
-- order, app): never applied to an order, kept for ops (GET /admin/payments/refused-notifications).
CREATE TABLE finance.refused_notifications (
  id          bigserial PRIMARY KEY,
  provider    text NOT NULL,
  event_id    text NOT NULL,
  intent_id   text,
  order_id    text,
  reason      text NOT NULL,
  expected    jsonb,
  received    jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, event_id)
);
CREATE INDEX refused_notifications_received_idx ON finance.refused_notifications (received_at DESC);

-- One report per reconciliation run (the schedule's workflow and date): a retried activity adds none.
ALTER TABLE finance.reconciliation_reports ADD COLUMN run_key text UNIQUE;

-- Down Migration
ALTER TABLE finance.reconciliation_reports DROP COLUMN run_key;
DROP TABLE finance.refused_notifications;
ALTER TABLE finance.payments DROP COLUMN checkout;
