-- Gold or platinum with a lifetime value of at least 1,000 (one pass over the long traits).
-- PostgreSQL has no TRY_CAST: the text is cast only when it reads as a number / timestamp.
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL)
SELECT t.canonical_segment_id AS profile_id
FROM ps_materialize.user_traits AS t
WHERE t.name IN ('loyalty_tier', 'lifetime_value')
  AND t.canonical_segment_id IN (SELECT profile_id FROM universe)
GROUP BY t.canonical_segment_id
HAVING max(t.value) FILTER (WHERE t.name = 'loyalty_tier') IN ('gold', 'platinum')
   AND CASE WHEN max(t.value) FILTER (WHERE t.name = 'lifetime_value') ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN (max(t.value) FILTER (WHERE t.name = 'lifetime_value'))::double precision END >= 1000
