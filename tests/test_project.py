"""run-due over a project folder, and the warehouse table sink."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

import linked_audiences as la
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.runs.project import run_due, run_order
from linked_audiences.runs.table_sink import WarehouseTableSink

from .conftest import EXAMPLES

pytestmark = pytest.mark.duckdb

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    build_demo_warehouse(tmp_path / "w.duckdb", profiles=200, seed=4)
    (tmp_path / "audiences").mkdir()
    for key in ("premium_cardholders", "high_value_loyalty", "upsell_premium"):
        shutil.copy(EXAMPLES / "audiences" / f"{key}.json", tmp_path / "audiences")
    (tmp_path / "linked-audiences.yaml").write_text(
        yaml.safe_dump(
            {
                "graph": str(EXAMPLES / "graph.yaml"),
                "warehouse": f"duckdb:///{tmp_path / 'w.duckdb'}",
                "events_out": "events.jsonl",
                "schedules": {
                    "upsell_premium": {"type": "interval", "every": "1h"},
                    "high_value_loyalty": {"type": "interval", "every": "1d"},
                    "premium_cardholders": {"type": "manual"},
                },
            }
        ),
        encoding="utf-8",
    )
    return tmp_path


def test_dependencies_run_first(example_audiences: list[la.Audience]) -> None:
    order = run_order(example_audiences)
    assert order.index("high_value_loyalty") < order.index("upsell_premium")
    assert order.index("premium_cardholders") < order.index("upsell_premium")


def test_run_due_follows_schedules(project: Path) -> None:
    first = run_due(project, now=NOW)
    assert [(o.key, o.status) for o in first] == [
        ("high_value_loyalty", "ran"),
        ("premium_cardholders", "not due"),
        ("upsell_premium", "ran"),
    ]
    assert "manual runs only" in first[1].detail
    events = [json.loads(line) for line in (project / "events.jsonl").read_text().splitlines()]
    assert {e["context"]["personas"]["computation_key"] for e in events} == {
        "high_value_loyalty",
        "upsell_premium",
    }

    soon = run_due(project, now=NOW + timedelta(minutes=10))
    assert {o.status for o in soon} == {"not due"}
    assert soon[-1].detail == "next: 2026-11-01T10:00:00+00:00"

    later = run_due(project, now=NOW + timedelta(hours=1, seconds=1))
    assert [(o.key, o.status) for o in later] == [
        ("high_value_loyalty", "not due"),
        ("premium_cardholders", "not due"),
        ("upsell_premium", "ran"),
    ]


def test_run_due_command(project: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "linked_audiences", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    done = cli("run-due", str(project), "--now", NOW.isoformat())
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("ran      high_value_loyalty:")
    config = yaml.safe_load((project / "linked-audiences.yaml").read_text())
    config["schedules"]["ghost"] = {"type": "manual"}
    (project / "linked-audiences.yaml").write_text(yaml.safe_dump(config))
    bad = cli("run-due", str(project))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "$.schedules.ghost: no audience 'ghost'" in bad.stderr


def test_table_sink_holds_each_event_once(project: Path) -> None:
    graph = la.DataGraph.load(EXAMPLES / "graph.yaml")
    audience = la.Audience.load(project / "audiences" / "high_value_loyalty.json")
    with la.connect(f"duckdb:///{project / 'w.duckdb'}") as warehouse:
        sink = WarehouseTableSink(warehouse)
        result = la.run(audience, graph, warehouse, as_of=NOW, sink=sink)
        events = list(result.events)
        sink.send(events[:5])  # a batch sent again after a crash adds nothing
        rows = warehouse.fetchall("SELECT message_id, payload FROM linked_audiences.la_outbox")
    assert len(rows) == len(events) == result.stats.events > 0
    assert {m for m, _ in rows} == {e["messageId"] for e in events}
    assert all(json.loads(p)["messageId"] == m for m, p in rows)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linked_audiences", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_deliver_command_sends_pending_events(project: Path) -> None:
    graph = la.DataGraph.load(EXAMPLES / "graph.yaml")
    audience_file = project / "audiences" / "high_value_loyalty.json"
    audience = la.Audience.load(audience_file)

    def unreachable(events: object) -> None:
        raise OSError("collector unreachable")

    with la.connect(f"duckdb:///{project / 'w.duckdb'}") as warehouse:
        with pytest.raises(la.runs.DeliveryFailed):
            la.run(
                audience,
                graph,
                warehouse,
                as_of=NOW,
                sink=la.runs.sinks.CallableSink(unreachable, batch=True),
            )
        pending = la.runs.run_log(warehouse, audience.key)[0]["events"]
    out = project / "late.jsonl"
    done = _cli(
        "deliver",
        str(audience_file),
        "--warehouse",
        f"duckdb:///{project / 'w.duckdb'}",
        "--events-out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"delivered {pending:,} pending events"
    assert len(out.read_text().splitlines()) == pending > 0
    again = _cli(
        "deliver",
        "high_value_loyalty",
        "--warehouse",
        f"duckdb:///{project / 'w.duckdb'}",
        "--events-out",
        str(out),
    )
    assert again.stderr.strip() == "delivered 0 pending events"


def test_second_process_on_a_busy_duckdb_file_gets_one_line(project: Path) -> None:
    """DuckDB lets one process write a file: a concurrent run fails clearly, state intact."""
    db = project / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; "
            f"c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        busy = _cli(
            "run",
            str(EXAMPLES / "graph.yaml"),
            str(project / "audiences" / "high_value_loyalty.json"),
            "--warehouse",
            f"duckdb:///{db}",
            "--events-out",
            str(project / "e.jsonl"),
        )
    finally:
        holder.kill()
        holder.wait()
    assert busy.returncode == 2 and "Traceback" not in busy.stderr
    assert busy.stderr.startswith("error: cannot connect to duckdb:") and "lock" in busy.stderr
    ok = _cli(
        "run",
        str(EXAMPLES / "graph.yaml"),
        str(project / "audiences" / "high_value_loyalty.json"),
        "--warehouse",
        f"duckdb:///{db}",
        "--events-out",
        str(project / "e.jsonl"),
    )
    assert ok.returncode == 0, ok.stderr
