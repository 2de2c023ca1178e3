-- An open cart holding a product of the profile's preferred category.
SELECT DISTINCT i.canonical_segment_id AS profile_id
FROM ps_materialize.user_identifiers AS i
JOIN ps_materialize.user_traits AS t
  ON t.canonical_segment_id = i.canonical_segment_id AND t.name = 'preferred_category'
JOIN prod.cart AS c ON c.user_id = i.value
WHERE i.type = 'user_id'
  AND c.status = 'open'
  AND EXISTS (
    SELECT 1
    FROM prod.cart_product AS cp
    JOIN prod.product AS p ON p.sku = cp.product_sku
    WHERE cp.cart_id = c.id AND p.category = t.value
  )
