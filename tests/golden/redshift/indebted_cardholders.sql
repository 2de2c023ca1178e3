-- audience: indebted_cardholders (Cardholders owing more than 5,000 on one account)
-- dialect: redshift; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH "la_q1" AS (
  SELECT
    "r3"."account_id" AS "k0"
  FROM "prod"."credit_card" AS "r3"
  WHERE
    NOT "r3"."account_id" IS NULL
    AND NOT "r3"."id" IS NULL
    AND "r3"."status" = 'active'
  GROUP BY
    "r3"."account_id"
  HAVING
    SUM("r3"."outstanding_balance") > 5000
), "la_q2" AS (
  SELECT
    "i"."canonical_segment_id" AS "k0"
  FROM "ps_materialize"."user_identifiers" AS "i"
  JOIN "prod"."account" AS "r2"
    ON "r2"."email" = "i"."value"
  JOIN "la_q1" AS "q1"
    ON "q1"."k0" = "r2"."id"
  WHERE
    NOT "i"."canonical_segment_id" IS NULL
    AND NOT "r2"."id" IS NULL
    AND "i"."type" = 'email'
    AND NOT "i"."value" IS NULL
  GROUP BY
    "i"."canonical_segment_id"
)
SELECT
  "u"."k0" AS "profile_id"
FROM "la_q2" AS "u";

-- matched entities
WITH "la_q1" AS (
  SELECT
    "r3"."account_id" AS "k0"
  FROM "prod"."credit_card" AS "r3"
  WHERE
    NOT "r3"."account_id" IS NULL
    AND NOT "r3"."id" IS NULL
    AND "r3"."status" = 'active'
  GROUP BY
    "r3"."account_id"
  HAVING
    SUM("r3"."outstanding_balance") > 5000
), "la_q2" AS (
  SELECT
    "i"."canonical_segment_id" AS "k0"
  FROM "ps_materialize"."user_identifiers" AS "i"
  JOIN "prod"."account" AS "r2"
    ON "r2"."email" = "i"."value"
  JOIN "la_q1" AS "q1"
    ON "q1"."k0" = "r2"."id"
  WHERE
    NOT "i"."canonical_segment_id" IS NULL
    AND NOT "r2"."id" IS NULL
    AND "i"."type" = 'email'
    AND NOT "i"."value" IS NULL
  GROUP BY
    "i"."canonical_segment_id"
), "la_members" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_q2" AS "u"
), "la_m1" AS (
  SELECT DISTINCT
    "mem"."k0" AS "k0",
    "r2"."id" AS "k1"
  FROM "la_members" AS "mem"
  JOIN "ps_materialize"."user_identifiers" AS "i1"
    ON "i1"."canonical_segment_id" = "mem"."k0" AND "i1"."type" = 'email'
  JOIN "prod"."account" AS "r2"
    ON "r2"."email" = "i1"."value"
  JOIN "la_q1" AS "q2"
    ON "q2"."k0" = "r2"."id"
  WHERE
    NOT "r2"."id" IS NULL
), "la_m2" AS (
  SELECT DISTINCT
    "m"."k0" AS "k0",
    "m"."k1" AS "k1",
    "r3"."id" AS "k2"
  FROM "la_m1" AS "m"
  JOIN "prod"."account" AS "p2"
    ON "p2"."id" = "m"."k1"
  JOIN "la_q1" AS "q1"
    ON "q1"."k0" = "p2"."id"
  JOIN "prod"."credit_card" AS "r3"
    ON "r3"."account_id" = "p2"."id"
  WHERE
    NOT "r3"."id" IS NULL AND "r3"."status" = 'active'
)
SELECT
  "m"."k0" AS "profile_id",
  'user-accounts' AS "relationship",
  CAST("m"."k1" AS VARCHAR) AS "entity_id"
FROM "la_m1" AS "m"
UNION
SELECT
  "m"."k0" AS "profile_id",
  'account-cards' AS "relationship",
  CAST("m"."k2" AS VARCHAR) AS "entity_id"
FROM "la_m2" AS "m";
