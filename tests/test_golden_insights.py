"""Golden SQL of every insight's main query in every dialect, reviewed in diffs.

Each insight is run against a warehouse that records the first query it is asked (after the
catalog, which answers "nothing found") and stops there: the overlap of three example
audiences, a breakdown, the values of a trait, an event property and an entity column, a
formatted export, an explanation, an impact and the blocks of a preview. Every statement
must re-parse in its own dialect, so a golden file is valid SQL there.

Refresh after an intended change:
``./scripts/test tests/test_golden_insights.py --update-snapshots``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

import linked_audiences as la
from linked_audiences.dialects import DIALECTS, get_dialect
from linked_audiences.insights.blocks import block_counts

from .conftest import ROOT
from .snapshots import assert_matches_snapshot

AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)
GOLDEN = ROOT / "tests" / "golden" / "insights"

pytestmark = pytest.mark.unit


class _Asked(Exception):
    def __init__(self, sql: str) -> None:
        self.sql = sql


class Recorder(la.Warehouse):
    """Answers the catalog with nothing and stops at the first query, handing back its SQL."""

    def __init__(self, dialect: str) -> None:
        super().__init__(get_dialect(dialect), connection=None)

    def catalog(self, names: set[str]) -> tuple[list[tuple[Any, ...]], str]:
        return [], ""

    def fetchall(self, query: exp.Expr | str) -> list[tuple[Any, ...]]:
        raise _Asked(self.sql(query))

    def fetch_batches(self, query: exp.Expr | str, size: int = 10_000) -> Iterator[Any]:
        raise _Asked(self.sql(query))


def _insights(
    graph: la.DataGraph, audiences: dict[str, la.Audience], out: Path
) -> dict[str, Callable[[la.Warehouse], object]]:
    known = list(audiences.values())
    premium = audiences["premium_cardholders"]
    spenders = audiences["big_spenders_90d"]
    return {
        "overlap": lambda w: la.overlap(
            [premium, audiences["high_value_loyalty"], audiences["upsell_premium"]],
            graph,
            w,
            as_of=AS_OF,
            audiences=known,
        ),
        "breakdown": lambda w: la.breakdown(premium, graph, w, as_of=AS_OF, audiences=known),
        "suggest_trait": lambda w: la.suggest(graph, w, trait="loyalty_tier", as_of=AS_OF),
        "suggest_event_property": lambda w: la.suggest(
            graph, w, event="Order Completed", property="currency"
        ),
        "suggest_entity_column": lambda w: la.suggest(
            graph, w, relationship="account-cards", column="card_type"
        ),
        "export": lambda w: la.export(
            audiences["high_value_loyalty"], graph, w, out, as_of=AS_OF, audiences=known
        ),
        "explain": lambda w: la.explain(
            spenders, graph, w, "use_0011b4d2ff6b", as_of=AS_OF, audiences=known
        ),
        "impact": lambda w: la.impact(premium, graph, w, as_of=AS_OF, audiences=known),
        "blocks": lambda w: block_counts(
            audiences["high_value_loyalty"], graph, w, as_of=AS_OF, audiences=known
        ),
    }


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_golden_insight_sql(
    dialect: str,
    demo_graph: la.DataGraph,
    example_audiences: list[la.Audience],
    update_snapshots: bool,
    tmp_path: Path,
) -> None:
    by_key = {a.key: a for a in example_audiences}
    for name, insight in _insights(demo_graph, by_key, tmp_path / "x.csv").items():
        with pytest.raises(_Asked) as asked:
            insight(Recorder(dialect))
        sql = asked.value.sql
        sqlglot_dialect = get_dialect(dialect).sqlglot_dialect
        reparsed = sqlglot.parse_one(sql, read=sqlglot_dialect)
        assert reparsed.sql(dialect=sqlglot_dialect, identify=True) == sql, name
        pretty = sqlglot.transpile(sql, read=sqlglot_dialect, write=sqlglot_dialect, pretty=True)
        text = (
            f"-- insight: {name}\n-- dialect: {dialect}; as_of: {AS_OF.isoformat()}\n"
            "-- refresh: ./scripts/test tests/test_golden_insights.py --update-snapshots\n\n"
            f"{pretty[0]};\n"
        )
        assert_matches_snapshot(GOLDEN / dialect / f"{name}.sql", text, update=update_snapshots)


def test_no_stale_golden_insight_files(
    demo_graph: la.DataGraph, example_audiences: list[la.Audience], tmp_path: Path
) -> None:
    names = set(_insights(demo_graph, {a.key: a for a in example_audiences}, tmp_path))
    expected = {f"{d}/{n}.sql" for d in DIALECTS for n in names}
    found = {f"{p.parent.name}/{p.name}" for p in GOLDEN.glob("*/*.sql")}
    assert found == expected
