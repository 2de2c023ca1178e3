-- audience: abandoned_cart_7d (Abandoned cart, last 7 days)
-- dialect: databricks; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH `la_q1` AS (
  SELECT
    `i`.`canonical_segment_id` AS `k0`
  FROM `ps_materialize`.`user_identifiers` AS `i`
  JOIN `prod`.`cart` AS `r2`
    ON `r2`.`user_id` = `i`.`value`
  WHERE
    NOT `i`.`canonical_segment_id` IS NULL
    AND NOT `r2`.`id` IS NULL
    AND `i`.`type` = 'user_id'
    AND NOT `i`.`value` IS NULL
    AND (
      `r2`.`status` = 'abandoned'
      AND `r2`.`updated_at` BETWEEN CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMP) AND CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
    )
  GROUP BY
    `i`.`canonical_segment_id`
), `la_e1` AS (
  SELECT
    `g`.`canonical_segment_id` AS `k0`
  FROM `segment`.`order_completed` AS `ev`
  INNER JOIN `ps_materialize`.`id_graph` AS `g`
    ON `g`.`segment_id` = `ev`.`segment_id`
  WHERE
    NOT `g`.`canonical_segment_id` IS NULL
    AND NOT `ev`.`timestamp` IS NULL
    AND `ev`.`timestamp` >= CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMP)
    AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
)
SELECT
  `u`.`k0` AS `profile_id`
FROM `la_q1` AS `u`
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM `la_e1` AS `q1`
    WHERE
      `q1`.`k0` = `u`.`k0`
  );

-- matched entities
WITH `la_q1` AS (
  SELECT
    `i`.`canonical_segment_id` AS `k0`
  FROM `ps_materialize`.`user_identifiers` AS `i`
  JOIN `prod`.`cart` AS `r2`
    ON `r2`.`user_id` = `i`.`value`
  WHERE
    NOT `i`.`canonical_segment_id` IS NULL
    AND NOT `r2`.`id` IS NULL
    AND `i`.`type` = 'user_id'
    AND NOT `i`.`value` IS NULL
    AND (
      `r2`.`status` = 'abandoned'
      AND `r2`.`updated_at` BETWEEN CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMP) AND CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
    )
  GROUP BY
    `i`.`canonical_segment_id`
), `la_e1` AS (
  SELECT
    `g`.`canonical_segment_id` AS `k0`
  FROM `segment`.`order_completed` AS `ev`
  INNER JOIN `ps_materialize`.`id_graph` AS `g`
    ON `g`.`segment_id` = `ev`.`segment_id`
  WHERE
    NOT `g`.`canonical_segment_id` IS NULL
    AND NOT `ev`.`timestamp` IS NULL
    AND `ev`.`timestamp` >= CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMP)
    AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
), `la_members` AS (
  SELECT
    `u`.`k0` AS `k0`
  FROM `la_q1` AS `u`
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM `la_e1` AS `q1`
      WHERE
        `q1`.`k0` = `u`.`k0`
    )
), `la_m1` AS (
  SELECT DISTINCT
    `mem`.`k0` AS `k0`,
    `r2`.`id` AS `k1`
  FROM `la_members` AS `mem`
  JOIN `ps_materialize`.`user_identifiers` AS `i1`
    ON `i1`.`canonical_segment_id` = `mem`.`k0` AND `i1`.`type` = 'user_id'
  JOIN `prod`.`cart` AS `r2`
    ON `r2`.`user_id` = `i1`.`value`
  WHERE
    NOT `r2`.`id` IS NULL
    AND (
      `r2`.`status` = 'abandoned'
      AND `r2`.`updated_at` BETWEEN CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMP) AND CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
    )
)
SELECT
  `m`.`k0` AS `profile_id`,
  'user-carts' AS `relationship`,
  CAST(`m`.`k1` AS STRING) AS `entity_id`
FROM `la_m1` AS `m`;
