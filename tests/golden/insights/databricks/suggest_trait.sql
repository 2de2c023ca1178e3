-- insight: suggest_trait
-- dialect: databricks; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_insights.py --update-snapshots

WITH `la_traits_text` AS (
  SELECT
    `t`.`canonical_segment_id` AS `profile_id`,
    MAX(CASE WHEN `t`.`name` = 'loyalty_tier' THEN `t`.`value` END) AS `loyalty_tier`
  FROM `ps_materialize`.`user_traits` AS `t`
  WHERE
    `t`.`name` IN ('loyalty_tier')
  GROUP BY
    `t`.`canonical_segment_id`
), `la_traits` AS (
  SELECT
    `x`.`profile_id`,
    `x`.`loyalty_tier` AS `loyalty_tier`
  FROM `la_traits_text` AS `x`
)
SELECT
  `t`.`loyalty_tier` AS `value`,
  COUNT(DISTINCT `t`.`profile_id`) AS `n`
FROM `la_traits` AS `t`
WHERE
  NOT `t`.`loyalty_tier` IS NULL
GROUP BY
  `t`.`loyalty_tier`
ORDER BY
  `n` DESC,
  `value` NULLS LAST
LIMIT 65;
