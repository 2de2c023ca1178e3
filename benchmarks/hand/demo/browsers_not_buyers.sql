-- Five or more page views in the last 30 days, no order in the last 30 days.
WITH browsers AS (
  SELECT g.canonical_segment_id AS profile_id
  FROM segment.pages AS p
  JOIN ps_materialize.id_graph AS g ON g.segment_id = p.segment_id
  WHERE p.timestamp BETWEEN TIMESTAMPTZ '2026-10-02 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  GROUP BY g.canonical_segment_id
  HAVING count(*) >= 5
), universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL)
SELECT b.profile_id
FROM browsers AS b
WHERE b.profile_id IN (SELECT profile_id FROM universe)
  AND NOT EXISTS (
    SELECT 1
    FROM segment.order_completed AS o
    JOIN ps_materialize.id_graph AS g ON g.segment_id = o.segment_id
    WHERE g.canonical_segment_id = b.profile_id
      AND o.timestamp BETWEEN TIMESTAMPTZ '2026-10-02 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  )
