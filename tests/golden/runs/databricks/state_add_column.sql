-- run SQL: state_add_column
-- dialect: databricks; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

ALTER TABLE `linked_audiences`.`la_runs`
ADD COLUMN `definition_fingerprint` STRING;
