-- An active account holding an active premium card.
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.account AS a ON a.email = i.value
WHERE i.type = 'email'
  AND a.status = 'active'
  AND EXISTS (
    SELECT 1 FROM prod.credit_card AS c
    WHERE c.account_id = a.id AND c.card_type = 'premium' AND c.status = 'active'
  )
