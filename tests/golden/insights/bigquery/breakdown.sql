-- insight: breakdown
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
  `t`.`members`,
  `b`.`type`,
  `b`.`n`
FROM (
  SELECT
    COUNT(*) AS `members`
  FROM `la_aud1` AS `m`
) AS `t`
LEFT JOIN (
  SELECT
    `i`.`type` AS `type`,
    COUNT(DISTINCT `i`.`canonical_segment_id`) AS `n`
  FROM `ps_materialize`.`user_identifiers` AS `i`
  WHERE
    `i`.`canonical_segment_id` IN (
      SELECT
        `s`.`k0`
      FROM `la_aud1` AS `s`
    )
    AND NOT `i`.`value` IS NULL
    AND NOT `i`.`type` IS NULL
  GROUP BY
    `i`.`type`
) AS `b`
  ON 1 = 1;
