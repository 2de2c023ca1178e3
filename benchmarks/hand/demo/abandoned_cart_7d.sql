-- An abandoned cart updated in the last 7 days, and no order in the last 7 days.
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.cart AS c ON c.user_id = i.value
WHERE i.type = 'user_id'
  AND c.status = 'abandoned'
  AND c.updated_at BETWEEN TIMESTAMPTZ '2026-10-25 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  AND NOT EXISTS (
    SELECT 1
    FROM segment.order_completed AS o
    JOIN ps_materialize.id_graph AS g ON g.segment_id = o.segment_id
    WHERE g.canonical_segment_id = i.canonical_segment_id
      AND o.timestamp BETWEEN TIMESTAMPTZ '2026-10-25 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  )
