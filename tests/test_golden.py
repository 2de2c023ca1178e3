"""Golden SQL for every example audience in every dialect, reviewed in diffs.

Refresh after an intended change: ``./scripts/test tests/test_golden.py --update-snapshots``.
Every statement must also re-parse in its own dialect, so a golden file is valid SQL there.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlglot

import linked_audiences as la
from linked_audiences.dialects import DIALECTS

from .conftest import ROOT
from .snapshots import assert_matches_snapshot

AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)
GOLDEN = ROOT / "tests" / "golden"


def _render(compiled: la.CompiledAudience) -> str:
    audience = compiled.audience
    return (
        f"-- audience: {audience.key} ({audience.name})\n"
        f"-- dialect: {compiled.dialect.name}; as_of: {compiled.as_of.isoformat()}\n"
        "-- refresh: ./scripts/test tests/test_golden.py --update-snapshots\n\n"
        f"-- members\n{compiled.sql(pretty=True)};\n\n"
        f"-- matched entities\n{compiled.sql(pretty=True, entities=True)};\n"
    )


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_golden_sql(
    dialect: str,
    demo_graph: la.DataGraph,
    example_audiences: list[la.Audience],
    update_snapshots: bool,
) -> None:
    for audience in example_audiences:
        compiled = la.compile(
            audience, demo_graph, dialect=dialect, as_of=AS_OF, audiences=example_audiences
        )
        for sql in (compiled.profiles_sql, compiled.entities_sql):
            reparsed = sqlglot.parse_one(sql, read=compiled.dialect.sqlglot_dialect)
            assert reparsed.sql(dialect=compiled.dialect.sqlglot_dialect, identify=True) == sql
        assert_matches_snapshot(
            GOLDEN / dialect / f"{audience.key}.sql", _render(compiled), update=update_snapshots
        )


def test_no_stale_golden_files(example_audiences: list[la.Audience]) -> None:
    expected = {f"{d}/{a.key}.sql" for d in DIALECTS for a in example_audiences}
    found = {f"{p.parent.name}/{p.name}" for p in GOLDEN.glob("*/*.sql")}
    assert found == expected


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_rendering_leaves_the_tree_unchanged(
    dialect: str, demo_graph: la.DataGraph, example_audiences: list[la.Audience]
) -> None:
    """Compiled queries render without sqlglot's defensive copy (``render(copy=False)``):
    that is only right while no dialect rewrite touches the trees the compiler builds. The TPC-H
    benchmark audiences add the shapes the examples lack (a split ``or``, counts, six
    levels)."""
    from linked_audiences.loading import load_audience_folder

    tpch = ROOT / "benchmarks" / "tpch"
    tpch_graph = la.DataGraph.load(tpch / "graph.yaml")
    tpch_audiences = load_audience_folder(tpch / "audiences")
    cases = [(demo_graph, example_audiences), (tpch_graph, tpch_audiences)]
    for graph, audiences in cases:
        for audience in audiences:
            compiled = la.compile(
                audience, graph, dialect=dialect, as_of=AS_OF, audiences=audiences
            )
            for tree in (compiled.expression, compiled.entities_expression):
                before = tree.copy()
                first = compiled.dialect.render(tree, copy=False)
                assert tree == before, (audience.key, dialect)
                assert compiled.dialect.render(tree, copy=False) == first
