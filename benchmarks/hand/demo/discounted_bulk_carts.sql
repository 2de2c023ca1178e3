-- An open cart with a line of three or more units that carries a discount (composite keys).
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.cart AS c ON c.user_id = i.value
WHERE i.type = 'user_id'
  AND c.status = 'open'
  AND EXISTS (
    SELECT 1
    FROM prod.cart_line AS l
    JOIN prod.cart_line_discount AS d ON d.cart_id = l.cart_id AND d.line_no = l.line_no
    WHERE l.cart_id = c.id AND l.quantity >= 3
  )
