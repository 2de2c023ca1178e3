-- audience: preferred_category_in_cart (Preferred category in an open cart)
-- dialect: redshift; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden.py --update-snapshots

-- members
WITH "la_traits_text" AS (
  SELECT
    "t"."canonical_segment_id" AS "profile_id",
    MAX(CASE WHEN "t"."name" = 'preferred_category' THEN "t"."value" END) AS "preferred_category"
  FROM "ps_materialize"."user_traits" AS "t"
  WHERE
    "t"."name" IN ('preferred_category')
  GROUP BY
    "t"."canonical_segment_id"
), "la_traits" AS (
  SELECT
    "x"."profile_id",
    "x"."preferred_category" AS "preferred_category"
  FROM "la_traits_text" AS "x"
), "la_q1" AS (
  SELECT
    "i"."canonical_segment_id" AS "k0"
  FROM "ps_materialize"."user_identifiers" AS "i"
  JOIN "prod"."cart" AS "r2"
    ON "r2"."user_id" = "i"."value"
  JOIN "prod"."cart_product" AS "fj2"
    ON "fj2"."cart_id" = "r2"."id"
  JOIN "prod"."product" AS "f1"
    ON "f1"."sku" = "fj2"."product_sku"
  LEFT JOIN "la_traits" AS "tr3"
    ON "tr3"."profile_id" = "i"."canonical_segment_id"
  WHERE
    NOT "i"."canonical_segment_id" IS NULL
    AND NOT "r2"."id" IS NULL
    AND "i"."type" = 'user_id'
    AND NOT "i"."value" IS NULL
    AND (
      "r2"."status" = 'open'
      AND (
        NOT "f1"."sku" IS NULL AND "f1"."category" = "tr3"."preferred_category"
      )
    )
  GROUP BY
    "i"."canonical_segment_id"
)
SELECT
  "u"."k0" AS "profile_id"
FROM "la_q1" AS "u";

-- matched entities
WITH "la_traits_text" AS (
  SELECT
    "t"."canonical_segment_id" AS "profile_id",
    MAX(CASE WHEN "t"."name" = 'preferred_category' THEN "t"."value" END) AS "preferred_category"
  FROM "ps_materialize"."user_traits" AS "t"
  WHERE
    "t"."name" IN ('preferred_category')
  GROUP BY
    "t"."canonical_segment_id"
), "la_traits" AS (
  SELECT
    "x"."profile_id",
    "x"."preferred_category" AS "preferred_category"
  FROM "la_traits_text" AS "x"
), "la_q1" AS (
  SELECT
    "i"."canonical_segment_id" AS "k0"
  FROM "ps_materialize"."user_identifiers" AS "i"
  JOIN "prod"."cart" AS "r2"
    ON "r2"."user_id" = "i"."value"
  JOIN "prod"."cart_product" AS "fj2"
    ON "fj2"."cart_id" = "r2"."id"
  JOIN "prod"."product" AS "f1"
    ON "f1"."sku" = "fj2"."product_sku"
  LEFT JOIN "la_traits" AS "tr3"
    ON "tr3"."profile_id" = "i"."canonical_segment_id"
  WHERE
    NOT "i"."canonical_segment_id" IS NULL
    AND NOT "r2"."id" IS NULL
    AND "i"."type" = 'user_id'
    AND NOT "i"."value" IS NULL
    AND (
      "r2"."status" = 'open'
      AND (
        NOT "f1"."sku" IS NULL AND "f1"."category" = "tr3"."preferred_category"
      )
    )
  GROUP BY
    "i"."canonical_segment_id"
), "la_members" AS (
  SELECT
    "u"."k0" AS "k0"
  FROM "la_q1" AS "u"
), "la_m1" AS (
  SELECT DISTINCT
    "mem"."k0" AS "k0",
    "r2"."id" AS "p0",
    "f2"."sku" AS "p1"
  FROM "la_members" AS "mem"
  JOIN "ps_materialize"."user_identifiers" AS "i1"
    ON "i1"."canonical_segment_id" = "mem"."k0" AND "i1"."type" = 'user_id'
  JOIN "prod"."cart" AS "r2"
    ON "r2"."user_id" = "i1"."value"
  JOIN "prod"."cart_product" AS "fj3"
    ON "fj3"."cart_id" = "r2"."id"
  JOIN "prod"."product" AS "f2"
    ON "f2"."sku" = "fj3"."product_sku"
  LEFT JOIN "la_traits" AS "tr4"
    ON "tr4"."profile_id" = "mem"."k0"
  WHERE
    NOT "r2"."id" IS NULL
    AND (
      "r2"."status" = 'open'
      AND (
        NOT "f2"."sku" IS NULL AND "f2"."category" = "tr4"."preferred_category"
      )
    )
), "la_m2" AS (
  SELECT DISTINCT
    "c"."k0" AS "k0",
    "c"."p0" AS "k1"
  FROM "la_m1" AS "c"
), "la_m3" AS (
  SELECT DISTINCT
    "c"."k0" AS "k0",
    "c"."p0" AS "k1",
    "c"."p1" AS "k2"
  FROM "la_m1" AS "c"
)
SELECT
  "m"."k0" AS "profile_id",
  'user-carts' AS "relationship",
  CAST("m"."k1" AS VARCHAR) AS "entity_id"
FROM "la_m2" AS "m"
UNION
SELECT
  "m"."k0" AS "profile_id",
  'cart-products' AS "relationship",
  CAST("m"."k2" AS VARCHAR) AS "entity_id"
FROM "la_m3" AS "m";
