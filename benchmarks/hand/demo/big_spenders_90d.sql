-- Orders in the last 90 days whose revenue sums to more than 500.
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL)
SELECT g.canonical_segment_id AS profile_id
FROM segment.order_completed AS o
JOIN ps_materialize.id_graph AS g ON g.segment_id = o.segment_id
WHERE o.timestamp BETWEEN TIMESTAMPTZ '2026-08-03 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  AND g.canonical_segment_id IN (SELECT profile_id FROM universe)
GROUP BY g.canonical_segment_id
HAVING sum(o.revenue) > 500
