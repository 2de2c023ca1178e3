-- run SQL: state_ddl
-- dialect: bigquery; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

CREATE SCHEMA IF NOT EXISTS `linked_audiences`;

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_runs` (
  `run_id` STRING,
  `audience_key` STRING,
  `previous_run_id` STRING,
  `as_of` TIMESTAMP,
  `started_at` TIMESTAMP,
  `committed_at` TIMESTAMP,
  `members` INT64,
  `entered` INT64,
  `exited` INT64,
  `entities_added` INT64,
  `entities_removed` INT64,
  `entities_changed` INT64,
  `events` INT64,
  `skipped_events` INT64,
  `compile_seconds` FLOAT64,
  `query_seconds` FLOAT64,
  `diff_seconds` FLOAT64,
  `events_seconds` FLOAT64,
  `size_alert` BOOL,
  `definition_fingerprint` STRING,
  `unselected_changes` INT64
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
  `seq` INT64,
  `trigger` STRING,
  `profile_id` STRING,
  `relationship` STRING,
  `entity_id` STRING,
  `message_id` STRING,
  `payload` STRING,
  `skipped` BOOL
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_deliveries` (
  `audience_key` STRING,
  `run_id` STRING,
  `through_seq` INT64,
  `via_run` STRING,
  `delivered_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_locks` (
  `audience_key` STRING,
  `token` STRING,
  `acquired_at` FLOAT64,
  `expires_at` FLOAT64,
  `released` BOOL
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_delivery_failures` (
  `audience_key` STRING,
  `run_id` STRING,
  `after_seq` INT64,
  `through_seq` INT64,
  `events` INT64,
  `error` STRING,
  `failed_at` TIMESTAMP
);

CREATE TABLE IF NOT EXISTS `linked_audiences`.`la_alerts` (
  `audience_key` STRING,
  `run_id` STRING,
  `kind` STRING,
  `message` STRING,
  `value` FLOAT64,
  `baseline` FLOAT64,
  `change_percent` FLOAT64,
  `threshold_percent` FLOAT64,
  `raised_at` TIMESTAMP
);
