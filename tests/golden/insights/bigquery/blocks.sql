-- insight: blocks
-- dialect: bigquery; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_insights.py --update-snapshots

WITH `la_traits_text` AS (
  SELECT
    `t`.`canonical_segment_id` AS `profile_id`,
    MAX(CASE WHEN `t`.`name` = 'lifetime_value' THEN `t`.`value` END) AS `lifetime_value`,
    MAX(CASE WHEN `t`.`name` = 'loyalty_tier' THEN `t`.`value` END) AS `loyalty_tier`
  FROM `ps_materialize`.`user_traits` AS `t`
  WHERE
    `t`.`name` IN ('lifetime_value', 'loyalty_tier')
  GROUP BY
    `t`.`canonical_segment_id`
), `la_traits` AS (
  SELECT
    `x`.`profile_id`,
    CASE
      WHEN REGEXP_CONTAINS(`x`.`lifetime_value`, '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$')
      THEN SAFE_CAST(`x`.`lifetime_value` AS FLOAT64)
    END AS `lifetime_value`,
    `x`.`loyalty_tier` AS `loyalty_tier`
  FROM `la_traits_text` AS `x`
), `la_aud1` AS (
  SELECT
    `u`.`profile_id` AS `k0`
  FROM `la_traits` AS `u`
  WHERE
    `u`.`loyalty_tier` IN ('gold', 'platinum')
    AND EXISTS(
      SELECT
        1
      FROM `ps_materialize`.`user_identifiers` AS `iu`
      WHERE
        `iu`.`canonical_segment_id` = `u`.`profile_id`
        AND `iu`.`type` IN ('user_id', 'email', 'android.idfa', 'ios.idfa')
        AND NOT `iu`.`value` IS NULL
    )
), `la_aud2` AS (
  SELECT
    `u`.`profile_id` AS `k0`
  FROM `la_traits` AS `u`
  WHERE
    `u`.`lifetime_value` >= 1000
    AND EXISTS(
      SELECT
        1
      FROM `ps_materialize`.`user_identifiers` AS `iu`
      WHERE
        `iu`.`canonical_segment_id` = `u`.`profile_id`
        AND `iu`.`type` IN ('user_id', 'email', 'android.idfa', 'ios.idfa')
        AND NOT `iu`.`value` IS NULL
    )
)
SELECT
  (
    SELECT
      COUNT(*)
    FROM `la_aud1` AS `s`
  ) AS `n0`,
  (
    SELECT
      COUNT(*)
    FROM `la_aud2` AS `s`
  ) AS `n1`;
