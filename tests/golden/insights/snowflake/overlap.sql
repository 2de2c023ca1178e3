-- insight: overlap
-- dialect: snowflake; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_insights.py --update-snapshots

WITH "la_traits_text" AS (
  SELECT
    "t"."canonical_segment_id" AS "profile_id",
    MAX(CASE WHEN "t"."name" = 'lifetime_value' THEN "t"."value" END) AS "lifetime_value",
    MAX(CASE WHEN "t"."name" = 'loyalty_tier' THEN "t"."value" END) AS "loyalty_tier"
  FROM "ps_materialize"."user_traits" AS "t"
  WHERE
    "t"."name" IN ('lifetime_value', 'loyalty_tier')
  GROUP BY
    "t"."canonical_segment_id"
), "la_traits" AS (
  SELECT
    "x"."profile_id",
    CASE
      WHEN REGEXP_LIKE("x"."lifetime_value", '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$')
      THEN TRY_CAST("x"."lifetime_value" AS DOUBLE)
    END AS "lifetime_value",
    "x"."loyalty_tier" AS "loyalty_tier"
  FROM "la_traits_text" AS "x"
), "la_q1" AS (
  SELECT
    "r3"."account_id" AS "k0"
  FROM "prod"."credit_card" AS "r3"
  WHERE
    NOT "r3"."account_id" IS NULL
    AND NOT "r3"."id" IS NULL
    AND (
      "r3"."card_type" = 'premium' AND "r3"."status" = 'active'
    )
), "la_q2" AS (
  SELECT
    "i"."canonical_segment_id" AS "k0"
  FROM "ps_materialize"."user_identifiers" AS "i"
  JOIN "prod"."account" AS "r2"
    ON "r2"."email" = "i"."value"
  WHERE
    NOT "i"."canonical_segment_id" IS NULL
    AND NOT "r2"."id" IS NULL
    AND "i"."type" = 'email'
    AND NOT "i"."value" IS NULL
    AND (
      "r2"."status" = 'active'
      AND EXISTS(
        SELECT
          1
        FROM "la_q1" AS "q1"
        WHERE
          "q1"."k0" = "r2"."id"
      )
    )
  GROUP BY
    "i"."canonical_segment_id"
), "la_aud1" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_q2" AS "u"
), "la_aud2" AS (
  SELECT
    "u"."profile_id" AS "k0"
  FROM "la_traits" AS "u"
  WHERE
    (
      "u"."loyalty_tier" IN ('gold', 'platinum') AND "u"."lifetime_value" >= 1000
    )
    AND EXISTS(
      SELECT
        1
      FROM "ps_materialize"."user_identifiers" AS "iu"
      WHERE
        "iu"."canonical_segment_id" = "u"."profile_id"
        AND "iu"."type" IN ('user_id', 'email', 'android.idfa', 'ios.idfa')
        AND NOT "iu"."value" IS NULL
    )
), "la_aud3" AS (
  SELECT
    "u"."profile_id" AS "k0"
  FROM "la_traits" AS "u"
  WHERE
    (
      "u"."loyalty_tier" IN ('gold', 'platinum') AND "u"."lifetime_value" >= 1000
    )
    AND EXISTS(
      SELECT
        1
      FROM "ps_materialize"."user_identifiers" AS "iu"
      WHERE
        "iu"."canonical_segment_id" = "u"."profile_id"
        AND "iu"."type" IN ('user_id', 'email', 'android.idfa', 'ios.idfa')
        AND NOT "iu"."value" IS NULL
    )
), "la_aud4" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_q2" AS "u"
), "la_aud5" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_aud3" AS "u"
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM "la_aud4" AS "q1"
      WHERE
        "q1"."k0" = "u"."k0"
    )
)
SELECT
  SUM("f"."f0") AS "n0",
  SUM("f"."f1") AS "n1",
  SUM("f"."f2") AS "n2",
  SUM("f"."f0" * "f"."f1") AS "s0_1",
  SUM("f"."f0" * "f"."f2") AS "s0_2",
  SUM("f"."f1" * "f"."f2") AS "s1_2"
FROM (
  SELECT
    "u"."k0",
    MAX(CASE WHEN "u"."a" = 0 THEN 1 ELSE 0 END) AS "f0",
    MAX(CASE WHEN "u"."a" = 1 THEN 1 ELSE 0 END) AS "f1",
    MAX(CASE WHEN "u"."a" = 2 THEN 1 ELSE 0 END) AS "f2"
  FROM (
    SELECT
      "s"."k0" AS "k0",
      0 AS "a"
    FROM "la_aud1" AS "s"
    UNION ALL
    SELECT
      "s"."k0" AS "k0",
      1 AS "a"
    FROM "la_aud2" AS "s"
    UNION ALL
    SELECT
      "s"."k0" AS "k0",
      2 AS "a"
    FROM "la_aud5" AS "s"
  ) AS "u"
  GROUP BY
    "u"."k0"
) AS "f";
