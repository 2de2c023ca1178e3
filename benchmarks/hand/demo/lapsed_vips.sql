-- VIPs last seen more than 60 days ago, or never.
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL)
SELECT t.canonical_segment_id AS profile_id
FROM ps_materialize.user_traits AS t
WHERE t.name IN ('is_vip', 'last_seen_at')
  AND t.canonical_segment_id IN (SELECT profile_id FROM universe)
GROUP BY t.canonical_segment_id
HAVING max(t.value) FILTER (WHERE t.name = 'is_vip') = 'true'
   AND coalesce(
         TRY_CAST(max(t.value) FILTER (WHERE t.name = 'last_seen_at') AS TIMESTAMPTZ)
           < TIMESTAMPTZ '2026-09-02 00:00:00+00',
         TRUE)
