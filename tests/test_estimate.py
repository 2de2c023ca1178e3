"""la.estimate and ``linked-audiences estimate``: what a warehouse says before a run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.catalog import CatalogMismatch
from linked_audiences.cli import main
from linked_audiences.demo import load_examples
from linked_audiences.dialects import get_dialect
from linked_audiences.estimate import Estimate, format_estimate
from linked_audiences.examples.generator import build_demo_warehouse

from .conftest import EXAMPLES
from .harness.pg import demo_postgres

AS_OF = "2026-11-01T00:00:00Z"
GRAPH = str(EXAMPLES / "graph.yaml")
AUDIENCE_FILE = str(EXAMPLES / "audiences" / "abandoned_cart_7d.json")


def _audience() -> la.Audience:
    return la.Audience.load(AUDIENCE_FILE)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("estimate") / "demo.duckdb"
    build_demo_warehouse(path, profiles=30, seed=5)
    return path


@pytest.fixture
def duck(demo_file: Path) -> Iterator[la.Warehouse]:
    with la.connect(f"duckdb:///{demo_file}", read_only=True) as warehouse:
        yield warehouse


@pytest.mark.duckdb
def test_duckdb_answers_with_its_plan(duck: la.Warehouse) -> None:
    graph, audiences = load_examples()
    result = la.estimate(_audience(), graph, duck, as_of=AS_OF, audiences=audiences)
    assert result.dialect == "duckdb"
    assert result.bytes_scanned is None
    assert result.plan is not None
    # the drawn plan alone, without the row's key, and it reads the audience's tables
    assert not result.plan.startswith("physical_plan")
    assert "cart" in result.plan.lower()
    assert format_estimate(result).splitlines()[0] == "duckdb: query plan"


@pytest.mark.duckdb
def test_nothing_is_asked_when_the_graph_does_not_match(duck: la.Warehouse) -> None:
    graph, audiences = load_examples()
    data = graph.model_dump(mode="json", exclude_none=True)
    data["profile"]["traits_table"] = "ps_materialize.no_such_table"
    broken = la.DataGraph.model_validate(data)
    with pytest.raises(CatalogMismatch, match="no_such_table"):
        la.estimate(_audience(), broken, duck, as_of=AS_OF, audiences=audiences)


@pytest.mark.postgres
def test_postgres_answers_with_its_plan(demo_file: Path, postgres_dsn: str) -> None:
    graph, audiences = load_examples()
    with demo_postgres(demo_file, postgres_dsn) as warehouse:
        result = la.estimate(_audience(), graph, warehouse, as_of=AS_OF, audiences=audiences)
    assert (result.dialect, result.bytes_scanned) == ("postgres", None)
    assert result.plan is not None
    lines = result.plan.splitlines()
    assert len(lines) > 1 and "cost=" in lines[0]  # EXPLAIN's rows, one a line
    assert "Scan" in result.plan


# -- the command line ----------------------------------------------------------------------------


def _main(argv: list[str]) -> int:
    """The CLI's exit status, also when argparse refuses the arguments (SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.mark.duckdb
def test_cli_prints_the_plan(demo_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "estimate",
            GRAPH,
            AUDIENCE_FILE,
            "--warehouse",
            f"duckdb:///{demo_file}",
            "--as-of",
            AS_OF,
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.splitlines()[0] == "duckdb: query plan"
    assert len(out.out.splitlines()) > 2


@pytest.mark.duckdb
def test_cli_mistakes_are_one_line_and_exit_2(
    demo_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.duckdb"
    for args in (
        ["--warehouse", "nowhere://x"],
        ["--warehouse", f"duckdb:///{demo_file}", "--as-of", "yesterday"],
    ):
        assert _main(["estimate", GRAPH, AUDIENCE_FILE, *args]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
    # a warehouse without the graph's tables: one line per problem, exit 2, nothing created
    assert main(["estimate", GRAPH, AUDIENCE_FILE, "--warehouse", f"duckdb:///{missing}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not missing.exists()


def test_bytes_are_one_line() -> None:
    assert format_estimate(Estimate("bigquery", 1_610_612_736, None)) == (
        "bigquery: 1,610,612,736 bytes scanned (1.5 GiB)"
    )
    assert format_estimate(Estimate("bigquery", 10, None)) == "bigquery: 10 bytes scanned (10 B)"


# -- BigQuery: a dry run ---------------------------------------------------------------------------


class _Job:
    total_bytes_processed = 123_456


class _FakeBigQuery:
    """The adapter's connection surface a dry run uses: ``query(sql, config)``."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Any]] = []

    def query(self, sql: str, config: Any) -> _Job:
        self.asked.append((sql, config))
        return _Job()


def test_bigquery_estimates_with_a_dry_run() -> None:
    pytest.importorskip("google.cloud.bigquery")
    connection = _FakeBigQuery()

    def no_sql(query: Any) -> Any:
        raise AssertionError(f"BigQuery has no EXPLAIN; asked {query!r}")

    found = get_dialect("bigquery").estimate(connection, no_sql, "SELECT 1")
    assert found == (123_456, None)
    [(sql, config)] = connection.asked
    assert sql == "SELECT 1"
    assert config.dry_run is True and config.use_query_cache is False


TINY_GRAPH = {
    "profile": {
        "traits_table": "ds.traits",
        "traits_layout": "wide",
        "key": "pid",
        "identifiers_table": "ds.identifiers",
        "traits": {"tier": "string"},
    }
}
TINY_AUDIENCE = {
    "key": "gold",
    "name": "Gold",
    "condition": {"type": "trait", "trait": "tier", "operator": "equals", "value": "gold"},
}


@pytest.mark.bigquery
def test_bigquery_emulator_answers_a_dry_run(bigquery: Any, bigquery_endpoint: str) -> None:
    """bqemulator takes dry runs (and checks the query) but counts no bytes: it reports 0."""
    from .engines.bigquery_loader import drop_datasets, load_tables
    from .engines.bqemulator_server import PROJECT

    types = {
        "ds.traits": {"pid": "string", "tier": "string"},
        "ds.identifiers": {"pid": "string", "type": "string", "value": "string"},
    }
    tables = {
        "ds.traits": [{"pid": "p1", "tier": "gold"}, {"pid": "p2", "tier": "silver"}],
        "ds.identifiers": [{"pid": "p1", "type": "user_id", "value": "u1"}],
    }
    load_tables(bigquery, "ds", tables, types)
    url = (
        f"bigquery://{PROJECT}/ds?api_endpoint={bigquery_endpoint}&credentials=anonymous"
        "&retry_seconds=20"
    )
    try:
        graph = la.DataGraph.model_validate(TINY_GRAPH)
        audience = la.Audience.model_validate(TINY_AUDIENCE)
        with la.connect(url, read_only=True) as warehouse:
            result = la.estimate(audience, graph, warehouse, as_of=AS_OF)
            assert result == Estimate("bigquery", 0, None)
            broken = la.DataGraph.model_validate(
                {"profile": {**TINY_GRAPH["profile"], "traits_table": "ds.nope"}}
            )
            with pytest.raises(CatalogMismatch, match="nope"):
                la.estimate(audience, broken, warehouse, as_of=AS_OF)
    finally:
        drop_datasets(bigquery, "ds", types)
