-- run SQL: lock_session
-- dialect: postgres; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

SELECT
  PG_TRY_ADVISORY_LOCK(HASHTEXTEXTENDED('linked-audiences:cart_or_browse', 0));

SELECT
  PG_ADVISORY_UNLOCK(HASHTEXTEXTENDED('linked-audiences:cart_or_browse', 0));
