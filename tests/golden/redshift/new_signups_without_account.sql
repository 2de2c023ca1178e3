-- audience: new_signups_without_account (New sign-ups without an account)
-- dialect: redshift; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH "la_e1" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."tracks" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-10-02 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)
    AND "ev"."event" = 'Signed Up'
  GROUP BY
    "g"."canonical_segment_id"
), "la_q1" AS (
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
)
SELECT
  "u"."k0" AS "profile_id"
FROM "la_e1" AS "u"
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM "la_q1" AS "q1"
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
  FROM "segment"."tracks" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-10-02 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)
    AND "ev"."event" = 'Signed Up'
  GROUP BY
    "g"."canonical_segment_id"
), "la_q1" AS (
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
), "la_members" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_e1" AS "u"
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM "la_q1" AS "q1"
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
  CAST(NULL AS VARCHAR) AS "relationship",
  CAST(NULL AS VARCHAR) AS "entity_id"
FROM "la_members" AS "mem"
WHERE
  FALSE;
