"""Runs under stress: ids that never collide, edited definitions, backdated runs, the lock.

Every test here pins a way a run could lose an event, send one twice, or share one
``messageId`` between two different changes (SPEC §4), on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlglot import exp

import linked_audiences as la
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.loading import validate_data
from linked_audiences.runs import DeliveryFailed, RunInProgress, run_log
from linked_audiences.runs import engine as engine_module
from linked_audiences.runs.events import message_id
from linked_audiences.runs.fingerprint import definition_fingerprint
from linked_audiences.runs.sinks import CallableSink
from linked_audiences.sql import string

from .conftest import EXAMPLES
from .harness.pg import demo_postgres, pg_url

T1, T2 = "2026-10-20T00:00:00Z", "2026-11-01T00:00:00Z"
KEY = "cart_or_browse"
BROWSE = {
    "type": "event",
    "event": "Page Viewed",
    "count": {"at_least": 2},
    "window": {"within_last_days": 7},
}
RECENT_CART = {
    "type": "entity",
    "relationship": "user-carts",
    "where": {"type": "column", "column": "updated_at", "operator": "within_last", "value": 7},
}
#: names a relationship: its runs snapshot matched carts
WITH_ENTITIES = validate_data(
    la.Audience,
    {
        "key": KEY,
        "name": "Cart or browse",
        "condition": {"type": "group", "operator": "or", "conditions": [RECENT_CART, BROWSE]},
    },
)
#: the same key edited to name no relationship: its snapshots hold no entities
WITHOUT_ENTITIES = validate_data(la.Audience, {"key": KEY, "name": "Browse", "condition": BROWSE})


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hardening") / "template.duckdb"
    build_demo_warehouse(path, profiles=120, seed=9)
    return path


@pytest.fixture
def duck(template: Path, tmp_path: Path) -> Iterator[la.Warehouse]:
    db = tmp_path / "w.duckdb"
    db.write_bytes(template.read_bytes())
    with la.connect(f"duckdb:///{db}") as w:
        yield w


@pytest.fixture
def pg(template: Path, postgres_dsn: str) -> Iterator[la.Warehouse]:
    with demo_postgres(template, postgres_dsn) as w:
        yield w


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest) -> la.Warehouse:
    """The demo warehouse on each engine that runs."""
    name = "duck" if request.param == "duckdb" else "pg"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def graph() -> la.DataGraph:
    return la.DataGraph.load(EXAMPLES / "graph.yaml")


def _changes(w: la.Warehouse, run_id: str) -> Counter[tuple[Any, ...]]:
    return Counter(
        w.fetchall(
            "SELECT trigger, profile_id, relationship, entity_id FROM linked_audiences.la_events "
            f"WHERE run_id = '{run_id}'"
        )
    )


def _entities(w: la.Warehouse, run_id: str) -> set[tuple[Any, ...]]:
    return set(
        w.fetchall(
            "SELECT profile_id, relationship, entity_id FROM linked_audiences.la_entities "
            f"WHERE run_id = '{run_id}'"
        )
    )


# -- 1. one messageId per change ------------------------------------------------------------


def _expected_message_id(parts: Sequence[str | None]) -> str:
    """Each part length-prefixed (NULL as ``~``), so no two part lists give one text."""
    text = "".join("~" if p is None else f"{len(p)}:{p}" for p in parts)
    return hashlib.md5(text.encode()).hexdigest()


def _two_paths_graph() -> la.DataGraph:
    """The demo graph where products are reached both as cart contents and as favourites."""
    data = yaml.safe_load((EXAMPLES / "graph.yaml").read_text(encoding="utf-8"))
    carts = next(r for r in data["relationships"] if r["slug"] == "user-carts")
    products = next(r for r in carts["relationships"] if r["slug"] == "cart-products")
    carts["relationships"].append(
        {**products, "slug": "cart-favourites", "name": "Favourite products"}
    )
    return la.DataGraph.model_validate(data)


def test_one_entity_by_two_relationships_has_two_message_ids(warehouse: la.Warehouse) -> None:
    graph = _two_paths_graph()
    audience = validate_data(
        la.Audience,
        {
            "key": "liked_and_carted",
            "name": "Liked and carted",
            "condition": {
                "type": "entity",
                "relationship": "user-carts",
                "where": {
                    "type": "group",
                    "operator": "and",
                    "conditions": [
                        {"type": "entity", "relationship": "cart-products"},
                        {"type": "entity", "relationship": "cart-favourites"},
                    ],
                },
            },
        },
    )
    result = la.run(audience, graph, warehouse, as_of=T1)
    added = [e for e in result.events if e.get("event") == "Entity Added"]
    by_entity = Counter(
        (e["userId"], e["anonymousId"], e["properties"]["entity_id"]) for e in added
    )
    assert any(n == 2 for n in by_entity.values()), "a product reached by both relationships"
    assert len({e["messageId"] for e in result.events}) == result.stats.events
    rows = warehouse.fetchall(
        "SELECT trigger, profile_id, relationship, entity_id, message_id "
        "FROM linked_audiences.la_events"
    )
    for trigger, profile, relationship, entity, message in rows:
        parts = ["liked_and_carted", result.run_id, trigger, profile, relationship, entity]
        assert message == _expected_message_id(parts)


@pytest.mark.parametrize(
    "one, other",
    [
        (["a|b", "c"], ["a", "b|c"]),
        (["1:a", "b"], ["1", "a1:b"]),
        ([None, "x"], ["", "x"]),
        ([None, "x"], ["~", "x"]),
    ],
)
def test_message_id_parts_are_unambiguous(
    warehouse: la.Warehouse, one: list[str | None], other: list[str | None]
) -> None:
    def in_sql(parts: list[str | None]) -> str:
        values: list[exp.Expr] = [
            exp.cast(exp.null(), "TEXT") if p is None else string(p) for p in parts
        ]
        return str(warehouse.scalar(exp.select(message_id(values))))

    assert in_sql(one) != in_sql(other)
    assert in_sql(one) == _expected_message_id(one)


# -- 2. the diff compares snapshots, not definitions ---------------------------------------


def test_edited_definition_emits_the_snapshot_difference(
    warehouse: la.Warehouse, graph: la.DataGraph
) -> None:
    first = la.run(WITH_ENTITIES, graph, warehouse, as_of=T1)
    matched = _entities(warehouse, first.run_id)
    assert {r for _, r, _ in matched} == {"user-carts"}
    # edited to name no relationship: every matched entity is removed, once
    second = la.run(WITHOUT_ENTITIES, graph, warehouse, as_of=T1)
    changes = _changes(warehouse, second.run_id)
    removed = {(p, r, e) for (t, p, r, e), n in changes.items() if t == "entity_removed"}
    assert removed == matched
    assert max(changes.values()) == 1
    assert not any(t == "entity_added" for t, *_ in changes)
    assert second.stats.entities_removed == len(matched)
    sent = [e for e in second.events if e.get("event") == "Entity Removed"]
    assert {e["properties"]["relationship"] for e in sent} == {"user-carts"}
    assert len(sent) == len(matched)
    # restored: the snapshot before was empty, so each entity is added again — after its
    # removal, never twice in a row
    third = la.run(WITH_ENTITIES, graph, warehouse, as_of=T1)
    changes = _changes(warehouse, third.run_id)
    added = {(p, r, e) for (t, p, r, e) in changes if t == "entity_added"}
    assert added == matched
    assert not any(t == "entity_removed" for t, *_ in changes)
    assert third.stats.entities_added == len(matched)
    assert la.run(WITH_ENTITIES, graph, warehouse, as_of=T1).stats.events == 0


def test_edited_relationships_remove_the_old_and_add_the_new(
    warehouse: la.Warehouse, graph: la.DataGraph
) -> None:
    accounts = validate_data(
        la.Audience,
        {
            "key": KEY,
            "name": "Accounts or browse",
            "condition": {
                "type": "group",
                "operator": "or",
                "conditions": [{"type": "entity", "relationship": "user-accounts"}, BROWSE],
            },
        },
    )
    first = la.run(WITH_ENTITIES, graph, warehouse, as_of=T1)
    before = _entities(warehouse, first.run_id)  # kept only until the next run commits
    second = la.run(accounts, graph, warehouse, as_of=T1)
    after = _entities(warehouse, second.run_id)
    changes = _changes(warehouse, second.run_id)
    assert {(p, r, e) for t, p, r, e in changes if t == "entity_removed"} == before - after
    assert {(p, r, e) for t, p, r, e in changes if t == "entity_added"} == after - before
    assert before - after and after - before


def test_each_run_records_its_definition_fingerprint(
    warehouse: la.Warehouse, graph: la.DataGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    la.run(WITH_ENTITIES, graph, warehouse, as_of=T1)
    la.run(WITH_ENTITIES, graph, warehouse, as_of=T1)
    la.run(WITHOUT_ENTITIES, graph, warehouse, as_of=T1)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("warehouse went away")

    monkeypatch.setattr(engine_module, "_diff_counts", boom)
    with pytest.raises(RuntimeError):
        la.run(WITH_ENTITIES, graph, warehouse, as_of=T1)
    failed, edited, again, first = run_log(warehouse, KEY)
    assert [e["status"] for e in (failed, edited, again, first)] == ["failed"] + ["committed"] * 3
    prints = [e["definition_fingerprint"] for e in (failed, edited, again, first)]
    assert all(isinstance(p, str) and len(p) == 64 for p in prints)
    assert prints[0] == prints[2] == prints[3] != prints[1]


def test_fingerprint_column_is_added_to_an_older_state(
    duck: la.Warehouse, graph: la.DataGraph
) -> None:
    """State tables made before fingerprints existed gain the column on the next run."""
    la.run(WITH_ENTITIES, graph, duck, as_of=T1)
    for table in ("la_runs", "la_run_failures"):
        duck.execute(f"ALTER TABLE linked_audiences.{table} DROP COLUMN definition_fingerprint")
    la.run(WITH_ENTITIES, graph, duck, as_of=T2)
    latest, older = run_log(duck, KEY)
    assert latest["definition_fingerprint"] and older["definition_fingerprint"] is None


# -- 3. backdated runs ----------------------------------------------------------------------


def _state_counts(w: la.Warehouse) -> dict[str, int]:
    tables = [
        "la_runs",
        "la_run_failures",
        "la_run_starts",
        "la_members",
        "la_entities",
        "la_events",
        "la_deliveries",
    ]
    return {t: int(w.scalar(f"SELECT count(*) FROM linked_audiences.{t}")) for t in tables}


def test_backdated_run_is_refused_before_anything_is_written(
    warehouse: la.Warehouse, graph: la.DataGraph
) -> None:
    def down(events: Any) -> None:
        raise OSError("collector unreachable")

    with pytest.raises(DeliveryFailed):  # committed, its events pending
        la.run(WITH_ENTITIES, graph, warehouse, as_of=T2, sink=CallableSink(down, batch=True))
    before = _state_counts(warehouse)
    received: list[dict[str, Any]] = []
    with pytest.raises(la.DefinitionError) as caught:
        la.run(WITH_ENTITIES, graph, warehouse, as_of=T1, sink=CallableSink(received.append))
    (problem,) = caught.value.problems
    assert problem.path == "$"
    assert "2026-10-20T00:00:00" in problem.rule and "2026-11-01T00:00:00" in problem.rule
    assert "allow_backdated" in problem.rule
    assert received == [] and _state_counts(warehouse) == before
    # asked for explicitly, it runs from the latest committed baseline
    last = run_log(warehouse, KEY)[0]["run_id"]
    result = la.run(
        WITH_ENTITIES,
        graph,
        warehouse,
        as_of=T1,
        sink=CallableSink(received.append),
        allow_backdated=True,
    )
    assert result.previous_run_id == last and received


def test_same_as_of_is_not_backdated(warehouse: la.Warehouse, graph: la.DataGraph) -> None:
    first = la.run(WITH_ENTITIES, graph, warehouse, as_of=T2)
    again = la.run(WITH_ENTITIES, graph, warehouse, as_of=T2)
    assert again.previous_run_id == first.run_id and again.stats.events == 0


# -- 4. the PostgreSQL run lock lasts one run -----------------------------------------------


@pytest.mark.postgres
def test_two_connections_take_turns(pg: la.Warehouse, graph: la.DataGraph) -> None:
    other = la.connect(pg.url)
    try:
        for n in range(3):
            for w in (pg, other):
                assert la.run(WITH_ENTITIES, graph, w, as_of=T1).stats.members > 0, n
        la.runs.deliver(pg, KEY, CallableSink(lambda e: None))
        la.run(WITH_ENTITIES, graph, other, as_of=T1)
    finally:
        other.close()


@pytest.mark.postgres
def test_a_failed_run_releases_the_lock(
    pg: la.Warehouse, graph: la.DataGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("warehouse went away")

    other = la.connect(pg.url)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(engine_module, "_diff_counts", boom)
            with pytest.raises(RuntimeError, match="went away"):
                la.run(WITH_ENTITIES, graph, pg, as_of=T1)
        assert la.run(WITH_ENTITIES, graph, other, as_of=T1).stats.members > 0
    finally:
        other.close()


def test_a_run_in_progress_refuses_another_connection(
    warehouse: la.Warehouse, graph: la.DataGraph
) -> None:
    """Also on DuckDB, where two connections of one process share the database file."""
    pg = warehouse
    inside, release = threading.Event(), threading.Event()
    outcome: list[BaseException | la.RunResult] = []

    def blocking(events: Any) -> None:
        inside.set()
        assert release.wait(timeout=120), "never released"

    def first_run() -> None:
        try:
            outcome.append(
                la.run(WITH_ENTITIES, graph, pg, as_of=T1, sink=CallableSink(blocking, batch=True))
            )
        except BaseException as exc:  # reported by the main thread
            outcome.append(exc)

    other = la.connect(pg.url)
    worker = threading.Thread(target=first_run)
    worker.start()
    try:
        assert inside.wait(timeout=120), "the first run never reached its sink"
        with pytest.raises(RunInProgress):
            la.run(WITH_ENTITIES, graph, other, as_of=T1)
        with pytest.raises(RunInProgress):
            la.runs.deliver(other, KEY, CallableSink(lambda e: None))
    finally:
        release.set()
        worker.join(timeout=120)
    try:
        assert len(outcome) == 1 and isinstance(outcome[0], la.RunResult), outcome
        assert la.run(WITH_ENTITIES, graph, other, as_of=T1).previous_run_id == (outcome[0].run_id)
    finally:
        other.close()


@pytest.mark.postgres
def test_lock_query_pairs(postgres_dsn: str) -> None:
    """The unlock releases exactly what the lock took, for this session only."""
    one, two = (
        la.connect(pg_url(postgres_dsn, "postgres")),
        la.connect(pg_url(postgres_dsn, "postgres")),
    )
    try:
        lock, unlock = one.dialect.run_lock("k"), one.dialect.run_unlock("k")
        assert lock is not None and unlock is not None
        assert one.scalar(lock) and not two.scalar(lock)
        assert not two.scalar(unlock)  # not its lock
        assert one.scalar(unlock) and two.scalar(lock)
    finally:
        one.close()
        two.close()


# -- 5. other ways to lose or repeat an event -----------------------------------------------


def test_one_change_is_activated_once(duck: la.Warehouse, graph: la.DataGraph) -> None:
    """Two activations of one trigger and relationship would send each change twice under
    one messageId, with two different payloads."""
    twice = [
        la.Activation(trigger="audience_entered"),
        la.Activation(trigger="entity_added", relationship="user-carts"),
        la.Activation(trigger="audience_entered", traits=["loyalty_tier"]),
        la.Activation(trigger="entity_added", relationship="user-carts", entity_columns=["total"]),
        la.Activation(trigger="entity_removed", relationship="user-carts"),
    ]
    with pytest.raises(la.DefinitionError) as caught:
        la.run(WITH_ENTITIES, graph, duck, as_of=T1, activations=twice)
    assert [str(p) for p in caught.value.problems] == [
        "$.activations[2]: trigger 'audience_entered' is already activated by "
        "$.activations[0]; each change is sent once, so merge their enrichment",
        "$.activations[3]: trigger 'entity_added' of relationship 'user-carts' is already "
        "activated by $.activations[1]; each change is sent once, so merge their enrichment",
    ]


def test_a_failed_cleanup_after_commit_loses_no_event(
    duck: la.Warehouse, graph: la.DataGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a sink, a run's events count as delivered once it commits: a failure after
    the commit must still hand them to the caller."""

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("pruning failed")

    with monkeypatch.context() as patched:
        patched.setattr(la.runs.ledger.Ledger, "prune", boom)
        result = la.run(WITH_ENTITIES, graph, duck, as_of=T1)
    assert len(list(result.events)) == result.stats.events > 0
    second = la.run(WITH_ENTITIES, graph, duck, as_of=T1)  # prunes what the first left
    assert second.stats.events == 0
    assert duck.scalar("SELECT count(DISTINCT run_id) FROM linked_audiences.la_members") == 1


def test_baseline_is_the_last_link_not_the_latest_clock(
    warehouse: la.Warehouse, graph: la.DataGraph
) -> None:
    """Runs committed from machines whose clocks disagree: the baseline is the run no other
    committed run follows, whatever ``committed_at`` says."""
    la.run(WITH_ENTITIES, graph, warehouse, as_of=T1)
    second = la.run(WITHOUT_ENTITIES, graph, warehouse, as_of=T1)
    warehouse.execute(
        "UPDATE linked_audiences.la_runs SET committed_at = committed_at - INTERVAL '1 day' "
        f"WHERE run_id = '{second.run_id}'"
    )
    third = la.run(WITHOUT_ENTITIES, graph, warehouse, as_of=T1)
    assert third.previous_run_id == second.run_id and third.stats.events == 0


def test_fingerprint_follows_the_definition_not_its_spelling(graph: la.DataGraph) -> None:
    spelled_out = validate_data(
        la.Audience,
        {
            "condition": {**BROWSE, "without": False},
            "include_anonymous": False,
            "name": "Browse",
            "key": KEY,
        },
    )
    base = definition_fingerprint(WITHOUT_ENTITIES, graph)
    assert definition_fingerprint(spelled_out, graph) == base
    renamed = WITHOUT_ENTITIES.model_copy(update={"name": "Browsers"})
    assert definition_fingerprint(renamed, graph) != base
    # the audiences it refers to are part of it; others are not
    inner = validate_data(la.Audience, {"key": "inner", "name": "Inner", "condition": BROWSE})
    other = validate_data(la.Audience, {"key": "other", "name": "Other", "condition": BROWSE})
    outer = validate_data(
        la.Audience,
        {"key": "outer", "name": "Outer", "condition": {"type": "audience", "key": "inner"}},
    )
    with_inner = definition_fingerprint(outer, graph, [inner, other])
    assert definition_fingerprint(outer, graph, [inner]) == with_inner
    edited_inner = inner.model_copy(update={"include_anonymous": True})
    assert definition_fingerprint(outer, graph, [edited_inner, other]) != with_inner
