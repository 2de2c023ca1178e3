-- run SQL: state_ddl
-- dialect: snowflake; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

SELECT
  CURRENT_SCHEMA();

CREATE SCHEMA IF NOT EXISTS "linked_audiences";

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_runs" (
  "run_id" VARCHAR,
  "audience_key" VARCHAR,
  "previous_run_id" VARCHAR,
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
  "definition_fingerprint" VARCHAR,
  "unselected_changes" BIGINT
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_run_failures" (
  "run_id" VARCHAR,
  "audience_key" VARCHAR,
  "as_of" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ,
  "failed_at" TIMESTAMPTZ,
  "error" VARCHAR,
  "definition_fingerprint" VARCHAR
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_run_starts" (
  "audience_key" VARCHAR,
  "run_id" VARCHAR,
  "started_at" TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_members" (
  "run_id" VARCHAR,
  "audience_key" VARCHAR,
  "profile_id" VARCHAR,
  "user_id" VARCHAR,
  "anonymous_id" VARCHAR
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_entities" (
  "run_id" VARCHAR,
  "audience_key" VARCHAR,
  "profile_id" VARCHAR,
  "relationship" VARCHAR,
  "entity_id" VARCHAR,
  "checksum" VARCHAR
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_events" (
  "run_id" VARCHAR,
  "audience_key" VARCHAR,
  "seq" BIGINT,
  "trigger" VARCHAR,
  "profile_id" VARCHAR,
  "relationship" VARCHAR,
  "entity_id" VARCHAR,
  "message_id" VARCHAR,
  "payload" VARCHAR,
  "skipped" BOOLEAN
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_deliveries" (
  "audience_key" VARCHAR,
  "run_id" VARCHAR,
  "through_seq" BIGINT,
  "via_run" VARCHAR,
  "delivered_at" TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_locks" (
  "audience_key" VARCHAR,
  "token" VARCHAR,
  "acquired_at" DOUBLE,
  "expires_at" DOUBLE,
  "released" BOOLEAN
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_delivery_failures" (
  "audience_key" VARCHAR,
  "run_id" VARCHAR,
  "after_seq" BIGINT,
  "through_seq" BIGINT,
  "events" BIGINT,
  "error" VARCHAR,
  "failed_at" TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_alerts" (
  "audience_key" VARCHAR,
  "run_id" VARCHAR,
  "kind" VARCHAR,
  "message" VARCHAR,
  "value" DOUBLE,
  "baseline" DOUBLE,
  "change_percent" DOUBLE,
  "threshold_percent" DOUBLE,
  "raised_at" TIMESTAMPTZ
);
