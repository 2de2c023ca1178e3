-- run SQL: state_ddl
-- dialect: duckdb; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

CREATE SCHEMA IF NOT EXISTS "linked_audiences";

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_runs" (
  "run_id" TEXT,
  "audience_key" TEXT,
  "previous_run_id" TEXT,
  "as_of" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ,
  "committed_at" TIMESTAMPTZ,
  "members" BIGINT,
  "entered" BIGINT,
  "exited" BIGINT,
  "entities_added" BIGINT,
  "entities_removed" BIGINT,
  "entities_changed" BIGINT,
  "events" BIGINT,
  "skipped_events" BIGINT,
  "compile_seconds" DOUBLE,
  "query_seconds" DOUBLE,
  "diff_seconds" DOUBLE,
  "events_seconds" DOUBLE,
  "size_alert" BOOLEAN,
  "definition_fingerprint" TEXT,
  "unselected_changes" BIGINT,
  UNIQUE (
    "audience_key",
    "previous_run_id"
  )
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_run_failures" (
  "run_id" TEXT,
  "audience_key" TEXT,
  "as_of" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ,
  "failed_at" TIMESTAMPTZ,
  "error" TEXT,
  "definition_fingerprint" TEXT
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_run_starts" (
  "audience_key" TEXT,
  "run_id" TEXT,
  "started_at" TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_members" (
  "run_id" TEXT,
  "audience_key" TEXT,
  "profile_id" TEXT,
  "user_id" TEXT,
  "anonymous_id" TEXT
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_entities" (
  "run_id" TEXT,
  "audience_key" TEXT,
  "profile_id" TEXT,
  "relationship" TEXT,
  "entity_id" TEXT,
  "checksum" TEXT
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_events" (
  "run_id" TEXT,
  "audience_key" TEXT,
  "seq" BIGINT,
  "trigger" TEXT,
  "profile_id" TEXT,
  "relationship" TEXT,
  "entity_id" TEXT,
  "message_id" TEXT,
  "payload" TEXT,
  "skipped" BOOLEAN
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_deliveries" (
  "audience_key" TEXT,
  "run_id" TEXT,
  "through_seq" BIGINT,
  "via_run" TEXT,
  "delivered_at" TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_locks" (
  "audience_key" TEXT,
  "token" TEXT,
  "acquired_at" DOUBLE,
  "expires_at" DOUBLE,
  "released" BOOLEAN
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_delivery_failures" (
  "audience_key" TEXT,
  "run_id" TEXT,
  "after_seq" BIGINT,
  "through_seq" BIGINT,
  "events" BIGINT,
  "error" TEXT,
  "failed_at" TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_alerts" (
  "audience_key" TEXT,
  "run_id" TEXT,
  "kind" TEXT,
  "message" TEXT,
  "value" DOUBLE,
  "baseline" DOUBLE,
  "change_percent" DOUBLE,
  "threshold_percent" DOUBLE,
  "raised_at" TIMESTAMPTZ
);
