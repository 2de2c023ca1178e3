-- audience: churn_risk_vips (VIPs at risk of churning)
-- dialect: bigquery; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH `la_traits_stored_text` AS (
  SELECT
    `t`.`canonical_segment_id` AS `profile_id`,
    MAX(CASE WHEN `t`.`name` = 'is_vip' THEN `t`.`value` END) AS `is_vip`
  FROM `ps_materialize`.`user_traits` AS `t`
  WHERE
    `t`.`name` IN ('is_vip')
  GROUP BY
    `t`.`canonical_segment_id`
), `la_traits_stored` AS (
  SELECT
    `x`.`profile_id`,
    CASE
      WHEN LOWER(`x`.`is_vip`) = 'true'
      THEN TRUE
      WHEN LOWER(`x`.`is_vip`) = 'false'
      THEN FALSE
    END AS `is_vip`
  FROM `la_traits_stored_text` AS `x`
), `la_sql_trait1` AS (
  SELECT
    `st`.`k0`,
    MAX(`st`.`churn_score`) AS `churn_score`
  FROM (
    SELECT
      `i`.`canonical_segment_id` AS `k0`,
      `s`.`churn_score` AS `churn_score`
    FROM `ml`.`churn_scores` AS `s`
    JOIN `ps_materialize`.`user_identifiers` AS `i`
      ON `i`.`type` = 'user_id' AND `i`.`value` = `s`.`user_id`
  ) AS `st`
  WHERE
    NOT `st`.`k0` IS NULL
  GROUP BY
    `st`.`k0`
), `la_traits` AS (
  SELECT
    `p`.`profile_id`,
    `d0`.`is_vip` AS `is_vip`,
    `d1`.`churn_score` AS `churn_score`
  FROM (
    SELECT
      `s`.`profile_id` AS `profile_id`
    FROM `la_traits_stored` AS `s`
    WHERE
      NOT `s`.`profile_id` IS NULL
    UNION DISTINCT
    SELECT
      `s`.`k0` AS `profile_id`
    FROM `la_sql_trait1` AS `s`
    WHERE
      NOT `s`.`k0` IS NULL
  ) AS `p`
  LEFT JOIN `la_traits_stored` AS `d0`
    ON `d0`.`profile_id` = `p`.`profile_id`
  LEFT JOIN `la_sql_trait1` AS `d1`
    ON `d1`.`k0` = `p`.`profile_id`
)
SELECT
  `u`.`profile_id` AS `profile_id`
FROM `la_traits` AS `u`
WHERE
  (
    `u`.`is_vip` = TRUE AND `u`.`churn_score` > 0.8
  )
  AND EXISTS(
    SELECT
      1
    FROM `ps_materialize`.`user_identifiers` AS `iu`
    WHERE
      `iu`.`canonical_segment_id` = `u`.`profile_id`
      AND `iu`.`type` IN ('user_id', 'email', 'android.idfa', 'ios.idfa')
      AND NOT `iu`.`value` IS NULL
  );

-- matched entities
WITH `la_traits_stored_text` AS (
  SELECT
    `t`.`canonical_segment_id` AS `profile_id`,
    MAX(CASE WHEN `t`.`name` = 'is_vip' THEN `t`.`value` END) AS `is_vip`
  FROM `ps_materialize`.`user_traits` AS `t`
  WHERE
    `t`.`name` IN ('is_vip')
  GROUP BY
    `t`.`canonical_segment_id`
), `la_traits_stored` AS (
  SELECT
    `x`.`profile_id`,
    CASE
      WHEN LOWER(`x`.`is_vip`) = 'true'
      THEN TRUE
      WHEN LOWER(`x`.`is_vip`) = 'false'
      THEN FALSE
    END AS `is_vip`
  FROM `la_traits_stored_text` AS `x`
), `la_sql_trait1` AS (
  SELECT
    `st`.`k0`,
    MAX(`st`.`churn_score`) AS `churn_score`
  FROM (
    SELECT
      `i`.`canonical_segment_id` AS `k0`,
      `s`.`churn_score` AS `churn_score`
    FROM `ml`.`churn_scores` AS `s`
    JOIN `ps_materialize`.`user_identifiers` AS `i`
      ON `i`.`type` = 'user_id' AND `i`.`value` = `s`.`user_id`
  ) AS `st`
  WHERE
    NOT `st`.`k0` IS NULL
  GROUP BY
    `st`.`k0`
), `la_traits` AS (
  SELECT
    `p`.`profile_id`,
    `d0`.`is_vip` AS `is_vip`,
    `d1`.`churn_score` AS `churn_score`
  FROM (
    SELECT
      `s`.`profile_id` AS `profile_id`
    FROM `la_traits_stored` AS `s`
    WHERE
      NOT `s`.`profile_id` IS NULL
    UNION DISTINCT
    SELECT
      `s`.`k0` AS `profile_id`
    FROM `la_sql_trait1` AS `s`
    WHERE
      NOT `s`.`k0` IS NULL
  ) AS `p`
  LEFT JOIN `la_traits_stored` AS `d0`
    ON `d0`.`profile_id` = `p`.`profile_id`
  LEFT JOIN `la_sql_trait1` AS `d1`
    ON `d1`.`k0` = `p`.`profile_id`
), `la_members` AS (
  SELECT
    `u`.`profile_id` AS `k0`
  FROM `la_traits` AS `u`
  WHERE
    (
      `u`.`is_vip` = TRUE AND `u`.`churn_score` > 0.8
    )
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
  `mem`.`k0` AS `profile_id`,
  CAST(NULL AS STRING) AS `relationship`,
  CAST(NULL AS STRING) AS `entity_id`
FROM `la_members` AS `mem`
WHERE
  FALSE;
