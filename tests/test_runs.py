"""la.run: the events of a run are exactly the diff of two evaluations (SPEC §4)."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.loading import validate_data
from linked_audiences.runs import DeliveryFailed, RunConflict, RunInProgress, run_log
from linked_audiences.runs import engine as engine_module
from linked_audiences.runs import ledger as ledger_module
from linked_audiences.runs.sinks import CallableSink

from .harness.pg import demo_postgres
from .reference.evaluator import evaluate

pytestmark = pytest.mark.duckdb

T1, T2 = "2026-10-20T00:00:00Z", "2026-11-01T00:00:00Z"
AUDIENCE = validate_data(
    la.Audience,
    {
        "key": "cart_or_browse",
        "name": "Cart or browse",
        "condition": {
            "type": "group",
            "operator": "or",
            "conditions": [
                {
                    "type": "entity",
                    "relationship": "user-carts",
                    "where": {
                        "type": "column",
                        "column": "updated_at",
                        "operator": "within_last",
                        "value": 7,
                    },
                },
                {
                    "type": "event",
                    "event": "Page Viewed",
                    "count": {"at_least": 2},
                    "window": {"within_last_days": 7},
                },
            ],
        },
    },
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runs") / "template.duckdb"
    build_demo_warehouse(path, profiles=120, seed=9)
    return path


@pytest.fixture
def warehouse(template: Path, tmp_path: Path) -> Iterator[la.Warehouse]:
    db = tmp_path / "w.duckdb"
    db.write_bytes(template.read_bytes())
    with la.connect(f"duckdb:///{db}") as w:
        yield w


def _tables(w: la.Warehouse) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for schema, name in w.fetchall(
        "SELECT table_schema, table_name FROM information_schema."
        "tables WHERE table_schema IN ('ps_materialize', 'prod', "
        "'segment')"
    ):
        cursor = w.connection.execute(f'SELECT * FROM "{schema}"."{name}"')
        cols = [d[0] for d in cursor.description]
        tables[f"{schema}.{name}"] = [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]
    return tables


def _numbers_as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _rows(w: la.Warehouse, run_id: str) -> set[tuple[Any, ...]]:
    return set(
        w.fetchall(
            "SELECT trigger, profile_id, relationship, entity_id FROM linked_audiences.la_events "
            f"WHERE run_id = '{run_id}'"
        )
    )


def _expected(tables: dict[str, Any], before: Any, after: Any) -> set[tuple[Any, ...]]:
    entered = after.members - before.members
    exited = before.members - after.members
    added = after.entities - before.entities
    removed = before.entities - after.entities
    return (
        {("audience_entered", p, None, None) for p in entered}
        | {("audience_exited", p, None, None) for p in exited}
        | {("audience_membership_changed", p, None, None) for p in entered | exited}
        | {("entity_added", p, r, e) for p, r, e in added}
        | {("entity_removed", p, r, e) for p, r, e in removed}
    )


def _evaluate(w: la.Warehouse, as_of: str) -> Any:
    graph, _ = load_examples()
    return evaluate(AUDIENCE, graph, _tables(w), la.compile(AUDIENCE, graph, as_of=as_of).as_of)


def test_events_are_the_reference_diff(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    first = la.run(AUDIENCE, graph, warehouse, as_of=T1)
    second = la.run(AUDIENCE, graph, warehouse, as_of=T2)
    empty = type(_evaluate(warehouse, T1))(frozenset(), frozenset())
    at_t1, at_t2 = _evaluate(warehouse, T1), _evaluate(warehouse, T2)
    assert _rows(warehouse, first.run_id) == _expected({}, empty, at_t1)  # the backfill
    assert _rows(warehouse, second.run_id) == _expected({}, at_t1, at_t2)
    assert second.stats.entered == len(at_t2.members - at_t1.members) > 0
    assert second.stats.exited == len(at_t1.members - at_t2.members) > 0
    assert second.previous_run_id == first.run_id
    third = la.run(AUDIENCE, graph, warehouse, as_of=T2)
    assert third.stats.events == 0 and list(third.events) == []


def test_no_backfill_records_the_baseline_only(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    first = la.run(AUDIENCE, graph, warehouse, as_of=T1, send_backfill=False)
    assert first.stats.events == 0 and first.stats.members > 0
    second = la.run(AUDIENCE, graph, warehouse, as_of=T2)
    assert second.stats.events > 0
    assert second.stats.entered + second.stats.exited < first.stats.members + second.stats.members


def test_payloads(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    activations = [
        la.Activation(trigger="audience_entered", traits=["loyalty_tier", "lifetime_value"]),
        la.Activation(trigger="audience_membership_changed"),
        la.Activation(
            trigger="entity_added", relationship="user-carts", entity_columns=["status", "total"]
        ),
    ]
    result = la.run(AUDIENCE, graph, warehouse, as_of=T1, activations=activations)
    events = list(result.events)
    kinds = {(e["type"], e.get("event")) for e in events}
    assert kinds == {("track", "Audience Entered"), ("identify", None), ("track", "Entity Added")}
    for event in events:
        assert event["timestamp"] == "2026-10-20T00:00:00.000Z"
        assert event["context"] == {
            "personas": {"computation_key": "cart_or_browse", "computation_class": "audience"}
        }
        assert event["userId"] or event["anonymousId"]
        if event["type"] == "identify":
            assert event["traits"] == {"cart_or_browse": True}
            continue
        props = event["properties"]
        assert props["audience_key"] == "cart_or_browse" and props["cart_or_browse"] is True
        assert props["audience_name"] == "Cart or browse"
        if event["event"] == "Audience Entered":
            assert {"loyalty_tier", "lifetime_value"} <= set(props)
        else:
            assert props["relationship"] == "user-carts" and props["entity_id"]
            assert {"user-carts__status", "user-carts__total"} <= set(props)
    rows = warehouse.fetchall(
        "SELECT trigger, profile_id, relationship, entity_id, message_id "
        "FROM linked_audiences.la_events"
    )
    for trigger, profile, relationship, entity, message in rows:
        parts = ["cart_or_browse", result.run_id, trigger, profile, relationship, entity]
        framed = "".join("~" if p is None else f"{len(p)}:{p}" for p in parts)
        assert message == hashlib.md5(framed.encode()).hexdigest()
    assert len({m for *_, m in rows}) == len(rows)


def test_events_over_32_kb_are_skipped_and_counted(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    warehouse.execute(
        "UPDATE ps_materialize.user_traits SET value = repeat('x', 40000) WHERE name = 'first_name'"
    )
    result = la.run(
        AUDIENCE,
        graph,
        warehouse,
        as_of=T1,
        activations=[la.Activation(trigger="audience_entered", traits=["first_name"])],
    )
    skipped = result.stats.skipped_events
    with_name = warehouse.scalar(
        "SELECT count(*) FROM linked_audiences.la_members m JOIN ps_materialize.user_traits t "
        "ON t.canonical_segment_id = m.profile_id AND t.name = 'first_name'"
    )
    assert skipped == with_name > 0
    assert len(list(result.events)) == result.stats.events - skipped


def test_failing_sink_leaves_events_pending(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()

    def broken(events: Any) -> None:
        raise OSError("collector unreachable")

    with pytest.raises(DeliveryFailed, match="committed, but delivering its events failed"):
        la.run(AUDIENCE, graph, warehouse, as_of=T1, sink=CallableSink(broken, batch=True))
    received: list[dict[str, Any]] = []
    second = la.run(AUDIENCE, graph, warehouse, as_of=T2, sink=CallableSink(received.append))
    first_run = run_log(warehouse, "cart_or_browse")[-1]
    stamps = [e["timestamp"] for e in received]
    # the first run's events come first, then the second run's
    assert stamps[: first_run["events"]] == ["2026-10-20T00:00:00.000Z"] * first_run["events"]
    assert set(stamps[first_run["events"] :]) == {"2026-11-01T00:00:00.000Z"}
    assert second.stats.delivered == len(received) == first_run["events"] + second.stats.events
    again: list[dict[str, Any]] = []
    la.run(AUDIENCE, graph, warehouse, as_of=T2, sink=CallableSink(again.append))
    assert again == []  # nothing is delivered twice


def test_no_sink_hands_pending_events_to_the_caller(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    with pytest.raises(DeliveryFailed):
        la.run(
            AUDIENCE,
            graph,
            warehouse,
            as_of=T1,
            sink=CallableSink(lambda e: (_ for _ in ()).throw(OSError("down"))),
        )
    result = la.run(AUDIENCE, graph, warehouse, as_of=T2)
    stamps = {e["timestamp"] for e in result.events}
    assert stamps == {"2026-10-20T00:00:00.000Z", "2026-11-01T00:00:00.000Z"}


def test_concurrent_commit_from_the_same_baseline_fails(
    warehouse: la.Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, _ = load_examples()
    la.run(AUDIENCE, graph, warehouse, as_of=T1)
    commit = engine_module._commit

    def competitor_first(ledger: Any, run_id: str, previous: Any, *args: Any) -> None:
        commit(ledger, "competitor", previous, *args)  # another process won the race
        commit(ledger, run_id, previous, *args)

    monkeypatch.setattr(engine_module, "_commit", competitor_first)
    with pytest.raises(RunConflict, match="committed from the same baseline first"):
        la.run(AUDIENCE, graph, warehouse, as_of=T2)
    log = run_log(warehouse, "cart_or_browse")
    assert sorted(e["status"] for e in log) == ["committed", "committed", "failed"]
    (failed,) = [e for e in log if e["status"] == "failed"]
    assert "RunConflict" in failed["error"]
    assert "competitor" in {e["run_id"] for e in log}


def test_entity_values_changed(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    changes = [
        la.Activation(
            trigger="entity_values_changed", relationship="user-carts", entity_columns=["total"]
        )
    ]
    la.run(AUDIENCE, graph, warehouse, as_of=T2, activations=changes)
    cart = warehouse.scalar("SELECT entity_id FROM linked_audiences.la_entities LIMIT 1")
    warehouse.execute(f"UPDATE prod.cart SET total = total + 1 WHERE id = '{cart}'")
    result = la.run(AUDIENCE, graph, warehouse, as_of=T2, activations=changes)
    events = list(result.events)
    assert [(e["event"], e["properties"]["entity_id"]) for e in events] == [
        ("Entity Values Changed", cart)
    ]
    assert result.stats.entities_changed == 1


def test_run_log_alerts_and_keeps_fifty(
    warehouse: la.Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, _ = load_examples()
    monkeypatch.setattr(ledger_module, "KEEP_RUNS", 3)
    days = ["2026-10-10", "2026-10-20", "2026-10-21", "2026-11-01", "2026-11-02"]
    for day in days:
        la.run(AUDIENCE, graph, warehouse, as_of=f"{day}T00:00:00Z", size_alert_percent=20)
    log = run_log(warehouse, "cart_or_browse")
    assert [str(e["as_of"])[:10] for e in log] == days[::-1][:3]
    for entry in log:
        assert entry["members"] is not None and entry["query_seconds"] >= 0
    moved = [
        abs(a["members"] - b["members"]) * 100 > 20 * b["members"]
        for a, b in itertools.pairwise(log)
    ]
    assert [e["size_alert"] for e in log[:-1]] == moved


def test_failed_run_is_logged_and_leaves_no_state(
    warehouse: la.Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, _ = load_examples()

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("warehouse went away")

    monkeypatch.setattr(engine_module, "_diff_counts", boom)
    with pytest.raises(RuntimeError, match="went away"):
        la.run(AUDIENCE, graph, warehouse, as_of=T1)
    monkeypatch.undo()
    log = run_log(warehouse, "cart_or_browse")
    assert [(e["status"], "went away" in e["error"]) for e in log] == [("failed", True)]
    result = la.run(AUDIENCE, graph, warehouse, as_of=T1)
    assert result.previous_run_id is None and result.stats.entered == result.stats.members
    orphans = warehouse.scalar(
        f"SELECT count(*) FROM linked_audiences.la_members WHERE run_id <> '{result.run_id}'"
    )
    assert orphans == 0


# -- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
def pg_warehouse(template: Path, postgres_dsn: str) -> Iterator[la.Warehouse]:
    """The demo rows in a fresh PostgreSQL database."""
    with demo_postgres(template, postgres_dsn) as warehouse:
        yield warehouse


@pytest.mark.postgres
def test_runs_on_postgres_match_duckdb(pg_warehouse: la.Warehouse, warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    enriched = {(a.trigger, a.relationship) for a in ENRICHED}
    defaults = [
        a
        for a in la.runs.default_activations(AUDIENCE)
        if (a.trigger, a.relationship) not in enriched  # each change is activated once
    ]
    results = {}
    for name, w in (("duckdb", warehouse), ("postgres", pg_warehouse)):
        first = la.run(AUDIENCE, graph, w, as_of=T1, activations=[*ENRICHED, *defaults])
        second = la.run(AUDIENCE, graph, w, as_of=T2, activations=[*ENRICHED, *defaults])
        # run ids differ per engine, so compare payloads without their messageIds; a JSON
        # number may be spelt 324 or 324.0 depending on the engine
        payloads = sorted(
            json.dumps(
                _numbers_as_floats({k: v for k, v in e.items() if k != "messageId"}), sort_keys=True
            )
            for e in second.events
        )
        results[name] = (_rows(w, first.run_id), _rows(w, second.run_id), payloads)
    assert any('"user-carts": [{' in p for p in results["duckdb"][2])
    assert results["postgres"] == results["duckdb"]
    assert results["postgres"][0]


@pytest.mark.postgres
def test_postgres_run_lock(pg_warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    other = la.connect(pg_warehouse.url)
    try:
        assert other.scalar(other.dialect.run_lock("cart_or_browse"))  # another session holds it
        with pytest.raises(RunInProgress, match="another session is running"):
            la.run(AUDIENCE, graph, pg_warehouse, as_of=T1)
    finally:
        other.close()  # the session ends: its lock goes with it
    assert la.run(AUDIENCE, graph, pg_warehouse, as_of=T1).stats.members > 0


@pytest.mark.postgres
def test_postgres_state_indexes_event_pages(pg_warehouse: la.Warehouse) -> None:
    """Delivery reads events by (audience, run, seq) range: on PostgreSQL an index makes each
    page a range scan instead of a scan of every audience's events. Made once, kept."""
    graph, _ = load_examples()
    la.run(AUDIENCE, graph, pg_warehouse, as_of=T1)
    la.run(AUDIENCE, graph, pg_warehouse, as_of=T2)  # ensure() again: IF NOT EXISTS
    rows = pg_warehouse.fetchall(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'la_events' "
        "AND indexname = 'la_events_page'"
    )
    assert len(rows) == 1
    assert "(audience_key, run_id, seq)" in str(rows[0][0])


ENRICHED = [
    la.Activation(
        trigger="audience_entered",
        traits=["loyalty_tier"],
        entities=[la.EntityEnrichment(relationship="user-carts", columns=["id", "status"])],
    ),
    la.Activation(
        trigger="entity_added",
        relationship="user-carts",
        entity_columns=["total"],
        entities=[la.EntityEnrichment(relationship="user-carts", columns=["id"])],
    ),
]


def test_other_entities_as_arrays(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    result = la.run(AUDIENCE, graph, warehouse, as_of=T1, activations=ENRICHED)
    matched = {}
    for p, e in warehouse.fetchall(
        "SELECT profile_id, entity_id FROM linked_audiences.la_entities"
    ):
        matched.setdefault(p, set()).add(e)
    users = dict(
        warehouse.fetchall(
            "SELECT coalesce(user_id, anonymous_id), profile_id FROM linked_audiences.la_members"
        )
    )
    for event in result.events:
        carts = event["properties"]["user-carts"]
        profile = users[event["userId"] or event["anonymousId"]]
        assert {c["id"] for c in carts} == matched.get(profile, set())
        assert all(c["__entity"] == "cart" for c in carts)
        if event["event"] == "Audience Entered":
            assert set(carts[0]) == {"id", "status", "__entity"} if carts else carts == []


def test_activations_are_checked_before_anything_runs(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    bad = [
        la.Activation(
            trigger="audience_entered",
            traits=["nope"],
            entities=[la.EntityEnrichment(relationship="ghost", columns=["x"])],
        ),
        la.Activation(trigger="entity_added", relationship="user-carts", entity_columns=["colour"]),
    ]
    with pytest.raises(la.DefinitionError) as caught:
        la.run(AUDIENCE, graph, warehouse, as_of=T1, activations=bad)
    assert [str(p) for p in caught.value.problems] == [
        "$.activations[0].traits: unknown trait 'nope'",
        "$.activations[0].entities[0].relationship: unknown relationship 'ghost'",
        "$.activations[1]: unknown column 'colour' of entity 'cart'",
    ]
    assert (
        warehouse.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'linked_audiences'"
        )
        == 0
    )
