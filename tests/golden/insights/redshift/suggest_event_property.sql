-- insight: suggest_event_property
-- dialect: redshift; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_insights.py --update-snapshots

SELECT
  "e"."currency" AS "value",
  COUNT(*) AS "n"
FROM "segment"."order_completed" AS "e"
WHERE
  NOT "e"."currency" IS NULL
GROUP BY
  "e"."currency"
ORDER BY
  "n" DESC NULLS LAST,
  "value"
LIMIT 65;
