-- audience: checkout_not_completed (Checkout started, no order within a day)
-- dialect: bigquery; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH `la_e1` AS (
  SELECT
    `g`.`canonical_segment_id` AS `k0`
  FROM `segment`.`checkout_started` AS `ev`
  INNER JOIN `ps_materialize`.`id_graph` AS `g`
    ON `g`.`segment_id` = `ev`.`segment_id`
  WHERE
    NOT `g`.`canonical_segment_id` IS NULL
    AND NOT `ev`.`timestamp` IS NULL
    AND `ev`.`timestamp` >= CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMP)
    AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
    AND NOT EXISTS(
      SELECT
        1
      FROM `segment`.`order_completed` AS `ev1`
      INNER JOIN `ps_materialize`.`id_graph` AS `g2`
        ON `g2`.`segment_id` = `ev1`.`segment_id`
      WHERE
        `g2`.`canonical_segment_id` = `g`.`canonical_segment_id`
        AND NOT `ev1`.`timestamp` IS NULL
        AND `ev1`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
        AND `ev1`.`timestamp` > `ev`.`timestamp`
        AND `ev1`.`timestamp` <= `ev`.`timestamp` + INTERVAL '24' HOUR
        AND `ev1`.`cart_id` = `ev`.`cart_id`
    )
  GROUP BY
    `g`.`canonical_segment_id`
)
SELECT
  `u`.`k0` AS `profile_id`
FROM `la_e1` AS `u`
WHERE
  EXISTS(
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
  FROM `segment`.`checkout_started` AS `ev`
  INNER JOIN `ps_materialize`.`id_graph` AS `g`
    ON `g`.`segment_id` = `ev`.`segment_id`
  WHERE
    NOT `g`.`canonical_segment_id` IS NULL
    AND NOT `ev`.`timestamp` IS NULL
    AND `ev`.`timestamp` >= CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMP)
    AND `ev`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
    AND NOT EXISTS(
      SELECT
        1
      FROM `segment`.`order_completed` AS `ev1`
      INNER JOIN `ps_materialize`.`id_graph` AS `g2`
        ON `g2`.`segment_id` = `ev1`.`segment_id`
      WHERE
        `g2`.`canonical_segment_id` = `g`.`canonical_segment_id`
        AND NOT `ev1`.`timestamp` IS NULL
        AND `ev1`.`timestamp` <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP)
        AND `ev1`.`timestamp` > `ev`.`timestamp`
        AND `ev1`.`timestamp` <= `ev`.`timestamp` + INTERVAL '24' HOUR
        AND `ev1`.`cart_id` = `ev`.`cart_id`
    )
  GROUP BY
    `g`.`canonical_segment_id`
), `la_members` AS (
  SELECT
    `u`.`k0` AS `k0`
  FROM `la_e1` AS `u`
  WHERE
    EXISTS(
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
