-- insight: suggest_entity_column
-- dialect: databricks; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_insights.py --update-snapshots

SELECT
  `e`.`card_type` AS `value`,
  COUNT(*) AS `n`
FROM `prod`.`credit_card` AS `e`
WHERE
  NOT `e`.`card_type` IS NULL
GROUP BY
  `e`.`card_type`
ORDER BY
  `n` DESC,
  `value` NULLS LAST
LIMIT 100;
