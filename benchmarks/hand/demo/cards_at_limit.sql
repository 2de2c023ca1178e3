-- A card whose outstanding balance reached its credit limit.
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.account AS a ON a.email = i.value
WHERE i.type = 'email'
  AND EXISTS (
    SELECT 1 FROM prod.credit_card AS c
    WHERE c.account_id = a.id AND c.outstanding_balance >= c.credit_limit
  )
