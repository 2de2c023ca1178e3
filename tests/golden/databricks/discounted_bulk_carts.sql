-- audience: discounted_bulk_carts (Open carts with a discounted bulk line)
-- dialect: databricks; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH `la_q1` AS (
  SELECT
    `r4`.`cart_id` AS `k0`,
    `r4`.`line_no` AS `k1`
  FROM `prod`.`cart_line_discount` AS `r4`
  WHERE
    NOT `r4`.`cart_id` IS NULL
    AND NOT `r4`.`line_no` IS NULL
    AND NOT `r4`.`cart_id` IS NULL
    AND NOT `r4`.`line_no` IS NULL
    AND NOT `r4`.`code` IS NULL
), `la_q2` AS (
  SELECT
    `r3`.`cart_id` AS `k0`
  FROM `prod`.`cart_line` AS `r3`
  WHERE
    NOT `r3`.`cart_id` IS NULL
    AND NOT `r3`.`cart_id` IS NULL
    AND NOT `r3`.`line_no` IS NULL
    AND (
      `r3`.`quantity` >= 3
      AND EXISTS(
        SELECT
          1
        FROM `la_q1` AS `q1`
        WHERE
          `q1`.`k0` = `r3`.`cart_id` AND `q1`.`k1` = `r3`.`line_no`
      )
    )
), `la_q3` AS (
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
      `r2`.`status` = 'open'
      AND EXISTS(
        SELECT
          1
        FROM `la_q2` AS `q1`
        WHERE
          `q1`.`k0` = `r2`.`id`
      )
    )
  GROUP BY
    `i`.`canonical_segment_id`
)
SELECT
  `u`.`k0` AS `profile_id`
FROM `la_q3` AS `u`;

-- matched entities
WITH `la_q1` AS (
  SELECT
    `r4`.`cart_id` AS `k0`,
    `r4`.`line_no` AS `k1`
  FROM `prod`.`cart_line_discount` AS `r4`
  WHERE
    NOT `r4`.`cart_id` IS NULL
    AND NOT `r4`.`line_no` IS NULL
    AND NOT `r4`.`cart_id` IS NULL
    AND NOT `r4`.`line_no` IS NULL
    AND NOT `r4`.`code` IS NULL
), `la_q2` AS (
  SELECT
    `r3`.`cart_id` AS `k0`
  FROM `prod`.`cart_line` AS `r3`
  WHERE
    NOT `r3`.`cart_id` IS NULL
    AND NOT `r3`.`cart_id` IS NULL
    AND NOT `r3`.`line_no` IS NULL
    AND (
      `r3`.`quantity` >= 3
      AND EXISTS(
        SELECT
          1
        FROM `la_q1` AS `q1`
        WHERE
          `q1`.`k0` = `r3`.`cart_id` AND `q1`.`k1` = `r3`.`line_no`
      )
    )
), `la_q3` AS (
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
      `r2`.`status` = 'open'
      AND EXISTS(
        SELECT
          1
        FROM `la_q2` AS `q1`
        WHERE
          `q1`.`k0` = `r2`.`id`
      )
    )
  GROUP BY
    `i`.`canonical_segment_id`
), `la_members` AS (
  SELECT
    `u`.`k0` AS `k0`
  FROM `la_q3` AS `u`
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
      `r2`.`status` = 'open'
      AND EXISTS(
        SELECT
          1
        FROM `la_q2` AS `q2`
        WHERE
          `q2`.`k0` = `r2`.`id`
      )
    )
), `la_m2` AS (
  SELECT DISTINCT
    `m`.`k0` AS `k0`,
    `m`.`k1` AS `k1`,
    CAST(`r3`.`cart_id` AS STRING) || '|' || CAST(`r3`.`line_no` AS STRING) AS `k2`
  FROM `la_m1` AS `m`
  JOIN `prod`.`cart` AS `p2`
    ON `p2`.`id` = `m`.`k1`
  JOIN `prod`.`cart_line` AS `r3`
    ON `r3`.`cart_id` = `p2`.`id`
  WHERE
    NOT `r3`.`cart_id` IS NULL
    AND NOT `r3`.`line_no` IS NULL
    AND (
      `r3`.`quantity` >= 3
      AND EXISTS(
        SELECT
          1
        FROM `la_q1` AS `q2`
        WHERE
          `q2`.`k0` = `r3`.`cart_id` AND `q2`.`k1` = `r3`.`line_no`
      )
    )
), `la_m3` AS (
  SELECT DISTINCT
    `m`.`k0` AS `k0`,
    `m`.`k1` AS `k1`,
    `m`.`k2` AS `k2`,
    CAST(`r4`.`cart_id` AS STRING) || '|' || CAST(`r4`.`line_no` AS STRING) || '|' || CAST(`r4`.`code` AS STRING) AS `k3`
  FROM `la_m2` AS `m`
  JOIN `prod`.`cart_line` AS `p3`
    ON CAST(`p3`.`cart_id` AS STRING) || '|' || CAST(`p3`.`line_no` AS STRING) = `m`.`k2`
  JOIN `prod`.`cart_line_discount` AS `r4`
    ON `r4`.`cart_id` = `p3`.`cart_id` AND `r4`.`line_no` = `p3`.`line_no`
  WHERE
    NOT `r4`.`cart_id` IS NULL
    AND NOT `r4`.`line_no` IS NULL
    AND NOT `r4`.`code` IS NULL
)
SELECT
  `m`.`k0` AS `profile_id`,
  'user-carts' AS `relationship`,
  CAST(`m`.`k1` AS STRING) AS `entity_id`
FROM `la_m1` AS `m`
UNION
SELECT
  `m`.`k0` AS `profile_id`,
  'cart-lines' AS `relationship`,
  CAST(`m`.`k2` AS STRING) AS `entity_id`
FROM `la_m2` AS `m`
UNION
SELECT
  `m`.`k0` AS `profile_id`,
  'line-discounts' AS `relationship`,
  CAST(`m`.`k3` AS STRING) AS `entity_id`
FROM `la_m3` AS `m`;
