-- run SQL: events_enriched
-- dialect: databricks; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

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
      WHEN REGEXP_LIKE(`x`.`lifetime_value`, '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$')
      THEN TRY_CAST(`x`.`lifetime_value` AS DOUBLE)
    END AS `lifetime_value`,
    `x`.`loyalty_tier` AS `loyalty_tier`
  FROM `la_traits_text` AS `x`
)
INSERT INTO `linked_audiences`.`la_events` (
  `run_id`,
  `audience_key`,
  `seq`,
  `trigger`,
  `profile_id`,
  `relationship`,
  `entity_id`,
  `message_id`,
  `payload`,
  `skipped`
)
SELECT
  '20261101T000000Z-000000000002',
  'cart_or_browse',
  `b`.`seq`,
  'entity_added',
  `b`.`profile_id`,
  'user-carts',
  `b`.`entity_id`,
  `b`.`message_id`,
  `b`.`payload`,
  LENGTH(`b`.`payload`) > 32768
FROM (
  SELECT
    `ch`.`profile_id`,
    `ch`.`entity_id`,
    `ch`.`seq`,
    MD5(
      CONCAT(
        COALESCE(
          CAST(LENGTH(CAST('cart_or_browse' AS STRING)) AS STRING) || ':' || CAST('cart_or_browse' AS STRING),
          '~'
        ),
        COALESCE(
          CAST(LENGTH(CAST('20261101T000000Z-000000000002' AS STRING)) AS STRING) || ':' || CAST('20261101T000000Z-000000000002' AS STRING),
          '~'
        ),
        COALESCE(
          CAST(LENGTH(CAST('entity_added' AS STRING)) AS STRING) || ':' || CAST('entity_added' AS STRING),
          '~'
        ),
        COALESCE(
          CAST(LENGTH(CAST(`ch`.`profile_id` AS STRING)) AS STRING) || ':' || CAST(`ch`.`profile_id` AS STRING),
          '~'
        ),
        COALESCE(
          CAST(LENGTH(CAST('user-carts' AS STRING)) AS STRING) || ':' || CAST('user-carts' AS STRING),
          '~'
        ),
        COALESCE(
          CAST(LENGTH(CAST(`ch`.`entity_id` AS STRING)) AS STRING) || ':' || CAST(`ch`.`entity_id` AS STRING),
          '~'
        )
      )
    ) AS `message_id`,
    TO_JSON(
      NAMED_STRUCT(
        'type',
        'track',
        'event',
        'Entity Added',
        'userId',
        `ch`.`user_id`,
        'anonymousId',
        `ch`.`anonymous_id`,
        'timestamp',
        '2026-11-01T00:00:00.000Z',
        'messageId',
        MD5(
          CONCAT(
            COALESCE(
              CAST(LENGTH(CAST('cart_or_browse' AS STRING)) AS STRING) || ':' || CAST('cart_or_browse' AS STRING),
              '~'
            ),
            COALESCE(
              CAST(LENGTH(CAST('20261101T000000Z-000000000002' AS STRING)) AS STRING) || ':' || CAST('20261101T000000Z-000000000002' AS STRING),
              '~'
            ),
            COALESCE(
              CAST(LENGTH(CAST('entity_added' AS STRING)) AS STRING) || ':' || CAST('entity_added' AS STRING),
              '~'
            ),
            COALESCE(
              CAST(LENGTH(CAST(`ch`.`profile_id` AS STRING)) AS STRING) || ':' || CAST(`ch`.`profile_id` AS STRING),
              '~'
            ),
            COALESCE(
              CAST(LENGTH(CAST('user-carts' AS STRING)) AS STRING) || ':' || CAST('user-carts' AS STRING),
              '~'
            ),
            COALESCE(
              CAST(LENGTH(CAST(`ch`.`entity_id` AS STRING)) AS STRING) || ':' || CAST(`ch`.`entity_id` AS STRING),
              '~'
            )
          )
        ),
        'context',
        NAMED_STRUCT(
          'personas',
          NAMED_STRUCT('computation_key', 'cart_or_browse', 'computation_class', 'audience')
        ),
        'properties',
        NAMED_STRUCT(
          'audience_key',
          'cart_or_browse',
          'audience_name',
          'Cart or browse',
          'cart_or_browse',
          `ch`.`member_now`,
          'loyalty_tier',
          `tr`.`loyalty_tier`,
          'lifetime_value',
          `tr`.`lifetime_value`,
          'relationship',
          'user-carts',
          'entity_id',
          `ch`.`entity_id`,
          'user-carts__total',
          `t`.`total`,
          'user-carts__status',
          `t`.`status`,
          'user-carts',
          COALESCE(`x0`.`items`, ARRAY())
        )
      ),
      MAP('ignoreNullFields', 'false')
    ) AS `payload`
  FROM (
    SELECT
      `c0`.`profile_id`,
      `c0`.`entity_id`,
      `c0`.`user_id`,
      `c0`.`anonymous_id`,
      `c0`.`member_now`,
      17 + ROW_NUMBER() OVER (ORDER BY `c0`.`profile_id` NULLS LAST, `c0`.`entity_id` NULLS LAST) AS `seq`
    FROM (
      SELECT
        `c`.`profile_id`,
        `c`.`entity_id`,
        COALESCE(`mn`.`user_id`, `mp`.`user_id`) AS `user_id`,
        COALESCE(`mn`.`anonymous_id`, `mp`.`anonymous_id`) AS `anonymous_id`,
        NOT `mn`.`profile_id` IS NULL AS `member_now`
      FROM `linked_audiences`.`la_entities` AS `c`
      LEFT JOIN `linked_audiences`.`la_members` AS `mn`
        ON `mn`.`run_id` = '20261101T000000Z-000000000002'
        AND `mn`.`audience_key` = 'cart_or_browse'
        AND `mn`.`profile_id` = `c`.`profile_id`
      LEFT JOIN `linked_audiences`.`la_members` AS `mp`
        ON `mp`.`run_id` = '20261020T000000Z-000000000001'
        AND `mp`.`audience_key` = 'cart_or_browse'
        AND `mp`.`profile_id` = `c`.`profile_id`
      WHERE
        `c`.`run_id` = '20261101T000000Z-000000000002'
        AND `c`.`audience_key` = 'cart_or_browse'
        AND `c`.`relationship` = 'user-carts'
        AND NOT EXISTS(
          SELECT
            1
          FROM `linked_audiences`.`la_entities` AS `p`
          WHERE
            `p`.`run_id` = '20261020T000000Z-000000000001'
            AND `p`.`audience_key` = 'cart_or_browse'
            AND `p`.`profile_id` = `c`.`profile_id`
            AND `p`.`relationship` = `c`.`relationship`
            AND `p`.`entity_id` = `c`.`entity_id`
        )
    ) AS `c0`
  ) AS `ch`
  LEFT JOIN `la_traits` AS `tr`
    ON CAST(`tr`.`profile_id` AS STRING) = `ch`.`profile_id`
  LEFT JOIN `prod`.`cart` AS `t`
    ON CAST(`t`.`id` AS STRING) = `ch`.`entity_id`
  LEFT JOIN (
    SELECT
      `s`.`profile_id`,
      TRANSFORM(
        ARRAY_SORT(
          COLLECT_LIST(
            NAMED_STRUCT(
              'k',
              `s`.`entity_id`,
              'v',
              NAMED_STRUCT('id', `t`.`id`, 'status', `t`.`status`, '__entity', 'cart')
            )
          )
        ),
        `x` -> `x`.`v`
      ) AS `items`
    FROM `linked_audiences`.`la_entities` AS `s`
    JOIN `prod`.`cart` AS `t`
      ON CAST(`t`.`id` AS STRING) = `s`.`entity_id`
    WHERE
      `s`.`run_id` = '20261101T000000Z-000000000002'
      AND `s`.`audience_key` = 'cart_or_browse'
      AND `s`.`relationship` = 'user-carts'
    GROUP BY
      `s`.`profile_id`
  ) AS `x0`
    ON `x0`.`profile_id` = `ch`.`profile_id`
) AS `b`;
