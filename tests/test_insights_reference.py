"""Insights agree with the reference evaluator on generated warehouses, on DuckDB and PostgreSQL.

hypothesis builds small graphs full of NULLs, hostile strings and shared entities with random
audiences (tests/reference/strategies.py). For each, the expected answers are computed from
the reference evaluator's members and from the generated rows in plain Python:

- ``overlap``: sizes and shared members of the main audience and the ones it may name;
- preview blocks: the members of each top-level condition alone;
- ``breakdown``: members with a non-NULL identifier of each type;
- ``export`` (unformatted): every member once, with the identifier a run would pick;
- ``explain``: every node that can stand alone holds exactly when the profile is a member of
  that node as an audience (nested nodes wrapped in "has a related row where …");
- ``impact`` with no run state: every member would enter.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings

import linked_audiences as la
from linked_audiences.conditions import (
    AT_LEAST_ONE,
    Condition,
    EntityCondition,
    EventCondition,
    GroupCondition,
    UsersCondition,
    iter_children,
)
from linked_audiences.dialects import get_dialect
from linked_audiences.errors import DefinitionError
from linked_audiences.insights.blocks import block_counts

from .reference.duckdb_loader import load_tables
from .reference.evaluator import evaluate
from .reference.strategies import Scenario, scenarios

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def on_duckdb(scenario: Scenario) -> Iterator[la.Warehouse]:
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        load_tables(con, scenario.graph, scenario.tables, scenario.column_types)
        yield la.Warehouse(get_dialect("duckdb"), con)
    finally:
        con.close()


@contextmanager
def on_postgres(dsn: str, scenario: Scenario) -> Iterator[la.Warehouse]:
    """Loaded in a transaction that is rolled back: each example starts clean."""
    import psycopg

    from .engines.postgres_loader import load_tables as load_pg

    with psycopg.connect(dsn) as conn:
        try:
            conn.execute("SET TIME ZONE 'UTC'")
            load_pg(conn, scenario.tables, scenario.column_types)
            yield la.Warehouse(get_dialect("postgres"), conn)
        finally:
            conn.rollback()


def members_of(scenario: Scenario, condition: Condition | None = None) -> frozenset[str]:
    audience = scenario.audience
    if condition is not None:
        audience = audience.model_copy(update={"condition": condition})
    result = evaluate(audience, scenario.graph, scenario.tables, scenario.as_of, scenario.audiences)
    return frozenset(str(m) for m in result.members)


def standalone(node: Condition, ancestors: list[Condition]) -> Condition:
    """The question an explanation answers for a node (written out again here, from the
    docs, rather than imported): the node itself, inside each ancestor reduced to "has a
    related row / any user where …"."""
    for ancestor in ancestors:
        if isinstance(ancestor, UsersCondition):
            node = ancestor.model_copy(update={"quantifier": "any", "where": node})
        else:
            node = ancestor.model_copy(
                update={"where": node, "without": False, "count": AT_LEAST_ONE, "aggregate": None}
            )
    return node


def nodes_with_ancestors(
    node: Condition, path: str = "$.condition", ancestors: list[Condition] | None = None
) -> Iterator[tuple[str, Condition, list[Condition]]]:
    ancestors = ancestors or []
    yield path, node, ancestors
    below = (
        [node, *ancestors]
        if isinstance(node, (EventCondition, EntityCondition, UsersCondition))
        else ancestors
    )
    for suffix, child in iter_children(node):
        yield from nodes_with_ancestors(child, path + suffix, below)


def check_insights(scenario: Scenario, warehouse: la.Warehouse, tmp: Path) -> None:
    graph, audience, known = scenario.graph, scenario.audience, scenario.audiences
    as_of = scenario.as_of
    members = members_of(scenario)

    # overlap: the main audience with every audience of its level it may name
    others = [a for a in known if a.level == audience.level]
    compared = [audience, *others]
    result = la.overlap(compared, graph, warehouse, as_of=as_of, audiences=known)
    expected_sets = {audience.key: members}
    for other in others:
        ref = evaluate(other, graph, scenario.tables, as_of, known)
        expected_sets[other.key] = frozenset(str(m) for m in ref.members)
    for key, _, size in result.audiences:
        assert size == len(expected_sets[key]), key
    for pair in result.pairs:
        shared = expected_sets[pair.a] & expected_sets[pair.b]
        assert pair.shared == len(shared), (pair.a, pair.b)

    # blocks
    root = audience.condition
    parts = [c for _, c in iter_children(root)] if isinstance(root, GroupCondition) else [root]
    blocks = block_counts(audience, graph, warehouse, as_of=as_of, audiences=known)
    assert [b.count for b in blocks] == [len(members_of(scenario, c)) for c in parts]

    # impact with no run state: a backfill
    impact = la.impact(audience, graph, warehouse, as_of=as_of, audiences=known)
    assert (impact.members, impact.entered, impact.exited) == (len(members), len(members), 0)
    assert impact.entering == tuple(sorted(members)[: len(impact.entering)])

    # explain: two members and one profile that is not
    profile_key = graph.profile.key
    everyone = sorted({str(r[profile_key]) for r in _profile_rows(scenario) if r[profile_key]})
    outsiders = [p for p in everyone if p not in members][:1]
    for profile in [*sorted(members)[:2], *outsiders]:
        explained = la.explain(audience, graph, warehouse, profile, as_of=as_of, audiences=known)
        assert explained.member == (profile in members)
        for path, node, ancestors in nodes_with_ancestors(root):
            got = explained.tree.find(path)
            question = standalone(node, ancestors)
            try:
                expected = profile in members_of(scenario, question)
            except DefinitionError:
                assert got.holds is None or path == "$.condition"
                continue
            assert got.holds == expected, (profile, path)

    if audience.level != "profile":
        return
    # breakdown
    counted = la.breakdown(audience, graph, warehouse, as_of=as_of, audiences=known)
    by_type: dict[str, set[str]] = {}
    for row in scenario.tables[graph.profile.identifiers_table]:
        profile, kind, value = row[profile_key], row["type"], row["value"]
        present = profile is not None and kind is not None and value is not None
        if present and str(profile) in members:
            by_type.setdefault(str(kind), set()).add(str(profile))
    assert counted.members == len(members)
    assert {s.type: s.count for s in counted.identifiers} == {k: len(v) for k, v in by_type.items()}

    # export, unformatted: each member once, with the greatest value of each type
    out = tmp / "members.csv"
    written = la.export(
        audience,
        graph,
        warehouse,
        out,
        format="unformatted",
        identifiers=["email", "user_id"],
        traits=[],
        as_of=as_of,
        audiences=known,
    )
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["profile_id", "identifiers", "traits"]
    assert written.rows == len(rows) - 1 == len(members)
    assert sorted(r[0] for r in rows[1:]) == sorted(members)
    for profile, ids, traits in rows[1:]:
        expected_ids = {}
        for kind in ("email", "user_id"):
            values = [
                str(r["value"])
                for r in scenario.tables[graph.profile.identifiers_table]
                if r[profile_key] is not None
                and str(r[profile_key]) == profile
                and r["type"] == kind
                and r["value"] is not None
            ]
            if values:
                expected_ids[kind] = max(values)
        assert json.loads(ids) == expected_ids, profile
        assert json.loads(traits) == {}


def _profile_rows(scenario: Scenario) -> list[dict[str, Any]]:
    graph = scenario.graph
    return [
        *scenario.tables.get(graph.profile.traits_table, []),
        *scenario.tables.get(graph.profile.identifiers_table, []),
    ]


@pytest.mark.duckdb
@SETTINGS
@given(scenario=scenarios())
def test_insights_match_reference_on_duckdb(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with on_duckdb(scenario) as warehouse:
        check_insights(scenario, warehouse, tmp_path_factory.mktemp("export"))


@pytest.mark.duckdb
@settings(SETTINGS, max_examples=30)
@given(scenario=scenarios(classic=True))
def test_insights_of_funnels_and_aggregates_match_reference_on_duckdb(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with on_duckdb(scenario) as warehouse:
        check_insights(scenario, warehouse, tmp_path_factory.mktemp("export"))


@pytest.mark.postgres
@settings(SETTINGS, max_examples=30)
@given(scenario=scenarios())
def test_insights_match_reference_on_postgres(
    postgres_dsn: str, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with on_postgres(postgres_dsn, scenario) as warehouse:
        check_insights(scenario, warehouse, tmp_path_factory.mktemp("export"))
