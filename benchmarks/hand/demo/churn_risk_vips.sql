-- VIPs whose churn score (an SQL trait over ml.churn_scores) is above 0.8.
WITH universe AS (SELECT DISTINCT canonical_segment_id AS profile_id FROM ps_materialize.user_identifiers WHERE type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND value IS NOT NULL),
churn AS (
  SELECT i.canonical_segment_id AS profile_id, max(s.churn_score) AS churn_score
  FROM ml.churn_scores AS s
  JOIN ps_materialize.user_identifiers AS i ON i.type = 'user_id' AND i.value = s.user_id
  GROUP BY i.canonical_segment_id
)
SELECT t.canonical_segment_id AS profile_id
FROM ps_materialize.user_traits AS t
JOIN churn AS c ON c.profile_id = t.canonical_segment_id
WHERE t.name = 'is_vip' AND lower(t.value) = 'true'
  AND c.churn_score > 0.8
  AND t.canonical_segment_id IN (SELECT profile_id FROM universe)
GROUP BY t.canonical_segment_id
