-- Up Migration
-- After-sales (售后): refund requests as support agents list them (a projection of each request's
-- workflow `refund-<requestId>`, written by an activity on every change; the workflow stays the source
-- of truth), and the audit trail of every decision: who, when, what, why, and the workflow run it reached.
CREATE SCHEMA IF NOT EXISTS after_sales;

CREATE TABLE after_sales.refund_requests (
  request_id       text PRIMARY KEY,
  order_id         text NOT NULL,
  customer_id      text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('REFUND_ONLY', 'RETURN_AND_REFUND')),
  status           text NOT NULL,
  requested_fen    bigint NOT NULL CHECK (requested_fen >= 0),
  refunded_fen     bigint NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0),
  requested_at     timestamptz NOT NULL,
  decision_due_at  timestamptz NOT NULL,
  workflow_id      text NOT NULL,
  view             jsonb NOT NULL,         -- the full RefundRequestView (lines, order summary, decision, timeline)
  version          integer NOT NULL,       -- only a newer version replaces a row
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refund_requests_by_status ON after_sales.refund_requests (status, requested_at);
CREATE INDEX refund_requests_by_order ON after_sales.refund_requests (order_id);

-- One decision per request: the one that reached the workflow and counted (agent, automatic, ops).
CREATE TABLE after_sales.decisions (
  id            bigserial PRIMARY KEY,
  request_id    text NOT NULL UNIQUE,
  order_id      text NOT NULL,
  decision      text NOT NULL CHECK (decision IN ('APPROVED', 'REJECTED')),
  decided_by    text NOT NULL,
  channel       text NOT NULL CHECK (channel IN ('api', 'signal', 'auto')),
  approved_fen  bigint CHECK (approved_fen IS NULL OR approved_fen >= 0),
  reason        text,
  decided_at    timestamptz NOT NULL,
  workflow_id   text NOT NULL,
  run_id        text NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (decision <> 'REJECTED' OR (reason IS NOT NULL AND reason <> ''))
);
CREATE INDEX decisions_by_order ON after_sales.decisions (order_id);

-- Down Migration
DROP SCHEMA after_sales CASCADE;
