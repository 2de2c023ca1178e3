-- audience: buying_business_accounts (Business accounts with a recent buyer)
-- dialect: redshift; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH "la_e1" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."order_completed" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-09-02 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)
), "la_users1" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_e1" AS "u"
)
SELECT
  "acct"."group_id" AS "account_id"
FROM "ps_materialize"."account_traits" AS "acct"
WHERE
  NOT "acct"."group_id" IS NULL
  AND (
    "acct"."plan" IN ('business', 'enterprise')
    AND EXISTS(
      SELECT
        1
      FROM "ps_materialize"."account_users" AS "mu"
      WHERE
        "mu"."group_id" = "acct"."group_id"
        AND NOT "mu"."canonical_segment_id" IS NULL
        AND EXISTS(
          SELECT
            1
          FROM "la_users1" AS "ok"
          WHERE
            "ok"."k0" = "mu"."canonical_segment_id"
        )
    )
  );

-- matched entities
WITH "la_e1" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."order_completed" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-09-02 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)
), "la_users1" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_e1" AS "u"
)
SELECT
  CAST("acct"."group_id" AS VARCHAR) AS "profile_id",
  CAST(NULL AS VARCHAR) AS "relationship",
  CAST(NULL AS VARCHAR) AS "entity_id"
FROM "ps_materialize"."account_traits" AS "acct"
WHERE
  FALSE;
