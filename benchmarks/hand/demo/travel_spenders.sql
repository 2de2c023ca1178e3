-- A card with at least two settled travel transactions over 200 in the last 90 days.
WITH travel_cards AS (
  SELECT t.card_id
  FROM prod.card_transaction AS t
  JOIN prod.merchant AS m ON m.id = t.merchant_id
  JOIN prod.merchant_category AS mc ON mc.id = m.category_id
  WHERE mc.is_travel
    AND t.amount > 200
    AND t.status = 'settled'
    AND t.created_at BETWEEN TIMESTAMPTZ '2026-08-03 00:00:00+00' AND TIMESTAMPTZ '2026-11-01 00:00:00+00'
  GROUP BY t.card_id
  HAVING count(*) >= 2
)
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.account AS a ON a.email = i.value
JOIN prod.credit_card AS c ON c.account_id = a.id
WHERE i.type = 'email' AND c.id IN (SELECT card_id FROM travel_cards)
