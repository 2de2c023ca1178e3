-- Business or enterprise accounts with a member who completed an order in the last 60 days.
-- An account audience: the members are accounts (one column, account_id).
SELECT t.group_id AS account_id
FROM ps_materialize.account_traits AS t
WHERE t.plan IN ('business', 'enterprise')
  AND EXISTS (
    SELECT 1
    FROM ps_materialize.account_users AS m
    JOIN ps_materialize.id_graph AS g ON g.canonical_segment_id = m.canonical_segment_id
    JOIN segment.order_completed AS o ON o.segment_id = g.segment_id
    WHERE m.group_id = t.group_id
      AND o.timestamp BETWEEN TIMESTAMPTZ '2026-09-02 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  )
