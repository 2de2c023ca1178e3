-- audience: high_value_loyalty (High-value loyalty members)
-- dialect: postgres; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
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
      WHEN "x"."lifetime_value" ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$'
      THEN CAST("x"."lifetime_value" AS DOUBLE PRECISION)
    END AS "lifetime_value",
    "x"."loyalty_tier" AS "loyalty_tier"
  FROM "la_traits_text" AS "x"
)
SELECT
  "u"."profile_id" AS "profile_id"
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
  );

-- matched entities
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
      WHEN "x"."lifetime_value" ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$'
      THEN CAST("x"."lifetime_value" AS DOUBLE PRECISION)
    END AS "lifetime_value",
    "x"."loyalty_tier" AS "loyalty_tier"
  FROM "la_traits_text" AS "x"
), "la_members" AS (
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
  "mem"."k0" AS "profile_id",
  CAST(NULL AS TEXT) AS "relationship",
  CAST(NULL AS TEXT) AS "entity_id"
FROM "la_members" AS "mem"
WHERE
  FALSE;
