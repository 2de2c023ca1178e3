-- insight: explain
-- dialect: duckdb; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_insights.py --update-snapshots

WITH "la_e1" AS (
  SELECT
    "g"."canonical_segment_id" AS "k0"
  FROM "segment"."order_completed" AS "ev"
  INNER JOIN "ps_materialize"."id_graph" AS "g"
    ON "g"."segment_id" = "ev"."segment_id"
  WHERE
    NOT "g"."canonical_segment_id" IS NULL
    AND NOT "ev"."timestamp" IS NULL
    AND "ev"."timestamp" >= CAST('2026-08-03 00:00:00.000000+00:00' AS TIMESTAMPTZ)
    AND "ev"."timestamp" <= CAST('2026-11-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
  GROUP BY
    "g"."canonical_segment_id"
  HAVING
    SUM("ev"."revenue") > 500
), "la_aud1" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_e1" AS "u"
  WHERE
    EXISTS(
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
  EXISTS(
    SELECT
      1
    FROM "la_aud1" AS "s"
    WHERE
      CAST("s"."k0" AS TEXT) = 'use_0011b4d2ff6b'
  ) AS "h0";
