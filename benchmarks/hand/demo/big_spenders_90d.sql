-- Orders in the last 90 days whose revenue sums to more than 500 (universe checked after
-- the aggregate: 138k sums probed instead of 430k order rows).
SELECT s.profile_id
FROM (
  SELECT g.canonical_segment_id AS profile_id
  FROM segment.order_completed AS o
  JOIN ps_materialize.id_graph AS g ON g.segment_id = o.segment_id
  WHERE o.timestamp BETWEEN TIMESTAMPTZ '2026-08-03 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  GROUP BY g.canonical_segment_id
  HAVING sum(o.revenue) > 500
) AS s
WHERE EXISTS (
  SELECT 1 FROM ps_materialize.user_identifiers AS i
  WHERE i.canonical_segment_id = s.profile_id
    AND i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
