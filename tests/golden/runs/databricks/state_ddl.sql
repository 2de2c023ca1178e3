-- run SQL: state_ddl
-- dialect: databricks; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

CREATE SCHEMA IF NOT EXISTS `linked_audiences`;

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_runs` (
  `run_id` STRING,
  `audience_key` STRING,
  `previous_run_id` STRING,
  `as_of` TIMESTAMP,
  `started_at` TIMESTAMP,
  `committed_at` TIMESTAMP,
  `members` BIGINT,
  `entered` BIGINT,
  `exited` BIGINT,
  `entities_added` BIGINT,
  `entities_removed` BIGINT,
  `entities_changed` BIGINT,
  `events` BIGINT,
  `skipped_events` BIGINT,
  `compile_seconds` DOUBLE,
  `query_seconds` DOUBLE,
  `diff_seconds` DOUBLE,
  `events_seconds` DOUBLE,
  `size_alert` BOOLEAN,
  `definition_fingerprint` STRING,
  `unselected_changes` BIGINT
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_run_failures` (
  `run_id` STRING,
  `audience_key` STRING,
  `as_of` TIMESTAMP,
  `started_at` TIMESTAMP,
  `failed_at` TIMESTAMP,
  `error` STRING,
  `definition_fingerprint` STRING
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_run_starts` (
  `audience_key` STRING,
  `run_id` STRING,
  `started_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_members` (
  `run_id` STRING,
  `audience_key` STRING,
  `profile_id` STRING,
  `user_id` STRING,
  `anonymous_id` STRING
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_entities` (
  `run_id` STRING,
  `audience_key` STRING,
  `profile_id` STRING,
  `relationship` STRING,
  `entity_id` STRING,
  `checksum` STRING
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_events` (
  `run_id` STRING,
  `audience_key` STRING,
  `seq` BIGINT,
  `trigger` STRING,
  `profile_id` STRING,
  `relationship` STRING,
  `entity_id` STRING,
  `message_id` STRING,
  `payload` STRING,
  `skipped` BOOLEAN
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_deliveries` (
  `audience_key` STRING,
  `run_id` STRING,
  `through_seq` BIGINT,
  `via_run` STRING,
  `delivered_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_locks` (
  `audience_key` STRING,
  `token` STRING,
  `acquired_at` DOUBLE,
  `expires_at` DOUBLE,
  `released` BOOLEAN
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_delivery_failures` (
  `audience_key` STRING,
  `run_id` STRING,
  `after_seq` BIGINT,
  `through_seq` BIGINT,
  `events` BIGINT,
  `error` STRING,
  `failed_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_alerts` (
  `audience_key` STRING,
  `run_id` STRING,
  `kind` STRING,
  `message` STRING,
  `value` DOUBLE,
  `baseline` DOUBLE,
  `change_percent` DOUBLE,
  `threshold_percent` DOUBLE,
  `raised_at` TIMESTAMP
);
