-- run SQL: entities_snapshot
-- dialect: duckdb; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

INSERT INTO "linked_audiences"."la_entities" (
  "run_id",
  "audience_key",
  "profile_id",
  "relationship",
  "entity_id",
  "checksum"
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
), "la_members" AS (
  SELECT
    "u"."k0" AS "k0",
    NOT "q1"."k0" IS NULL AS "g0"
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
), "la_m1" AS (
  SELECT DISTINCT
    "mem"."k0" AS "k0",
    "r2"."id" AS "k1"
  FROM "la_members" AS "mem"
  JOIN "ps_materialize"."user_identifiers" AS "i1"
    ON "i1"."canonical_segment_id" = "mem"."k0" AND "i1"."type" = 'user_id'
  JOIN "prod"."cart" AS "r2"
    ON "r2"."user_id" = "i1"."value"
  WHERE
    "mem"."g0"
    AND NOT "r2"."id" IS NULL
    AND "r2"."updated_at" BETWEEN CAST('2026-10-25 00:00:00.000000+00:00' AS TIMESTAMPTZ) AND CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
), "la_snapshot_entities" AS (
  SELECT
    "m"."k0" AS "profile_id",
    'user-carts' AS "relationship",
    CAST("m"."k1" AS TEXT) AS "entity_id"
  FROM "la_m1" AS "m"
)
SELECT
  '20261101T000000Z-000000000002',
  'cart_or_browse',
  CAST("e"."profile_id" AS TEXT),
  "e"."relationship",
  "e"."entity_id",
  MD5(
    CAST(JSON_OBJECT(
      'id', "t0"."id",
      'status', "t0"."status",
      'total', "t0"."total",
      'updated_at', "t0"."updated_at",
      'user_id', "t0"."user_id"
    ) AS TEXT)
  )
FROM "la_snapshot_entities" AS "e"
LEFT JOIN "prod"."cart" AS "t0"
  ON CAST("t0"."id" AS TEXT) = "e"."entity_id"
WHERE
  "e"."relationship" = 'user-carts'
UNION ALL
SELECT
  '20261101T000000Z-000000000002',
  'cart_or_browse',
  CAST("e"."profile_id" AS TEXT),
  "e"."relationship",
  "e"."entity_id",
  CAST(NULL AS TEXT)
FROM "la_snapshot_entities" AS "e"
WHERE
  NOT "e"."relationship" IN ('user-carts');
