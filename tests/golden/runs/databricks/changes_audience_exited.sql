-- run SQL: changes_audience_exited
-- dialect: databricks; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

SELECT
  `c`.`profile_id`,
  CAST(NULL AS STRING) AS `entity_id`,
  `c`.`user_id`,
  `c`.`anonymous_id`,
  FALSE AS `member_now`
FROM `linked_audiences`.`la_members` AS `c`
WHERE
  `c`.`run_id` = '20261020T000000Z-000000000001'
  AND `c`.`audience_key` = 'cart_or_browse'
  AND NOT EXISTS(
    SELECT
      1
    FROM `linked_audiences`.`la_members` AS `p`
    WHERE
      `p`.`run_id` = '20261101T000000Z-000000000002'
      AND `p`.`audience_key` = 'cart_or_browse'
      AND `p`.`profile_id` = `c`.`profile_id`
  );
