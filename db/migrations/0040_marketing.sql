-- Up Migration
-- Coupons, full-reduction promotions and campaign definitions.
CREATE SCHEMA IF NOT EXISTS marketing;

CREATE TABLE marketing.operations (
  key            text PRIMARY KEY,
  operation      text NOT NULL,
  state          text NOT NULL CHECK (state IN ('APPLIED', 'COMPENSATED')),
  result         jsonb,
  compensation   jsonb,
  applied_at     timestamptz NOT NULL DEFAULT now(),
  compensated_at timestamptz
);

CREATE TABLE marketing.coupon_templates (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('AMOUNT_OFF', 'PERCENT_OFF')),
  amount_fen    bigint,
  percent       integer,
  cap_fen       bigint,
  min_spend_fen bigint NOT NULL DEFAULT 0 CHECK (min_spend_fen >= 0),
  valid_from    timestamptz NOT NULL,
  valid_until   timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_from < valid_until),
  CHECK (
    (kind = 'AMOUNT_OFF' AND amount_fen > 0 AND percent IS NULL AND cap_fen IS NULL)
    OR (kind = 'PERCENT_OFF' AND amount_fen IS NULL AND percent BETWEEN 1 AND 99 AND (cap_fen IS NULL OR cap_fen > 0))
  )
);

-- One coupon per issue; the order that locked or used it is named so only that order can move it on.
CREATE TABLE marketing.coupons (
  id              text PRIMARY KEY,
  template_id     text NOT NULL REFERENCES marketing.coupon_templates (id),
  member_id       text NOT NULL,
  state           text NOT NULL CHECK (state IN ('AVAILABLE', 'LOCKED', 'USED', 'EXPIRED')),
  locked_by_order text,
  used_by_order   text,
  issued_at       timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (state <> 'LOCKED' OR (locked_by_order IS NOT NULL AND used_by_order IS NULL)),
  CHECK (state <> 'USED' OR (used_by_order IS NOT NULL AND locked_by_order IS NULL)),
  CHECK (state <> 'AVAILABLE' OR (locked_by_order IS NULL AND used_by_order IS NULL))
);
CREATE INDEX coupons_member_idx ON marketing.coupons (member_id, state);

-- Full reduction (满减): tiers is a JSON array of { thresholdFen, discountFen }, validated by the service.
CREATE TABLE marketing.promotions (
  id         text PRIMARY KEY,
  name       text NOT NULL,
  tiers      jsonb NOT NULL CHECK (jsonb_typeof(tiers) = 'array' AND jsonb_array_length(tiers) > 0),
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (starts_at < ends_at)
);

-- Presale, group-buy and flash-sale definitions; the kind-specific terms are in `definition`.
CREATE TABLE marketing.campaigns (
  id         text PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('PRESALE', 'GROUP_BUY', 'FLASH_SALE')),
  name       text NOT NULL,
  sku_id     text NOT NULL,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (starts_at < ends_at)
);
CREATE INDEX campaigns_kind_idx ON marketing.campaigns (kind, starts_at);

-- Down Migration
DROP SCHEMA marketing CASCADE;
