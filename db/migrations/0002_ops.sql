-- Up Migration
-- Operational records that are not part of any business module.
CREATE SCHEMA IF NOT EXISTS ops;

-- One row per run of the smoke-test workflow: proves worker -> activity -> PostgreSQL end to end.
-- The primary key is the workflow id, so a retried activity cannot write twice.
CREATE TABLE ops.smoke_tests (
  workflow_id  text PRIMARY KEY,
  message      text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 1
);

-- Down Migration
DROP SCHEMA ops CASCADE;
