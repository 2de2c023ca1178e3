-- audience: travel_spenders (Travel spenders)
-- dialect: postgres; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH "la_q1" AS (
  SELECT
    "r6"."id" AS "k0"
  FROM "prod"."merchant_category" AS "r6"
  WHERE
    NOT "r6"."id" IS NULL AND NOT "r6"."id" IS NULL AND "r6"."is_travel" = TRUE
), "la_q2" AS (
  SELECT
    "r5"."id" AS "k0"
  FROM "prod"."merchant" AS "r5"
  WHERE
    NOT "r5"."id" IS NULL
    AND NOT "r5"."id" IS NULL
    AND EXISTS(
      SELECT
        1
      FROM "la_q1" AS "q1"
      WHERE
        "q1"."k0" = "r5"."category_id"
    )
), "la_q3" AS (
  SELECT
    "r4"."card_id" AS "k0"
  FROM "prod"."card_transaction" AS "r4"
  WHERE
    NOT "r4"."card_id" IS NULL
    AND NOT "r4"."id" IS NULL
    AND (
      "r4"."amount" > 200
      AND "r4"."created_at" BETWEEN CAST('2026-08-03 00:00:00.000000+00:00' AS TIMESTAMPTZ) AND CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
      AND "r4"."status" = 'settled'
      AND EXISTS(
        SELECT
          1
        FROM "la_q2" AS "q1"
        WHERE
          "q1"."k0" = "r4"."merchant_id"
      )
    )
  GROUP BY
    "r4"."card_id"
  HAVING
    COUNT(*) >= 2
), "la_q4" AS (
  SELECT
    "r3"."account_id" AS "k0"
  FROM "prod"."credit_card" AS "r3"
  WHERE
    NOT "r3"."account_id" IS NULL
    AND NOT "r3"."id" IS NULL
    AND EXISTS(
      SELECT
        1
      FROM "la_q3" AS "q1"
      WHERE
        "q1"."k0" = "r3"."id"
    )
), "la_q5" AS (
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
    AND EXISTS(
      SELECT
        1
      FROM "la_q4" AS "q1"
      WHERE
        "q1"."k0" = "r2"."id"
    )
  GROUP BY
    "i"."canonical_segment_id"
)
SELECT
  "u"."k0" AS "profile_id"
FROM "la_q5" AS "u";

-- matched entities
WITH "la_q1" AS (
  SELECT
    "r6"."id" AS "k0"
  FROM "prod"."merchant_category" AS "r6"
  WHERE
    NOT "r6"."id" IS NULL AND NOT "r6"."id" IS NULL AND "r6"."is_travel" = TRUE
), "la_q2" AS (
  SELECT
    "r5"."id" AS "k0"
  FROM "prod"."merchant" AS "r5"
  WHERE
    NOT "r5"."id" IS NULL
    AND NOT "r5"."id" IS NULL
    AND EXISTS(
      SELECT
        1
      FROM "la_q1" AS "q1"
      WHERE
        "q1"."k0" = "r5"."category_id"
    )
), "la_q3" AS (
  SELECT
    "r4"."card_id" AS "k0"
  FROM "prod"."card_transaction" AS "r4"
  WHERE
    NOT "r4"."card_id" IS NULL
    AND NOT "r4"."id" IS NULL
    AND (
      "r4"."amount" > 200
      AND "r4"."created_at" BETWEEN CAST('2026-08-03 00:00:00.000000+00:00' AS TIMESTAMPTZ) AND CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
      AND "r4"."status" = 'settled'
      AND EXISTS(
        SELECT
          1
        FROM "la_q2" AS "q1"
        WHERE
          "q1"."k0" = "r4"."merchant_id"
      )
    )
  GROUP BY
    "r4"."card_id"
  HAVING
    COUNT(*) >= 2
), "la_q4" AS (
  SELECT
    "r3"."account_id" AS "k0"
  FROM "prod"."credit_card" AS "r3"
  WHERE
    NOT "r3"."account_id" IS NULL
    AND NOT "r3"."id" IS NULL
    AND EXISTS(
      SELECT
        1
      FROM "la_q3" AS "q1"
      WHERE
        "q1"."k0" = "r3"."id"
    )
), "la_q5" AS (
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
    AND EXISTS(
      SELECT
        1
      FROM "la_q4" AS "q1"
      WHERE
        "q1"."k0" = "r2"."id"
    )
  GROUP BY
    "i"."canonical_segment_id"
), "la_members" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_q5" AS "u"
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
    AND EXISTS(
      SELECT
        1
      FROM "la_q4" AS "q2"
      WHERE
        "q2"."k0" = "r2"."id"
    )
), "la_m2" AS (
  SELECT DISTINCT
    "m"."k0" AS "k0",
    "m"."k1" AS "k1",
    "r3"."id" AS "k2"
  FROM "la_m1" AS "m"
  JOIN "prod"."account" AS "p2"
    ON "p2"."id" = "m"."k1"
  JOIN "prod"."credit_card" AS "r3"
    ON "r3"."account_id" = "p2"."id"
  WHERE
    NOT "r3"."id" IS NULL
    AND EXISTS(
      SELECT
        1
      FROM "la_q3" AS "q2"
      WHERE
        "q2"."k0" = "r3"."id"
    )
), "la_m3" AS (
  SELECT DISTINCT
    "m"."k0" AS "k0",
    "m"."k1" AS "k1",
    "m"."k2" AS "k2",
    "r4"."id" AS "k3"
  FROM "la_m2" AS "m"
  JOIN "prod"."credit_card" AS "p3"
    ON "p3"."id" = "m"."k2"
  JOIN "prod"."card_transaction" AS "r4"
    ON "r4"."card_id" = "p3"."id"
  WHERE
    NOT "r4"."id" IS NULL
    AND (
      "r4"."amount" > 200
      AND "r4"."created_at" BETWEEN CAST('2026-08-03 00:00:00.000000+00:00' AS TIMESTAMPTZ) AND CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
      AND "r4"."status" = 'settled'
      AND EXISTS(
        SELECT
          1
        FROM "la_q2" AS "q2"
        WHERE
          "q2"."k0" = "r4"."merchant_id"
      )
    )
), "la_m4" AS (
  SELECT DISTINCT
    "m"."k0" AS "k0",
    "m"."k1" AS "k1",
    "m"."k2" AS "k2",
    "m"."k3" AS "k3",
    "r5"."id" AS "k4"
  FROM "la_m3" AS "m"
  JOIN "prod"."card_transaction" AS "p4"
    ON "p4"."id" = "m"."k3"
  JOIN "prod"."merchant" AS "r5"
    ON "r5"."id" = "p4"."merchant_id"
  WHERE
    NOT "r5"."id" IS NULL
    AND EXISTS(
      SELECT
        1
      FROM "la_q1" AS "q2"
      WHERE
        "q2"."k0" = "r5"."category_id"
    )
), "la_m5" AS (
  SELECT DISTINCT
    "m"."k0" AS "k0",
    "m"."k1" AS "k1",
    "m"."k2" AS "k2",
    "m"."k3" AS "k3",
    "m"."k4" AS "k4",
    "r6"."id" AS "k5"
  FROM "la_m4" AS "m"
  JOIN "prod"."merchant" AS "p5"
    ON "p5"."id" = "m"."k4"
  JOIN "prod"."merchant_category" AS "r6"
    ON "r6"."id" = "p5"."category_id"
  WHERE
    NOT "r6"."id" IS NULL AND "r6"."is_travel" = TRUE
)
SELECT
  "m"."k0" AS "profile_id",
  'user-accounts' AS "relationship",
  CAST("m"."k1" AS TEXT) AS "entity_id"
FROM "la_m1" AS "m"
UNION
SELECT
  "m"."k0" AS "profile_id",
  'account-cards' AS "relationship",
  CAST("m"."k2" AS TEXT) AS "entity_id"
FROM "la_m2" AS "m"
UNION
SELECT
  "m"."k0" AS "profile_id",
  'card-transactions' AS "relationship",
  CAST("m"."k3" AS TEXT) AS "entity_id"
FROM "la_m3" AS "m"
UNION
SELECT
  "m"."k0" AS "profile_id",
  'transaction-merchant' AS "relationship",
  CAST("m"."k4" AS TEXT) AS "entity_id"
FROM "la_m4" AS "m"
UNION
SELECT
  "m"."k0" AS "profile_id",
  'merchant-category' AS "relationship",
  CAST("m"."k5" AS TEXT) AS "entity_id"
FROM "la_m5" AS "m";
