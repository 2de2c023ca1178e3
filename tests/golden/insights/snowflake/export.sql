-- insight: export
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
), "la_aud1" AS (
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
)
SELECT
  "m"."k0" AS "member",
  "ids"."id0",
  "ids"."id1",
  "t"."loyalty_tier" AS "t0",
  "t"."lifetime_value" AS "t1"
FROM "la_aud1" AS "m"
LEFT JOIN (
  SELECT
    "i"."canonical_segment_id" AS "k",
    MAX(CASE WHEN "i"."type" = 'user_id' THEN "i"."value" END) AS "id0",
    MAX(CASE WHEN "i"."type" = 'email' THEN "i"."value" END) AS "id1"
  FROM "ps_materialize"."user_identifiers" AS "i"
  WHERE
    "i"."type" IN ('user_id', 'email')
    AND "i"."canonical_segment_id" IN (
      SELECT
        "s"."k0"
      FROM "la_aud1" AS "s"
    )
  GROUP BY
    "i"."canonical_segment_id"
) AS "ids"
  ON "ids"."k" = "m"."k0"
LEFT JOIN "la_traits" AS "t"
  ON "t"."profile_id" = "m"."k0";
