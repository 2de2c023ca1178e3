-- VIPs last seen more than 60 days ago, or never.
-- PostgreSQL has no TRY_CAST: the text is cast only when it reads as a number / timestamp.
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL)
SELECT t.canonical_segment_id AS profile_id
FROM ps_materialize.user_traits AS t
WHERE t.name IN ('is_vip', 'last_seen_at')
  AND t.canonical_segment_id IN (SELECT profile_id FROM universe)
GROUP BY t.canonical_segment_id
HAVING max(t.value) FILTER (WHERE t.name = 'is_vip') = 'true'
   AND coalesce(
         CASE WHEN max(t.value) FILTER (WHERE t.name = 'last_seen_at') ~ '^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?$' THEN (max(t.value) FILTER (WHERE t.name = 'last_seen_at'))::timestamptz END
           < TIMESTAMPTZ '2026-09-02 00:00:00+00',
         TRUE)
