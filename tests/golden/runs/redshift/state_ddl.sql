-- run SQL: state_ddl
-- dialect: redshift; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

CREATE SCHEMA IF NOT EXISTS "linked_audiences";

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_runs" (
  "run_id" VARCHAR(65535),
  "audience_key" VARCHAR(65535),
  "previous_run_id" VARCHAR(65535),
  "as_of" TIMESTAMP WITH TIME ZONE,
  "started_at" TIMESTAMP WITH TIME ZONE,
  "committed_at" TIMESTAMP WITH TIME ZONE,
  "members" BIGINT,
  "entered" BIGINT,
  "exited" BIGINT,
  "entities_added" BIGINT,
  "entities_removed" BIGINT,
  "entities_changed" BIGINT,
  "events" BIGINT,
  "skipped_events" BIGINT,
  "compile_seconds" DOUBLE PRECISION,
  "query_seconds" DOUBLE PRECISION,
  "diff_seconds" DOUBLE PRECISION,
  "events_seconds" DOUBLE PRECISION,
  "size_alert" BOOLEAN,
  "definition_fingerprint" VARCHAR(65535),
  "unselected_changes" BIGINT
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_run_failures" (
  "run_id" VARCHAR(65535),
  "audience_key" VARCHAR(65535),
  "as_of" TIMESTAMP WITH TIME ZONE,
  "started_at" TIMESTAMP WITH TIME ZONE,
  "failed_at" TIMESTAMP WITH TIME ZONE,
  "error" VARCHAR(65535),
  "definition_fingerprint" VARCHAR(65535)
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_run_starts" (
  "audience_key" VARCHAR(65535),
  "run_id" VARCHAR(65535),
  "started_at" TIMESTAMP WITH TIME ZONE
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_members" (
  "run_id" VARCHAR(65535),
  "audience_key" VARCHAR(65535),
  "profile_id" VARCHAR(65535),
  "user_id" VARCHAR(65535),
  "anonymous_id" VARCHAR(65535)
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_entities" (
  "run_id" VARCHAR(65535),
  "audience_key" VARCHAR(65535),
  "profile_id" VARCHAR(65535),
  "relationship" VARCHAR(65535),
  "entity_id" VARCHAR(65535),
  "checksum" VARCHAR(65535)
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_events" (
  "run_id" VARCHAR(65535),
  "audience_key" VARCHAR(65535),
  "seq" BIGINT,
  "trigger" VARCHAR(65535),
  "profile_id" VARCHAR(65535),
  "relationship" VARCHAR(65535),
  "entity_id" VARCHAR(65535),
  "message_id" VARCHAR(65535),
  "payload" VARCHAR(65535),
  "skipped" BOOLEAN
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_deliveries" (
  "audience_key" VARCHAR(65535),
  "run_id" VARCHAR(65535),
  "through_seq" BIGINT,
  "via_run" VARCHAR(65535),
  "delivered_at" TIMESTAMP WITH TIME ZONE
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_locks" (
  "audience_key" VARCHAR(65535),
  "token" VARCHAR(65535),
  "acquired_at" DOUBLE PRECISION,
  "expires_at" DOUBLE PRECISION,
  "released" BOOLEAN
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_delivery_failures" (
  "audience_key" VARCHAR(65535),
  "run_id" VARCHAR(65535),
  "after_seq" BIGINT,
  "through_seq" BIGINT,
  "events" BIGINT,
  "error" VARCHAR(65535),
  "failed_at" TIMESTAMP WITH TIME ZONE
);

CREATE TABLE IF NOT EXISTS "linked_audiences"."la_alerts" (
  "audience_key" VARCHAR(65535),
  "run_id" VARCHAR(65535),
  "kind" VARCHAR(65535),
  "message" VARCHAR(65535),
  "value" DOUBLE PRECISION,
  "baseline" DOUBLE PRECISION,
  "change_percent" DOUBLE PRECISION,
  "threshold_percent" DOUBLE PRECISION,
  "raised_at" TIMESTAMP WITH TIME ZONE
);
