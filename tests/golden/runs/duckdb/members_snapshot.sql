-- run SQL: members_snapshot
-- dialect: duckdb; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

INSERT INTO "linked_audiences"."la_members" (
  "run_id",
  "audience_key",
  "profile_id",
  "user_id",
  "anonymous_id"
)
WITH "la_q1" AS (
  SELECT
    "i"."canonical_segment_id" AS "k0"
  FROM "ps_materialize"."user_identifiers" AS "i"
  JOIN "prod"."cart" AS "r2"
    ON "r2"."user_id" = "i"."value"
  WHERE
    NOT "i"."canonical_segment_id" IS NULL
    AND NOT "r2"."id" IS NULL
    AND "i"."type" = 'user_id'
    AND NOT "i"."value" IS NULL
    AND "r2"."updated_at" BETWEEN CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMPTZ) AND CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
  GROUP BY
    "i"."canonical_segment_id"
), "la_e1" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."pages" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMPTZ)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
  GROUP BY
    "g"."canonical_segment_id"
  HAVING
    COUNT(*) >= 2
), "la_snapshot_members" AS (
  SELECT
    "u"."k0" AS "profile_id"
  FROM (
    SELECT
      "d"."k0"
    FROM "la_q1" AS "d"
    UNION
    SELECT
      "d"."k0"
    FROM "la_e1" AS "d"
  ) AS "u"
  LEFT JOIN "la_q1" AS "q1"
    ON "q1"."k0" = "u"."k0"
  LEFT JOIN "la_e1" AS "q2"
    ON "q2"."k0" = "u"."k0"
  WHERE
    (
      NOT "q1"."k0" IS NULL OR NOT "q2"."k0" IS NULL
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
  '20261101T000000Z-000000000002',
  'cart_or_browse',
  CAST("a"."profile_id" AS TEXT),
  "ids"."user_id",
  "ids"."anonymous_id"
FROM "la_snapshot_members" AS "a"
LEFT JOIN (
  SELECT
    "i"."canonical_segment_id" AS "k",
    MAX(CASE WHEN "i"."type" = 'user_id' THEN "i"."value" END) AS "user_id",
    MAX(CASE WHEN "i"."type" = 'anonymous_id' THEN "i"."value" END) AS "anonymous_id"
  FROM "ps_materialize"."user_identifiers" AS "i"
  WHERE
    "i"."type" IN ('user_id', 'anonymous_id')
    AND "i"."canonical_segment_id" IN (
      SELECT
        "sm"."profile_id"
      FROM "la_snapshot_members" AS "sm"
    )
  GROUP BY
    "i"."canonical_segment_id"
) AS "ids"
  ON "ids"."k" = "a"."profile_id";
