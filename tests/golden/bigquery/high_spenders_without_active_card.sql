-- audience: high_spenders_without_active_card (High spenders without an active card)
-- dialect: bigquery; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH `la_trait1` AS (
  SELECT
    `r`.`k0`,
    COUNT(*) AS `v`
  FROM (
    SELECT DISTINCT
      `i`.`canonical_segment_id` AS `k0`,
      `r3`.`id` AS `id`,
      NULL AS `v`
    FROM `ps_materialize`.`user_identifiers` AS `i`
    JOIN `prod`.`account` AS `r2`
      ON `r2`.`email` = `i`.`value`
    JOIN `prod`.`credit_card` AS `r3`
      ON `r3`.`account_id` = `r2`.`id`
    WHERE
      `i`.`type` = 'email'
      AND NOT `i`.`value` IS NULL
      AND NOT `r2`.`id` IS NULL
      AND NOT `i`.`canonical_segment_id` IS NULL
      AND NOT `r3`.`id` IS NULL
      AND `r3`.`status` = 'active'
  ) AS `r`
  GROUP BY
    `r`.`k0`
), `la_trait2` AS (
  SELECT
    `r`.`k0`,
    SUM(`r`.`v`) AS `v`
  FROM (
    SELECT
      `g`.`canonical_segment_id` AS `k0`,
      `ev`.`timestamp` AS `t`,
      `ev`.`revenue` AS `v`
    FROM `segment`.`order_completed` AS `ev`
    INNER JOIN `ps_materialize`.`id_graph` AS `g`
      ON `g`.`segment_id` = `ev`.`segment_id`
    WHERE
      NOT `g`.`canonical_segment_id` IS NULL
      AND NOT `ev`.`timestamp` IS NULL
      AND `ev`.`timestamp` >= CAST('2026-08-03 00:00:00.000000+00:00' AS TIMESTAMP)
      AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
  ) AS `r`
  GROUP BY
    `r`.`k0`
), `la_traits` AS (
  SELECT
    `p`.`profile_id`,
    `d0`.`v` AS `active_cards`,
    `d1`.`v` AS `revenue_90d`
  FROM (
    SELECT
      `s`.`k0` AS `profile_id`
    FROM `la_trait1` AS `s`
    WHERE
      NOT `s`.`k0` IS NULL
    UNION DISTINCT
    SELECT
      `s`.`k0` AS `profile_id`
    FROM `la_trait2` AS `s`
    WHERE
      NOT `s`.`k0` IS NULL
  ) AS `p`
  LEFT JOIN `la_trait1` AS `d0`
    ON `d0`.`k0` = `p`.`profile_id`
  LEFT JOIN `la_trait2` AS `d1`
    ON `d1`.`k0` = `p`.`profile_id`
)
SELECT
  `u`.`profile_id` AS `profile_id`
FROM `la_traits` AS `u`
WHERE
  (
    `u`.`revenue_90d` > 300 AND COALESCE(`u`.`active_cards`, 0) = 0
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
WITH `la_trait1` AS (
  SELECT
    `r`.`k0`,
    COUNT(*) AS `v`
  FROM (
    SELECT DISTINCT
      `i`.`canonical_segment_id` AS `k0`,
      `r3`.`id` AS `id`,
      NULL AS `v`
    FROM `ps_materialize`.`user_identifiers` AS `i`
    JOIN `prod`.`account` AS `r2`
      ON `r2`.`email` = `i`.`value`
    JOIN `prod`.`credit_card` AS `r3`
      ON `r3`.`account_id` = `r2`.`id`
    WHERE
      `i`.`type` = 'email'
      AND NOT `i`.`value` IS NULL
      AND NOT `r2`.`id` IS NULL
      AND NOT `i`.`canonical_segment_id` IS NULL
      AND NOT `r3`.`id` IS NULL
      AND `r3`.`status` = 'active'
  ) AS `r`
  GROUP BY
    `r`.`k0`
), `la_trait2` AS (
  SELECT
    `r`.`k0`,
    SUM(`r`.`v`) AS `v`
  FROM (
    SELECT
      `g`.`canonical_segment_id` AS `k0`,
      `ev`.`timestamp` AS `t`,
      `ev`.`revenue` AS `v`
    FROM `segment`.`order_completed` AS `ev`
    INNER JOIN `ps_materialize`.`id_graph` AS `g`
      ON `g`.`segment_id` = `ev`.`segment_id`
    WHERE
      NOT `g`.`canonical_segment_id` IS NULL
      AND NOT `ev`.`timestamp` IS NULL
      AND `ev`.`timestamp` >= CAST('2026-08-03 00:00:00.000000+00:00' AS TIMESTAMP)
      AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
  ) AS `r`
  GROUP BY
    `r`.`k0`
), `la_traits` AS (
  SELECT
    `p`.`profile_id`,
    `d0`.`v` AS `active_cards`,
    `d1`.`v` AS `revenue_90d`
  FROM (
    SELECT
      `s`.`k0` AS `profile_id`
    FROM `la_trait1` AS `s`
    WHERE
      NOT `s`.`k0` IS NULL
    UNION DISTINCT
    SELECT
      `s`.`k0` AS `profile_id`
    FROM `la_trait2` AS `s`
    WHERE
      NOT `s`.`k0` IS NULL
  ) AS `p`
  LEFT JOIN `la_trait1` AS `d0`
    ON `d0`.`k0` = `p`.`profile_id`
  LEFT JOIN `la_trait2` AS `d1`
    ON `d1`.`k0` = `p`.`profile_id`
), `la_members` AS (
  SELECT
    `u`.`profile_id` AS `k0`
  FROM `la_traits` AS `u`
  WHERE
    (
      `u`.`revenue_90d` > 300 AND COALESCE(`u`.`active_cards`, 0) = 0
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
