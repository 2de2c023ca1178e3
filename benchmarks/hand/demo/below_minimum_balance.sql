-- An active account whose balance is under its own minimum balance.
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.account AS a ON a.email = i.value
WHERE i.type = 'email' AND a.status = 'active' AND a.balance < a.min_balance
