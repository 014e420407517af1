-- Up Migration
-- Buyer notifications (modules/notifications). `sent` is the ledger of every notification an event
-- caused, one row per (event, channel) whatever the provider: the unique key makes a re-consumed
-- event send nothing twice. A row is SENDING while the provider is asked (a crash leaves it so, and
-- the next delivery of the event asks again under the same key), SENT once the provider took it, or
-- SKIPPED with why nothing went out (opted out, no contact on that channel).
CREATE SCHEMA IF NOT EXISTS notifications;

CREATE TABLE notifications.sent (
  id                  bigserial PRIMARY KEY,
  event_id            text NOT NULL,
  event_type          text NOT NULL,
  channel             text NOT NULL CHECK (channel IN ('sms', 'wechat', 'email')),
  member_id           text NOT NULL,
  order_id            text,
  template            text NOT NULL,
  status              text NOT NULL CHECK (status IN ('SENDING', 'SENT', 'SKIPPED')),
  skip_reason         text CHECK (skip_reason IN ('OPTED_OUT', 'NO_CONTACT')),
  provider            text,
  recipient           text,                -- the mobile, openid or email address it went to
  content             jsonb,               -- what the provider was given (template code, params, text)
  provider_message_id text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  sent_at             timestamptz,
  UNIQUE (event_id, channel),
  CHECK ((status = 'SKIPPED') = (skip_reason IS NOT NULL)),
  CHECK (status <> 'SENT' OR (provider IS NOT NULL AND recipient IS NOT NULL AND sent_at IS NOT NULL))
);
CREATE INDEX sent_by_member ON notifications.sent (member_id, id);

-- A buyer's opt-outs: no row means "send". event_type '*' switches a whole channel off.
CREATE TABLE notifications.opt_outs (
  member_id   text NOT NULL,
  channel     text NOT NULL CHECK (channel IN ('sms', 'wechat', 'email')),
  event_type  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (member_id, channel, event_type)
);

-- Down Migration
DROP SCHEMA notifications CASCADE;
