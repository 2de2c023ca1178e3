-- audience: browsers_not_buyers (Frequent browsers who do not buy)
-- dialect: duckdb; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH "la_e1" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."pages" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-10-02 00:00:00.000000+00:00' AS TIMESTAMPTZ)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
  GROUP BY
    "g"."canonical_segment_id"
  HAVING
    COUNT(*) >= 5
), "la_e2" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."order_completed" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-10-02 00:00:00.000000+00:00' AS TIMESTAMPTZ)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
)
SELECT
  "u"."k0" AS "profile_id"
FROM "la_e1" AS "u"
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM "la_e2" AS "q1"
    WHERE
      "q1"."k0" = "u"."k0"
  )
  AND EXISTS(
    SELECT
      1
    FROM "ps_materialize"."user_identifiers" AS "iu"
    WHERE
      "iu"."canonical_segment_id" = "u"."k0"
      AND "iu"."type" IN ('user_id', 'email', 'android.idfa', 'ios.idfa')
      AND NOT "iu"."value" IS NULL
  );

-- matched entities
WITH "la_e1" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."pages" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-10-02 00:00:00.000000+00:00' AS TIMESTAMPTZ)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
  GROUP BY
    "g"."canonical_segment_id"
  HAVING
    COUNT(*) >= 5
), "la_e2" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."order_completed" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-10-02 00:00:00.000000+00:00' AS TIMESTAMPTZ)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
), "la_members" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_e1" AS "u"
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM "la_e2" AS "q1"
      WHERE
        "q1"."k0" = "u"."k0"
    )
    AND EXISTS(
      SELECT
        1
      FROM "ps_materialize"."user_identifiers" AS "iu"
      WHERE
        "iu"."canonical_segment_id" = "u"."k0"
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
