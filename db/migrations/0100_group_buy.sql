-- Up Migration
-- Group-buy (拼团) per-user limit across a whole campaign: the units each buyer holds in a campaign
-- (orders placed, not cancelled, rejected or refunded by a failed group). The campaign's terms are
-- marketing's; the groups themselves are workflows. This schema holds only the limit counters.
CREATE SCHEMA IF NOT EXISTS group_buy;

CREATE TABLE group_buy.operations (
  key            text PRIMARY KEY,
  operation      text NOT NULL,
  state          text NOT NULL CHECK (state IN ('APPLIED', 'COMPENSATED')),
  result         jsonb,
  compensation   jsonb,
  applied_at     timestamptz NOT NULL DEFAULT now(),
  compensated_at timestamptz
);

-- One row per (campaign, buyer). `per_user_limit` is the campaign's limit as of the last take; the
-- take is a guarded upsert (units + n <= limit) and the CHECK makes exceeding it impossible whatever
-- the code does: concurrent takes serialize on the row and the loser sees the winner's units.
CREATE TABLE group_buy.buyer_limits (
  campaign_id    text NOT NULL CHECK (length(campaign_id) > 0),
  customer_id    text NOT NULL CHECK (length(customer_id) > 0),
  units          integer NOT NULL DEFAULT 0 CHECK (units >= 0),
  per_user_limit integer NOT NULL CHECK (per_user_limit > 0),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, customer_id),
  CHECK (units <= per_user_limit)
);

-- Down Migration
DROP SCHEMA group_buy CASCADE;
