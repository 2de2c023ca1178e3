-- A checkout started in the last 7 days with no order of the same cart within a day after it
-- (by the same profile, and not after as_of).
SELECT s.profile_id
FROM (
  SELECT DISTINCT g.canonical_segment_id AS profile_id
  FROM segment.checkout_started AS c
  JOIN ps_materialize.id_graph AS g ON g.segment_id = c.segment_id
  WHERE c.timestamp BETWEEN TIMESTAMPTZ '2026-10-25 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
    AND NOT EXISTS (
      SELECT 1
      FROM segment.order_completed AS o
      JOIN ps_materialize.id_graph AS go ON go.segment_id = o.segment_id
      WHERE o.cart_id = c.cart_id
        AND go.canonical_segment_id = g.canonical_segment_id
        AND o.timestamp > c.timestamp
        AND o.timestamp <= c.timestamp + INTERVAL '1 day'
        AND o.timestamp <= TIMESTAMPTZ '2026-11-01 00:00:00+00'
    )
) AS s
WHERE EXISTS (
  SELECT 1 FROM ps_materialize.user_identifiers AS i
  WHERE i.canonical_segment_id = s.profile_id
    AND i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
