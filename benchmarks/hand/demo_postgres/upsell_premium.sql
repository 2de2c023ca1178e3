-- High-value loyalty members (gold/platinum, lifetime value >= 1,000) without a premium card.
-- PostgreSQL has no TRY_CAST: the text is cast only when it reads as a number / timestamp.
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL),
high_value AS (
  SELECT t.canonical_segment_id AS profile_id
  FROM ps_materialize.user_traits AS t
  WHERE t.name IN ('loyalty_tier', 'lifetime_value')
  GROUP BY t.canonical_segment_id
  HAVING max(t.value) FILTER (WHERE t.name = 'loyalty_tier') IN ('gold', 'platinum')
     AND CASE WHEN max(t.value) FILTER (WHERE t.name = 'lifetime_value') ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN (max(t.value) FILTER (WHERE t.name = 'lifetime_value'))::double precision END >= 1000
)
SELECT h.profile_id
FROM high_value AS h
WHERE h.profile_id IN (SELECT profile_id FROM universe)
  AND NOT EXISTS (
    SELECT 1
    FROM ps_materialize.user_identifiers AS i
    JOIN prod.account AS a ON a.email = i.value
    JOIN prod.credit_card AS c ON c.account_id = a.id
    WHERE i.canonical_segment_id = h.profile_id AND i.type = 'email'
      AND a.status = 'active' AND c.card_type = 'premium' AND c.status = 'active'
  )
