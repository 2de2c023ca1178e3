-- run SQL: accounts_events
-- dialect: duckdb; audience: buying_accounts; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
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
  'buying_accounts',
  "b"."seq",
  'account_membership_changed',
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
        CAST(LENGTH(CAST('buying_accounts' AS TEXT)) AS TEXT) || ':' || CAST('buying_accounts' AS TEXT),
        '~'
      ) || COALESCE(
        CAST(LENGTH(CAST('20261101T000000Z-000000000002' AS TEXT)) AS TEXT) || ':' || CAST('20261101T000000Z-000000000002' AS TEXT),
        '~'
      ) || COALESCE(
        CAST(LENGTH(CAST('account_membership_changed' AS TEXT)) AS TEXT) || ':' || CAST('account_membership_changed' AS TEXT),
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
      'type', 'group',
      'groupId', "ch"."profile_id",
      'userId', "ch"."user_id",
      'anonymousId', "ch"."anonymous_id",
      'timestamp', '2026-11-01T00:00:00.000Z',
      'messageId', MD5(
        COALESCE(
          CAST(LENGTH(CAST('buying_accounts' AS TEXT)) AS TEXT) || ':' || CAST('buying_accounts' AS TEXT),
          '~'
        ) || COALESCE(
          CAST(LENGTH(CAST('20261101T000000Z-000000000002' AS TEXT)) AS TEXT) || ':' || CAST('20261101T000000Z-000000000002' AS TEXT),
          '~'
        ) || COALESCE(
          CAST(LENGTH(CAST('account_membership_changed' AS TEXT)) AS TEXT) || ':' || CAST('account_membership_changed' AS TEXT),
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
        'personas', JSON_OBJECT('computation_key', 'buying_accounts', 'computation_class', 'audience')
      ),
      'traits', JSON_OBJECT('buying_accounts', "ch"."member_now", 'plan', "at"."plan")
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
        AND "c"."audience_key" = 'buying_accounts'
        AND NOT EXISTS(
          SELECT
            1
          FROM "linked_audiences"."la_members" AS "p"
          WHERE
            "p"."run_id" = '20261020T000000Z-000000000001'
            AND "p"."audience_key" = 'buying_accounts'
            AND "p"."profile_id" = "c"."profile_id"
        )
      UNION ALL
      SELECT
        "c"."profile_id",
        CAST(NULL AS TEXT) AS "entity_id",
        "c"."user_id",
        "c"."anonymous_id",
        FALSE AS "member_now"
      FROM "linked_audiences"."la_members" AS "c"
      WHERE
        "c"."run_id" = '20261020T000000Z-000000000001'
        AND "c"."audience_key" = 'buying_accounts'
        AND NOT EXISTS(
          SELECT
            1
          FROM "linked_audiences"."la_members" AS "p"
          WHERE
            "p"."run_id" = '20261101T000000Z-000000000002'
            AND "p"."audience_key" = 'buying_accounts'
            AND "p"."profile_id" = "c"."profile_id"
        )
    ) AS "c0"
  ) AS "ch"
  LEFT JOIN "ps_materialize"."account_traits" AS "at"
    ON CAST("at"."group_id" AS TEXT) = "ch"."profile_id"
) AS "b";

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
WITH "la_traits_text" AS (
  SELECT
    "t"."canonical_segment_id" AS "profile_id",
    MAX(CASE WHEN "t"."name" = 'loyalty_tier' THEN "t"."value" END) AS "loyalty_tier"
  FROM "ps_materialize"."user_traits" AS "t"
  WHERE
    "t"."name" IN ('loyalty_tier')
  GROUP BY
    "t"."canonical_segment_id"
), "la_traits" AS (
  SELECT
    "x"."profile_id",
    "x"."loyalty_tier" AS "loyalty_tier"
  FROM "la_traits_text" AS "x"
)
SELECT
  '20261101T000000Z-000000000002',
  'buying_accounts',
  "b"."seq",
  'account_user_membership_changed',
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
        CAST(LENGTH(CAST('buying_accounts' AS TEXT)) AS TEXT) || ':' || CAST('buying_accounts' AS TEXT),
        '~'
      ) || COALESCE(
        CAST(LENGTH(CAST('20261101T000000Z-000000000002' AS TEXT)) AS TEXT) || ':' || CAST('20261101T000000Z-000000000002' AS TEXT),
        '~'
      ) || COALESCE(
        CAST(LENGTH(CAST('account_user_membership_changed' AS TEXT)) AS TEXT) || ':' || CAST('account_user_membership_changed' AS TEXT),
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
      'type', 'identify',
      'userId', "ch"."user_id",
      'anonymousId', "ch"."anonymous_id",
      'timestamp', '2026-11-01T00:00:00.000Z',
      'messageId', MD5(
        COALESCE(
          CAST(LENGTH(CAST('buying_accounts' AS TEXT)) AS TEXT) || ':' || CAST('buying_accounts' AS TEXT),
          '~'
        ) || COALESCE(
          CAST(LENGTH(CAST('20261101T000000Z-000000000002' AS TEXT)) AS TEXT) || ':' || CAST('20261101T000000Z-000000000002' AS TEXT),
          '~'
        ) || COALESCE(
          CAST(LENGTH(CAST('account_user_membership_changed' AS TEXT)) AS TEXT) || ':' || CAST('account_user_membership_changed' AS TEXT),
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
        'groupId', "ch"."entity_id",
        'personas', JSON_OBJECT('computation_key', 'buying_accounts', 'computation_class', 'audience')
      ),
      'traits', JSON_OBJECT('buying_accounts', "ch"."member_now", 'loyalty_tier', "tr"."loyalty_tier")
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
        CAST("mp"."profile_key" AS TEXT) AS "profile_id",
        "ac"."profile_id" AS "entity_id",
        "ids"."user_id",
        "ids"."anonymous_id",
        "ac"."member_now"
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
          AND "c"."audience_key" = 'buying_accounts'
          AND NOT EXISTS(
            SELECT
              1
            FROM "linked_audiences"."la_members" AS "p"
            WHERE
              "p"."run_id" = '20261020T000000Z-000000000001'
              AND "p"."audience_key" = 'buying_accounts'
              AND "p"."profile_id" = "c"."profile_id"
          )
        UNION ALL
        SELECT
          "c"."profile_id",
          CAST(NULL AS TEXT) AS "entity_id",
          "c"."user_id",
          "c"."anonymous_id",
          FALSE AS "member_now"
        FROM "linked_audiences"."la_members" AS "c"
        WHERE
          "c"."run_id" = '20261020T000000Z-000000000001'
          AND "c"."audience_key" = 'buying_accounts'
          AND NOT EXISTS(
            SELECT
              1
            FROM "linked_audiences"."la_members" AS "p"
            WHERE
              "p"."run_id" = '20261101T000000Z-000000000002'
              AND "p"."audience_key" = 'buying_accounts'
              AND "p"."profile_id" = "c"."profile_id"
          )
      ) AS "ac"
      JOIN (
        SELECT DISTINCT
          CAST("m"."group_id" AS TEXT) AS "account_id",
          "m"."canonical_segment_id" AS "profile_key"
        FROM "ps_materialize"."account_users" AS "m"
        WHERE
          NOT "m"."group_id" IS NULL AND NOT "m"."canonical_segment_id" IS NULL
      ) AS "mp"
        ON "mp"."account_id" = "ac"."profile_id"
      LEFT JOIN (
        SELECT
          "i"."canonical_segment_id" AS "k",
          MAX(CASE WHEN "i"."type" = 'user_id' THEN "i"."value" END) AS "user_id",
          MAX(CASE WHEN "i"."type" = 'anonymous_id' THEN "i"."value" END) AS "anonymous_id"
        FROM "ps_materialize"."user_identifiers" AS "i"
        WHERE
          "i"."type" IN ('user_id', 'anonymous_id')
        GROUP BY
          "i"."canonical_segment_id"
      ) AS "ids"
        ON "ids"."k" = "mp"."profile_key"
    ) AS "c0"
  ) AS "ch"
  LEFT JOIN "la_traits" AS "tr"
    ON CAST("tr"."profile_id" AS TEXT) = "ch"."profile_id"
) AS "b";
