-- audience: lapsed_vips (Lapsed VIPs)
-- dialect: snowflake; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH "la_traits_text" AS (
  SELECT
    "t"."canonical_segment_id" AS "profile_id",
    MAX(CASE WHEN "t"."name" = 'is_vip' THEN "t"."value" END) AS "is_vip",
    MAX(CASE WHEN "t"."name" = 'last_seen_at' THEN "t"."value" END) AS "last_seen_at"
  FROM "ps_materialize"."user_traits" AS "t"
  WHERE
    "t"."name" IN ('is_vip', 'last_seen_at')
  GROUP BY
    "t"."canonical_segment_id"
), "la_traits" AS (
  SELECT
    "x"."profile_id",
    CASE
      WHEN LOWER("x"."is_vip") = 'true'
      THEN TRUE
      WHEN LOWER("x"."is_vip") = 'false'
      THEN FALSE
    END AS "is_vip",
    CASE
      WHEN REGEXP_LIKE(
        "x"."last_seen_at",
        '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?)?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?$'
      )
      THEN TRY_CAST(CASE
        WHEN REGEXP_LIKE("x"."last_seen_at", '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$')
        THEN CONCAT("x"."last_seen_at", ' 00:00:00+00:00')
        WHEN REGEXP_INSTR("x"."last_seen_at", '(Z|[+-][0-9]{2}:[0-9]{2})$') > 0
        THEN "x"."last_seen_at"
        ELSE CONCAT("x"."last_seen_at", '+00:00')
      END AS TIMESTAMPTZ)
    END AS "last_seen_at"
  FROM "la_traits_text" AS "x"
)
SELECT
  "u"."profile_id" AS "profile_id"
FROM "la_traits" AS "u"
WHERE
  (
    "u"."is_vip" = TRUE
    AND (
      "u"."last_seen_at" < CAST('2026-09-02 00:00:00.000000+00:00' AS TIMESTAMPTZ)
      OR "u"."last_seen_at" IS NULL
    )
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
    MAX(CASE WHEN "t"."name" = 'is_vip' THEN "t"."value" END) AS "is_vip",
    MAX(CASE WHEN "t"."name" = 'last_seen_at' THEN "t"."value" END) AS "last_seen_at"
  FROM "ps_materialize"."user_traits" AS "t"
  WHERE
    "t"."name" IN ('is_vip', 'last_seen_at')
  GROUP BY
    "t"."canonical_segment_id"
), "la_traits" AS (
  SELECT
    "x"."profile_id",
    CASE
      WHEN LOWER("x"."is_vip") = 'true'
      THEN TRUE
      WHEN LOWER("x"."is_vip") = 'false'
      THEN FALSE
    END AS "is_vip",
    CASE
      WHEN REGEXP_LIKE(
        "x"."last_seen_at",
        '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?)?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?$'
      )
      THEN TRY_CAST(CASE
        WHEN REGEXP_LIKE("x"."last_seen_at", '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$')
        THEN CONCAT("x"."last_seen_at", ' 00:00:00+00:00')
        WHEN REGEXP_INSTR("x"."last_seen_at", '(Z|[+-][0-9]{2}:[0-9]{2})$') > 0
        THEN "x"."last_seen_at"
        ELSE CONCAT("x"."last_seen_at", '+00:00')
      END AS TIMESTAMPTZ)
    END AS "last_seen_at"
  FROM "la_traits_text" AS "x"
), "la_members" AS (
  SELECT
    "u"."profile_id" AS "k0"
  FROM "la_traits" AS "u"
  WHERE
    (
      "u"."is_vip" = TRUE
      AND (
        "u"."last_seen_at" < CAST('2026-09-02 00:00:00.000000+00:00' AS TIMESTAMPTZ)
        OR "u"."last_seen_at" IS NULL
      )
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
  CAST(NULL AS VARCHAR) AS "relationship",
  CAST(NULL AS VARCHAR) AS "entity_id"
FROM "la_members" AS "mem"
WHERE
  FALSE;
