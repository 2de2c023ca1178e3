-- An account whose active cards' outstanding balances sum to more than 5,000.
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.account AS a ON a.email = i.value
WHERE i.type = 'email'
  AND a.id IN (
    SELECT c.account_id FROM prod.credit_card AS c
    WHERE c.status = 'active'
    GROUP BY c.account_id
    HAVING sum(c.outstanding_balance) > 5000
  )
