-- run SQL: commit
-- dialect: duckdb; audience: cart_or_browse; run: 20261101T000000Z-000000000002; baseline: 20261020T000000Z-000000000001; as_of: 2026-11-01T00:00:00+00:00
-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots

INSERT INTO "linked_audiences"."la_runs" (
  "run_id",
  "audience_key",
  "previous_run_id",
  "as_of",
  "started_at",
  "committed_at",
  "members",
  "entered",
  "exited",
  "entities_added",
  "entities_removed",
  "entities_changed",
  "events",
  "skipped_events",
  "compile_seconds",
  "query_seconds",
  "diff_seconds",
  "events_seconds",
  "size_alert",
  "definition_fingerprint",
  "unselected_changes"
)
VALUES
  (
    '20261101T000000Z-000000000002',
    'cart_or_browse',
    '20261020T000000Z-000000000001',
    CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-11-01T00:05:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-11-01T00:05:00+00:00' AS TIMESTAMPTZ),
    120,
    7,
    3,
    5,
    2,
    0,
    17,
    0,
    0.01,
    0.5,
    0.2,
    0.3,
    FALSE,
    'fingerprint',
    4
  );
