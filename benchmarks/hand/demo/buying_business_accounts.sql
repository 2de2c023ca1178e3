-- Business or enterprise accounts with a member who completed an order in the last 60 days.
-- An account audience: the members are accounts (one column, account_id).
SELECT t.group_id AS account_id
FROM ps_materialize.account_traits AS t
WHERE t.plan IN ('business', 'enterprise')
  AND t.group_id IN (
    SELECT m.group_id
    FROM ps_materialize.account_users AS m
    WHERE m.canonical_segment_id IN (
      SELECT g.canonical_segment_id
      FROM segment.order_completed AS o
      JOIN ps_materialize.id_graph AS g ON g.segment_id = o.segment_id
      WHERE o.timestamp BETWEEN TIMESTAMPTZ '2026-09-02 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
    )
  )
