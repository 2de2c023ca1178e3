-- A card that is not closed with more than 1,000 outstanding.
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.account AS a ON a.email = i.value
WHERE i.type = 'email'
  AND EXISTS (
    SELECT 1 FROM prod.credit_card AS c
    WHERE c.account_id = a.id AND c.outstanding_balance > 1000 AND c.status <> 'closed'
  )
