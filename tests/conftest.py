"""Shared fixtures and the ``--update-snapshots`` switch for golden files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import linked_audiences as la
from linked_audiences.loading import load_audience_folder

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite golden files (SQL, JSON Schema) from the current code instead of comparing",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that touch no warehouse are `unit`, so `-m unit` is the fast loop."""
    engine_markers = {"duckdb", "postgres"}
    for item in items:
        if not engine_markers & {m.name for m in item.iter_markers()}:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-snapshots"))


@pytest.fixture(scope="session")
def demo_graph() -> la.DataGraph:
    return la.DataGraph.load(EXAMPLES / "graph.yaml")


@pytest.fixture(scope="session")
def example_audiences() -> list[la.Audience]:
    return load_audience_folder(EXAMPLES / "audiences")


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL server for this test session (Debian's package; scripts/test installs it)."""
    from .engines.postgres_server import find_bin_dir, running_postgres

    if find_bin_dir() is None:
        pytest.skip(
            "PostgreSQL is not installed: apt-get install postgresql (scripts/test "
            "does this when it runs as root)"
        )
    with running_postgres() as dsn:
        yield dsn
