-- Up Migration
-- Engine-wide bookkeeping. Each domain module owns its own schema (added by its own migrations).

-- Idempotency of API requests (Idempotency-Key header): the first response is replayed for a retry.
CREATE SCHEMA IF NOT EXISTS api;

CREATE TABLE api.idempotency_keys (
  scope          text        NOT NULL,               -- who sent it (API key / subject), so keys never collide across callers
  key            text        NOT NULL,
  request_hash   text        NOT NULL,               -- a different body under the same key is refused (422)
  response_status integer,
  response_body  jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

-- Down Migration
DROP SCHEMA api CASCADE;
