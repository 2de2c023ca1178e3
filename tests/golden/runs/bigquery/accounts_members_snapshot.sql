-- run SQL: accounts_members_snapshot
-- dialect: bigquery; audience: buying_accounts; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

INSERT INTO `linked_audiences`.`la_members` (
  `run_id`,
  `audience_key`,
  `profile_id`,
  `user_id`,
  `anonymous_id`
)
SELECT
  '20261101T000000Z-000000000002',
  'buying_accounts',
  CAST(`a`.`account_id` AS STRING),
  CAST(NULL AS STRING),
  CAST(NULL AS STRING)
FROM (
  WITH `la_e1` AS (
    SELECT
      `g`.`canonical_segment_id` AS `k0`
    FROM `segment`.`order_completed` AS `ev`
    INNER JOIN `ps_materialize`.`id_graph` AS `g`
      ON `g`.`segment_id` = `ev`.`segment_id`
    WHERE
      NOT `g`.`canonical_segment_id` IS NULL
      AND NOT `ev`.`timestamp` IS NULL
      AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
  ), `la_users1` AS (
    SELECT
      `u`.`k0` AS `k0`
    FROM `la_e1` AS `u`
  )
  SELECT
    `acct`.`group_id` AS `account_id`
  FROM `ps_materialize`.`account_traits` AS `acct`
  WHERE
    NOT `acct`.`group_id` IS NULL
    AND EXISTS(
      SELECT
        1
      FROM `ps_materialize`.`account_users` AS `mu`
      WHERE
        `mu`.`group_id` = `acct`.`group_id`
        AND NOT `mu`.`canonical_segment_id` IS NULL
        AND EXISTS(
          SELECT
            1
          FROM `la_users1` AS `ok`
          WHERE
            `ok`.`k0` = `mu`.`canonical_segment_id`
        )
    )
) AS `a`;
