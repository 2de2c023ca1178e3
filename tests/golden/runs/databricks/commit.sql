-- run SQL: commit
-- dialect: databricks; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

INSERT INTO `linked_audiences`.`la_runs` (
  `run_id`,
  `audience_key`,
  `previous_run_id`,
  `as_of`,
  `started_at`,
  `committed_at`,
  `members`,
  `entered`,
  `exited`,
  `entities_added`,
  `entities_removed`,
  `entities_changed`,
  `events`,
  `skipped_events`,
  `compile_seconds`,
  `query_seconds`,
  `diff_seconds`,
  `events_seconds`,
  `size_alert`,
  `definition_fingerprint`,
  `unselected_changes`
)
SELECT
  '20261101T000000Z-000000000002',
  'cart_or_browse',
  '20261020T000000Z-000000000001',
  CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP),
  CAST('2026-11-01T00:05:00+00:00' AS TIMESTAMP),
  CAST('2026-11-01T00:05:00+00:00' AS TIMESTAMP),
  120,
  7,
  3,
  5,
  2,
  0,
  17,
  0,
  0.01,
  0.5,
  0.2,
  0.3,
  FALSE,
  'fingerprint',
  4
FROM (
  SELECT
    1 AS `one`
) AS `o`
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM `linked_audiences`.`la_runs` AS `p`
    WHERE
      `p`.`audience_key` = 'cart_or_browse'
      AND `p`.`previous_run_id` = '20261020T000000Z-000000000001'
      AND NOT `p`.`run_id` IN (
        SELECT
          `wf`.`run_id`
        FROM `linked_audiences`.`la_run_failures` AS `wf`
        WHERE
          `wf`.`audience_key` = 'cart_or_browse'
      )
  );

SELECT
  `c`.`run_id`
FROM `linked_audiences`.`la_runs` AS `c`
WHERE
  `c`.`audience_key` = 'cart_or_browse'
  AND `c`.`previous_run_id` = '20261020T000000Z-000000000001'
  AND NOT `c`.`run_id` IN (
    SELECT
      `wf`.`run_id`
    FROM `linked_audiences`.`la_run_failures` AS `wf`
    WHERE
      `wf`.`audience_key` = 'cart_or_browse'
  );
