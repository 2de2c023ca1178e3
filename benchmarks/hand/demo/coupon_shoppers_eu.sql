-- A coupon order in EUR/GBP 30-90 days ago, or a /pricing page view in the last 14 days.
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL)
SELECT u.profile_id
FROM universe AS u
WHERE u.profile_id IN (
  SELECT g.canonical_segment_id
  FROM segment.order_completed AS o
  JOIN ps_materialize.id_graph AS g ON g.segment_id = o.segment_id
  WHERE o.timestamp >= TIMESTAMPTZ '2026-08-03 00:00:00+00'
    AND o.timestamp < TIMESTAMPTZ '2026-10-02 00:00:00+00'  -- between_days_ago excludes its recent end
    AND o.coupon IS NOT NULL AND o.currency IN ('EUR', 'GBP')
  UNION
  SELECT g.canonical_segment_id
  FROM segment.pages AS p
  JOIN ps_materialize.id_graph AS g ON g.segment_id = p.segment_id
  WHERE p.timestamp BETWEEN TIMESTAMPTZ '2026-10-18 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
    AND p.path LIKE '/pricing%'
)
