-- Up Migration
-- Members, their tiers and their points. Every change of a balance is an entry in points_entries;
-- points_balances is kept in the same transaction as the entry (the sum of the entries, by construction).
CREATE SCHEMA IF NOT EXISTS member;

CREATE TABLE member.operations (
  key            text PRIMARY KEY,
  operation      text NOT NULL,
  state          text NOT NULL CHECK (state IN ('APPLIED', 'COMPENSATED')),
  result         jsonb,
  compensation   jsonb,
  applied_at     timestamptz NOT NULL DEFAULT now(),
  compensated_at timestamptz
);

CREATE TABLE member.members (
  id                  text PRIMARY KEY,
  name                text NOT NULL,
  tier                text NOT NULL DEFAULT 'BRONZE' CHECK (tier IN ('BRONZE', 'SILVER', 'GOLD', 'PLATINUM')),
  completed_spend_fen bigint NOT NULL DEFAULT 0 CHECK (completed_spend_fen >= 0),
  created_at          timestamptz NOT NULL DEFAULT now()
);

-- available: spendable; pending: earned by paid orders not yet completed; held: reserved by placed orders.
CREATE TABLE member.points_balances (
  member_id  text PRIMARY KEY REFERENCES member.members (id),
  available  bigint NOT NULL DEFAULT 0 CHECK (available >= 0),
  pending    bigint NOT NULL DEFAULT 0 CHECK (pending >= 0),
  held       bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE member.points_entries (
  id              bigserial PRIMARY KEY,
  member_id       text NOT NULL REFERENCES member.members (id),
  kind            text NOT NULL CHECK (kind IN ('GRANT', 'HOLD', 'RELEASE_HOLD', 'COMMIT_HOLD', 'RETURN_USED',
                                                'AWARD_PENDING', 'REVOKE_PENDING', 'REVERSE_FOR_REFUND', 'COMPLETE_ORDER')),
  delta_available bigint NOT NULL,
  delta_pending   bigint NOT NULL,
  delta_held      bigint NOT NULL,
  -- Points that should have been taken back but were no longer there (already spent).
  shortfall       bigint NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
  order_id        text,
  idempotency_key text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX points_entries_member_idx ON member.points_entries (member_id, id);

-- One hold per holdPoints key: HELD until the order is paid (COMMITTED) or abandoned (RELEASED).
CREATE TABLE member.point_holds (
  hold_key   text PRIMARY KEY,
  member_id  text NOT NULL REFERENCES member.members (id),
  order_id   text NOT NULL,
  points     bigint NOT NULL CHECK (points > 0),
  state      text NOT NULL CHECK (state IN ('HELD', 'COMMITTED', 'RELEASED')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- What each order did to a member's points and spend: the caps for returns and reversals.
CREATE TABLE member.order_points (
  member_id              text NOT NULL REFERENCES member.members (id),
  order_id               text NOT NULL,
  spent_points           bigint NOT NULL DEFAULT 0,
  returned_points        bigint NOT NULL DEFAULT 0,
  awarded_points         bigint NOT NULL DEFAULT 0,
  taken_back_points      bigint NOT NULL DEFAULT 0,
  pending_points         bigint NOT NULL DEFAULT 0,
  completed              boolean NOT NULL DEFAULT false,
  completed_spend_fen    bigint NOT NULL DEFAULT 0,
  refunded_spend_fen     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (member_id, order_id),
  CHECK (spent_points >= 0 AND returned_points >= 0 AND returned_points <= spent_points),
  CHECK (awarded_points >= 0 AND taken_back_points >= 0 AND taken_back_points <= awarded_points),
  CHECK (pending_points >= 0 AND pending_points <= awarded_points - taken_back_points),
  CHECK (completed OR pending_points = awarded_points - taken_back_points),
  CHECK (NOT completed OR pending_points = 0),
  CHECK (completed OR completed_spend_fen = 0),
  CHECK (completed_spend_fen >= 0 AND refunded_spend_fen >= 0 AND refunded_spend_fen <= completed_spend_fen)
);

-- Down Migration
DROP SCHEMA member CASCADE;
