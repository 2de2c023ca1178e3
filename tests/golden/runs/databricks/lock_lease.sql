-- run SQL: lock_lease
-- dialect: databricks; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

INSERT INTO `linked_audiences`.`la_locks` (
  `audience_key`,
  `token`,
  `acquired_at`,
  `expires_at`,
  `released`
)
VALUES
  (
    'cart_or_browse',
    '20261101T000000Z-000000000002',
    1793491500.0,
    1793492400.0,
    FALSE
  );

SELECT
  `l`.`token`,
  `l`.`expires_at`,
  `l`.`released`
FROM `linked_audiences`.`la_locks` AS `l`
WHERE
  `l`.`audience_key` = 'cart_or_browse';
