"""Shared fixtures and the ``--update-snapshots`` switch for golden files."""

from __future__ import annotations

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
