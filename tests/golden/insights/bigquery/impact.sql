-- insight: impact
-- dialect: bigquery; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_insights.py --update-snapshots

WITH `la_q1` AS (
  SELECT
    `r3`.`account_id` AS `k0`
  FROM `prod`.`credit_card` AS `r3`
  WHERE
    NOT `r3`.`account_id` IS NULL
    AND NOT `r3`.`id` IS NULL
    AND (
      `r3`.`card_type` = 'premium' AND `r3`.`status` = 'active'
    )
), `la_q2` AS (
  SELECT
    `i`.`canonical_segment_id` AS `k0`
  FROM `ps_materialize`.`user_identifiers` AS `i`
  JOIN `prod`.`account` AS `r2`
    ON `r2`.`email` = `i`.`value`
  WHERE
    NOT `i`.`canonical_segment_id` IS NULL
    AND NOT `r2`.`id` IS NULL
    AND `i`.`type` = 'email'
    AND NOT `i`.`value` IS NULL
    AND (
      `r2`.`status` = 'active'
      AND EXISTS(
        SELECT
          1
        FROM `la_q1` AS `q1`
        WHERE
          `q1`.`k0` = `r2`.`id`
      )
    )
  GROUP BY
    `i`.`canonical_segment_id`
), `la_aud1` AS (
  SELECT
    `u`.`k0` AS `k0`
  FROM `la_q2` AS `u`
)
SELECT
  `r`.`side`,
  `r`.`id`,
  `r`.`total`
FROM (
  SELECT
    `d`.`id`,
    `d`.`side`,
    COUNT(*) OVER (PARTITION BY `d`.`side`) AS `total`,
    ROW_NUMBER() OVER (PARTITION BY `d`.`side` ORDER BY `d`.`id` NULLS LAST) AS `rn`
  FROM (
    SELECT
      COALESCE(`a`.`id`, `b`.`id`) AS `id`,
      CASE
        WHEN `b`.`id` IS NULL
        THEN 'enter'
        WHEN `a`.`id` IS NULL
        THEN 'exit'
        ELSE 'stay'
      END AS `side`
    FROM (
      SELECT
        CAST(`n`.`k0` AS STRING) AS `id`
      FROM `la_aud1` AS `n`
    ) AS `a`
    FULL JOIN (
      SELECT
        CAST(NULL AS STRING) AS `id`
      FROM `la_aud1` AS `z`
      WHERE
        FALSE
    ) AS `b`
      ON `a`.`id` = `b`.`id`
  ) AS `d`
) AS `r`
WHERE
  `r`.`rn` <= 100;
