-- audience: below_minimum_balance (Accounts below minimum balance)
-- dialect: postgres; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH "la_q1" AS (
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
      "r2"."status" = 'active' AND "r2"."balance" < "r2"."min_balance"
    )
  GROUP BY
    "i"."canonical_segment_id"
)
SELECT
  "u"."k0" AS "profile_id"
FROM "la_q1" AS "u";

-- matched entities
WITH "la_q1" AS (
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
      "r2"."status" = 'active' AND "r2"."balance" < "r2"."min_balance"
    )
  GROUP BY
    "i"."canonical_segment_id"
), "la_members" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_q1" AS "u"
), "la_m1" AS (
  SELECT DISTINCT
    "mem"."k0" AS "k0",
    "r2"."id" AS "k1"
  FROM "la_members" AS "mem"
  JOIN "ps_materialize"."user_identifiers" AS "i1"
    ON "i1"."canonical_segment_id" = "mem"."k0" AND "i1"."type" = 'email'
  JOIN "prod"."account" AS "r2"
    ON "r2"."email" = "i1"."value"
  WHERE
    NOT "r2"."id" IS NULL
    AND (
      "r2"."status" = 'active' AND "r2"."balance" < "r2"."min_balance"
    )
)
SELECT
  "m"."k0" AS "profile_id",
  'user-accounts' AS "relationship",
  CAST("m"."k1" AS TEXT) AS "entity_id"
FROM "la_m1" AS "m";
