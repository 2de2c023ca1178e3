-- run SQL: diff_counts
-- dialect: bigquery; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

SELECT
  SUM(CASE WHEN NOT `c`.`profile_id` IS NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN `p`.`profile_id` IS NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN `c`.`profile_id` IS NULL THEN 1 ELSE 0 END)
FROM (
  SELECT
    `s`.`profile_id`
  FROM `linked_audiences`.`la_members` AS `s`
  WHERE
    `s`.`run_id` = '20261101T000000Z-000000000002'
    AND `s`.`audience_key` = 'cart_or_browse'
) AS `c`
FULL JOIN (
  SELECT
    `s`.`profile_id`
  FROM `linked_audiences`.`la_members` AS `s`
  WHERE
    `s`.`run_id` = '20261020T000000Z-000000000001'
    AND `s`.`audience_key` = 'cart_or_browse'
) AS `p`
  ON `c`.`profile_id` = `p`.`profile_id`;

SELECT
  COALESCE(`c`.`relationship`, `p`.`relationship`) AS `relationship`,
  SUM(CASE WHEN `p`.`entity_id` IS NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN `c`.`entity_id` IS NULL THEN 1 ELSE 0 END),
  SUM(
    CASE
      WHEN (
        NOT `c`.`entity_id` IS NULL AND NOT `p`.`entity_id` IS NULL
      )
      AND `c`.`checksum` IS DISTINCT FROM `p`.`checksum`
      THEN 1
      ELSE 0
    END
  )
FROM (
  SELECT
    `s`.`profile_id`,
    `s`.`relationship`,
    `s`.`entity_id`,
    `s`.`checksum`
  FROM `linked_audiences`.`la_entities` AS `s`
  WHERE
    `s`.`run_id` = '20261101T000000Z-000000000002'
    AND `s`.`audience_key` = 'cart_or_browse'
    AND `s`.`relationship` IN ('user-carts')
) AS `c`
FULL JOIN (
  SELECT
    `s`.`profile_id`,
    `s`.`relationship`,
    `s`.`entity_id`,
    `s`.`checksum`
  FROM `linked_audiences`.`la_entities` AS `s`
  WHERE
    `s`.`run_id` = '20261020T000000Z-000000000001'
    AND `s`.`audience_key` = 'cart_or_browse'
    AND `s`.`relationship` IN ('user-carts')
) AS `p`
  ON `c`.`profile_id` = `p`.`profile_id`
  AND `c`.`relationship` = `p`.`relationship`
  AND `c`.`entity_id` = `p`.`entity_id`
GROUP BY
  COALESCE(`c`.`relationship`, `p`.`relationship`);
