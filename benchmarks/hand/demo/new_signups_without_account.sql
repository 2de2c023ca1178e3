-- Signed up in the last 30 days, and no bank account.
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL)
SELECT DISTINCT g.canonical_segment_id AS profile_id
FROM segment.tracks AS t
JOIN ps_materialize.id_graph AS g ON g.segment_id = t.segment_id
WHERE t.event = 'Signed Up'
  AND t.timestamp BETWEEN TIMESTAMPTZ '2026-10-02 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  AND g.canonical_segment_id IN (SELECT profile_id FROM universe)
  AND NOT EXISTS (
    SELECT 1
    FROM ps_materialize.user_identifiers AS i
    JOIN prod.account AS a ON a.email = i.value
    WHERE i.canonical_segment_id = g.canonical_segment_id AND i.type = 'email'
  )
