"""A run's DuckDB memory budget: set for its statements, restored after, never a failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

import linked_audiences as la
from linked_audiences.runs import session as session_module
from linked_audiences.runs.session import RunSession, size_bytes
from linked_audiences.warehouse import Warehouse, WarehouseError

pytestmark = pytest.mark.duckdb


def _setting(w: Warehouse, name: str) -> Any:
    return w.scalar(f"SELECT current_setting('{name}')")


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    with la.connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as w:
        w.execute("SET memory_limit = '3GB'")
        yield w


@pytest.mark.unit
def test_sizes_read_as_duckdb_writes_them() -> None:
    assert size_bytes("100MB") == 100e6
    assert size_bytes("95.3 MiB") == pytest.approx(95.3 * 2**20)
    assert size_bytes("19.2 GiB") == pytest.approx(19.2 * 2**30)
    assert size_bytes("-1") is None and size_bytes("lots") is None


def test_a_run_sets_its_budget_and_restores_the_connections_settings(
    warehouse: Warehouse,
) -> None:
    names = ("memory_limit", "preserve_insertion_order", "force_compression")
    before = [_setting(warehouse, name) for name in names]
    with RunSession(warehouse) as session:
        assert size_bytes(_setting(warehouse, "memory_limit")) == pytest.approx(100e6, rel=0.05)
        assert _setting(warehouse, "preserve_insertion_order") is False
        assert _setting(warehouse, "force_compression") == "zstd"
        session.for_delivery()
        assert size_bytes(_setting(warehouse, "memory_limit")) == pytest.approx(32e6, rel=0.05)
        with RunSession(warehouse):  # another audience's run on the same database
            pass
        # the first run is still going: a run's budget stays, not the connection's 3GB
        assert size_bytes(_setting(warehouse, "memory_limit")) <= 100e6  # type: ignore[operator]
    assert [_setting(warehouse, name) for name in names] == before
    for _ in range(3):  # a limit read back and set again does not shrink run after run
        with RunSession(warehouse):
            pass
    assert _setting(warehouse, "memory_limit") == before[0]


def test_a_lower_limit_of_the_connection_stands(warehouse: Warehouse) -> None:
    warehouse.execute("SET memory_limit = '50MB'")
    with RunSession(warehouse):
        assert size_bytes(_setting(warehouse, "memory_limit")) == pytest.approx(50e6, rel=0.05)


def test_off_leaves_every_setting_alone(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(session_module.ENV, "off")
    with RunSession(warehouse):
        assert size_bytes(_setting(warehouse, "memory_limit")) == pytest.approx(3e9, rel=0.05)
        assert _setting(warehouse, "preserve_insertion_order") is True


def test_a_statement_out_of_memory_runs_again_with_the_connections_limit(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(session_module.ENV, "8MB")
    warehouse.execute("CREATE TABLE t (x TEXT)")
    big = exp.Insert(
        this=exp.to_table("t"),
        expression=exp.select("string_agg(CAST(range AS TEXT), ',' ORDER BY range DESC)").from_(
            "range(3000000)"
        ),
    )
    with caplog.at_level(logging.WARNING), RunSession(warehouse) as session:
        with pytest.raises(WarehouseError, match="Out of Memory"):
            warehouse.execute(big)  # within the budget: too little
        session.heavy(big)
        assert size_bytes(_setting(warehouse, "memory_limit")) == pytest.approx(3e9, rel=0.05)
    assert warehouse.scalar("SELECT count(*) FROM t") == 1
    assert "running it again with the connection's memory_limit" in caplog.text


def test_a_run_leaves_nothing_in_the_write_ahead_log(tmp_path: Path) -> None:
    """The run checkpoints within its budget, so closing the connection has nothing left
    to write with the connection's own (larger) limit."""
    from linked_audiences.demo import load_examples
    from linked_audiences.examples.generator import build_demo_warehouse
    from linked_audiences.runs.sinks import JsonLinesSink

    db = tmp_path / "w.duckdb"
    build_demo_warehouse(db, profiles=60, seed=4)
    graph, audiences = load_examples()
    audience = next(a for a in audiences if a.key == "premium_cardholders")
    wal = Path(f"{db}.wal")
    with la.connect(f"duckdb:///{db}") as w, JsonLinesSink(tmp_path / "e.jsonl") as sink:
        result = la.run(audience, graph, w, as_of="2026-11-01T00:00:00Z", sink=sink)
        assert result.stats.delivered > 0
        assert not wal.exists() or wal.stat().st_size == 0
