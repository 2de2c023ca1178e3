-- run SQL: events_default
-- dialect: duckdb; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

INSERT INTO "linked_audiences"."la_events" (
  "run_id",
  "audience_key",
  "seq",
  "trigger",
  "profile_id",
  "relationship",
  "entity_id",
  "message_id",
  "payload",
  "skipped"
)
SELECT
  '20261101T000000Z-000000000002',
  'cart_or_browse',
  "b"."seq",
  'audience_entered',
  "b"."profile_id",
  CAST(NULL AS TEXT),
  "b"."entity_id",
  "b"."message_id",
  "b"."payload",
  LENGTH("b"."payload") > 32768
FROM (
  SELECT
    "ch"."profile_id",
    "ch"."entity_id",
    "ch"."seq",
    MD5(
      COALESCE(
        CAST(LENGTH(CAST('cart_or_browse' AS TEXT)) AS TEXT) || ':' || CAST('cart_or_browse' AS TEXT),
        '~'
      ) || COALESCE(
        CAST(LENGTH(CAST('20261101T000000Z-000000000002' AS TEXT)) AS TEXT) || ':' || CAST('20261101T000000Z-000000000002' AS TEXT),
        '~'
      ) || COALESCE(
        CAST(LENGTH(CAST('audience_entered' AS TEXT)) AS TEXT) || ':' || CAST('audience_entered' AS TEXT),
        '~'
      ) || COALESCE(
        CAST(LENGTH(CAST("ch"."profile_id" AS TEXT)) AS TEXT) || ':' || CAST("ch"."profile_id" AS TEXT),
        '~'
      ) || COALESCE(CAST(LENGTH(CAST(NULL AS TEXT)) AS TEXT) || ':' || CAST(NULL AS TEXT), '~') || COALESCE(
        CAST(LENGTH(CAST("ch"."entity_id" AS TEXT)) AS TEXT) || ':' || CAST("ch"."entity_id" AS TEXT),
        '~'
      )
    ) AS "message_id",
    CAST(JSON_OBJECT(
      'type', 'track',
      'event', 'Audience Entered',
      'userId', "ch"."user_id",
      'anonymousId', "ch"."anonymous_id",
      'timestamp', '2026-11-01T00:00:00.000Z',
      'messageId', MD5(
        COALESCE(
          CAST(LENGTH(CAST('cart_or_browse' AS TEXT)) AS TEXT) || ':' || CAST('cart_or_browse' AS TEXT),
          '~'
        ) || COALESCE(
          CAST(LENGTH(CAST('20261101T000000Z-000000000002' AS TEXT)) AS TEXT) || ':' || CAST('20261101T000000Z-000000000002' AS TEXT),
          '~'
        ) || COALESCE(
          CAST(LENGTH(CAST('audience_entered' AS TEXT)) AS TEXT) || ':' || CAST('audience_entered' AS TEXT),
          '~'
        ) || COALESCE(
          CAST(LENGTH(CAST("ch"."profile_id" AS TEXT)) AS TEXT) || ':' || CAST("ch"."profile_id" AS TEXT),
          '~'
        ) || COALESCE(CAST(LENGTH(CAST(NULL AS TEXT)) AS TEXT) || ':' || CAST(NULL AS TEXT), '~') || COALESCE(
          CAST(LENGTH(CAST("ch"."entity_id" AS TEXT)) AS TEXT) || ':' || CAST("ch"."entity_id" AS TEXT),
          '~'
        )
      ),
      'context', JSON_OBJECT(
        'personas', JSON_OBJECT('computation_key', 'cart_or_browse', 'computation_class', 'audience')
      ),
      'properties', JSON_OBJECT(
        'audience_key', 'cart_or_browse',
        'audience_name', 'Cart or browse',
        'cart_or_browse', "ch"."member_now"
      )
    ) AS TEXT) AS "payload"
  FROM (
    SELECT
      "c0"."profile_id",
      "c0"."entity_id",
      "c0"."user_id",
      "c0"."anonymous_id",
      "c0"."member_now",
      0 + ROW_NUMBER() OVER (ORDER BY "c0"."profile_id", "c0"."entity_id") AS "seq"
    FROM (
      SELECT
        "c"."profile_id",
        CAST(NULL AS TEXT) AS "entity_id",
        "c"."user_id",
        "c"."anonymous_id",
        TRUE AS "member_now"
      FROM "linked_audiences"."la_members" AS "c"
      WHERE
        "c"."run_id" = '20261101T000000Z-000000000002'
        AND "c"."audience_key" = 'cart_or_browse'
        AND NOT EXISTS(
          SELECT
            1
          FROM "linked_audiences"."la_members" AS "p"
          WHERE
            "p"."run_id" = '20261020T000000Z-000000000001'
            AND "p"."audience_key" = 'cart_or_browse'
            AND "p"."profile_id" = "c"."profile_id"
        )
    ) AS "c0"
  ) AS "ch"
) AS "b";
