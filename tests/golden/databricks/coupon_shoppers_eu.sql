-- audience: coupon_shoppers_eu (Coupon shoppers in Europe)
-- dialect: databricks; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH `la_e1` AS (
  SELECT
    `g`.`canonical_segment_id` AS `k0`
  FROM `segment`.`order_completed` AS `ev`
  INNER JOIN `ps_materialize`.`id_graph` AS `g`
    ON `g`.`segment_id` = `ev`.`segment_id`
  WHERE
    NOT `g`.`canonical_segment_id` IS NULL
    AND NOT `ev`.`timestamp` IS NULL
    AND `ev`.`timestamp` >= CAST('2026-08-03 00:00:00.000000+00:00' AS TIMESTAMP)
    AND `ev`.`timestamp` < CAST('2026-10-02 00:00:00.000000+00:00' AS TIMESTAMP)
    AND (
      NOT `ev`.`coupon` IS NULL AND `ev`.`currency` IN ('EUR', 'GBP')
    )
  GROUP BY
    `g`.`canonical_segment_id`
), `la_e2` AS (
  SELECT
    `g`.`canonical_segment_id` AS `k0`
  FROM `segment`.`pages` AS `ev`
  INNER JOIN `ps_materialize`.`id_graph` AS `g`
    ON `g`.`segment_id` = `ev`.`segment_id`
  WHERE
    NOT `g`.`canonical_segment_id` IS NULL
    AND NOT `ev`.`timestamp` IS NULL
    AND `ev`.`timestamp` >= CAST('2026-10-18 00:00:00.000000+00:00' AS TIMESTAMP)
    AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
    AND LEFT(`ev`.`path`, 8) = '/pricing'
  GROUP BY
    `g`.`canonical_segment_id`
)
SELECT
  `u`.`k0` AS `profile_id`
FROM (
  SELECT
    `d`.`k0`
  FROM `la_e1` AS `d`
  UNION
  SELECT
    `d`.`k0`
  FROM `la_e2` AS `d`
) AS `u`
LEFT JOIN `la_e1` AS `q1`
  ON `q1`.`k0` = `u`.`k0`
LEFT JOIN `la_e2` AS `q2`
  ON `q2`.`k0` = `u`.`k0`
WHERE
  (
    NOT `q1`.`k0` IS NULL OR NOT `q2`.`k0` IS NULL
  )
  AND EXISTS(
    SELECT
      1
    FROM `ps_materialize`.`user_identifiers` AS `iu`
    WHERE
      `iu`.`canonical_segment_id` = `u`.`k0`
      AND `iu`.`type` IN ('user_id', 'email', 'android.idfa', 'ios.idfa')
      AND NOT `iu`.`value` IS NULL
  );

-- matched entities
WITH `la_e1` AS (
  SELECT
    `g`.`canonical_segment_id` AS `k0`
  FROM `segment`.`order_completed` AS `ev`
  INNER JOIN `ps_materialize`.`id_graph` AS `g`
    ON `g`.`segment_id` = `ev`.`segment_id`
  WHERE
    NOT `g`.`canonical_segment_id` IS NULL
    AND NOT `ev`.`timestamp` IS NULL
    AND `ev`.`timestamp` >= CAST('2026-08-03 00:00:00.000000+00:00' AS TIMESTAMP)
    AND `ev`.`timestamp` < CAST('2026-10-02 00:00:00.000000+00:00' AS TIMESTAMP)
    AND (
      NOT `ev`.`coupon` IS NULL AND `ev`.`currency` IN ('EUR', 'GBP')
    )
  GROUP BY
    `g`.`canonical_segment_id`
), `la_e2` AS (
  SELECT
    `g`.`canonical_segment_id` AS `k0`
  FROM `segment`.`pages` AS `ev`
  INNER JOIN `ps_materialize`.`id_graph` AS `g`
    ON `g`.`segment_id` = `ev`.`segment_id`
  WHERE
    NOT `g`.`canonical_segment_id` IS NULL
    AND NOT `ev`.`timestamp` IS NULL
    AND `ev`.`timestamp` >= CAST('2026-10-18 00:00:00.000000+00:00' AS TIMESTAMP)
    AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
    AND LEFT(`ev`.`path`, 8) = '/pricing'
  GROUP BY
    `g`.`canonical_segment_id`
), `la_members` AS (
  SELECT
    `u`.`k0` AS `k0`
  FROM (
    SELECT
      `d`.`k0`
    FROM `la_e1` AS `d`
    UNION
    SELECT
      `d`.`k0`
    FROM `la_e2` AS `d`
  ) AS `u`
  LEFT JOIN `la_e1` AS `q1`
    ON `q1`.`k0` = `u`.`k0`
  LEFT JOIN `la_e2` AS `q2`
    ON `q2`.`k0` = `u`.`k0`
  WHERE
    (
      NOT `q1`.`k0` IS NULL OR NOT `q2`.`k0` IS NULL
    )
    AND EXISTS(
      SELECT
        1
      FROM `ps_materialize`.`user_identifiers` AS `iu`
      WHERE
        `iu`.`canonical_segment_id` = `u`.`k0`
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
