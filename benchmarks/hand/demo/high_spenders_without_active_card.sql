-- Over 300 of revenue in the last 90 days and no active credit card (computed traits).
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL),
revenue AS (
  SELECT g.canonical_segment_id AS profile_id, sum(o.revenue) AS revenue
  FROM segment.order_completed AS o
  JOIN ps_materialize.id_graph AS g ON g.segment_id = o.segment_id
  WHERE o.timestamp BETWEEN TIMESTAMPTZ '2026-08-03 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  GROUP BY g.canonical_segment_id
)
SELECT r.profile_id
FROM revenue AS r
WHERE r.revenue > 300
  AND r.profile_id IN (SELECT profile_id FROM universe)
  AND NOT EXISTS (
    SELECT 1
    FROM ps_materialize.user_identifiers AS i
    JOIN prod.account AS a ON a.email = i.value
    JOIN prod.credit_card AS c ON c.account_id = a.id
    WHERE i.canonical_segment_id = r.profile_id AND i.type = 'email' AND c.status = 'active'
  )
