-- run SQL: changes_entity_removed
-- dialect: snowflake; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

SELECT
  "c"."profile_id",
  "c"."entity_id",
  COALESCE("mn"."user_id", "mp"."user_id") AS "user_id",
  COALESCE("mn"."anonymous_id", "mp"."anonymous_id") AS "anonymous_id",
  NOT "mn"."profile_id" IS NULL AS "member_now"
FROM "linked_audiences"."la_entities" AS "c"
LEFT JOIN "linked_audiences"."la_members" AS "mn"
  ON "mn"."run_id" = '20261101T000000Z-000000000002'
  AND "mn"."audience_key" = 'cart_or_browse'
  AND "mn"."profile_id" = "c"."profile_id"
LEFT JOIN "linked_audiences"."la_members" AS "mp"
  ON "mp"."run_id" = '20261020T000000Z-000000000001'
  AND "mp"."audience_key" = 'cart_or_browse'
  AND "mp"."profile_id" = "c"."profile_id"
WHERE
  "c"."run_id" = '20261020T000000Z-000000000001'
  AND "c"."audience_key" = 'cart_or_browse'
  AND "c"."relationship" = 'user-carts'
  AND NOT EXISTS(
    SELECT
      1
    FROM "linked_audiences"."la_entities" AS "p"
    WHERE
      "p"."run_id" = '20261101T000000Z-000000000002'
      AND "p"."audience_key" = 'cart_or_browse'
      AND "p"."profile_id" = "c"."profile_id"
      AND "p"."relationship" = "c"."relationship"
      AND "p"."entity_id" = "c"."entity_id"
  );
