"""The delivery overview of each run (created, filtered, pending retry, failed, delivered) is
true after clean runs, sink failures, retries, kills and ``deliver``; older state reads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.cli import main as cli_main
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.runs import DeliveryFailed, deliver, run_log
from linked_audiences.runs import ledger as ledger_module
from linked_audiences.runs.sinks import CallableSink, JsonLinesSink

from .conftest import EXAMPLES, ROOT
from .harness.pg import demo_postgres
from .test_runs import AUDIENCE, T1, T2

KEY = AUDIENCE.key


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("overview") / "template.duckdb"
    build_demo_warehouse(path, profiles=120, seed=9)
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    shutil.copy(template, path)
    return path


@pytest.fixture
def warehouse(db: Path) -> Iterator[la.Warehouse]:
    with la.connect(f"duckdb:///{db}") as w:
        yield w


def _entry(w: la.Warehouse, run_id: str) -> dict[str, Any]:
    (entry,) = [e for e in run_log(w, KEY) if e["run_id"] == run_id]
    return entry


def _stored_events(w: la.Warehouse, run_id: str) -> tuple[int, int]:
    """(events, skipped) of a run, counted in plain SQL."""
    row = w.fetchall(
        "SELECT count(*), count(*) FILTER (WHERE skipped) FROM linked_audiences.la_events "
        f"WHERE run_id = '{run_id}'"
    )[0]
    return int(row[0]), int(row[1])


class FailingOn:
    """A sink that rejects its n-th batch (1-based) and accepts the others."""

    def __init__(self, *failing: int) -> None:
        self.failing, self.calls, self.received = set(failing), 0, []  # type: ignore[var-annotated]
        self.rejected: list[int] = []

    def send(self, events: Any) -> None:
        self.calls += 1
        if self.calls in self.failing:
            self.rejected.append(len(events))
            raise OSError("collector answered 503")
        self.received += list(events)


def test_clean_run_delivers_everything(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    received: list[dict[str, Any]] = []
    result = la.run(AUDIENCE, graph, warehouse, as_of=T1, sink=CallableSink(received.append))
    created, skipped = _stored_events(warehouse, result.run_id)
    delivery = _entry(warehouse, result.run_id)["delivery"]
    assert created > 0 and skipped == 0
    assert delivery["created"] == created
    assert delivery["delivered"] == len(received) == created
    assert delivery["pending_retry"] == delivery["failed"] == delivery["failed_attempts"] == 0
    assert result.stats.delivery is not None and result.stats.delivery.as_dict() == delivery


def test_failed_batch_then_retry(warehouse: la.Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rejected batch counts as failed (and pending) until a retry delivers it; then it
    is delivered and stays in ``failed``, which is history: one batch rejected once."""
    graph, _ = load_examples()
    monkeypatch.setattr(ledger_module, "BATCH", 5)
    sink = FailingOn(2)
    with pytest.raises(DeliveryFailed):
        la.run(AUDIENCE, graph, warehouse, as_of=T1, sink=sink)
    (entry,) = run_log(warehouse, KEY)
    created, _ = _stored_events(warehouse, entry["run_id"])
    d = entry["delivery"]
    assert sink.rejected == [5] and len(sink.received) == 5
    assert d == {
        "created": created,
        "filtered": d["filtered_unselected"],
        "filtered_over_32kb": 0,
        "filtered_unselected": d["filtered_unselected"],
        "pending_retry": created - 5,
        "failed": 5,
        "failed_attempts": 1,
        "delivered": 5,
    }
    # the record is in the state, append-only, with the rejected seq range
    rows = warehouse.fetchall(
        "SELECT run_id, after_seq, through_seq, events, error "
        "FROM linked_audiences.la_delivery_failures"
    )
    assert rows == [(entry["run_id"], 5, 10, 5, "OSError: collector answered 503")]

    # a second failure of the same batch: still 5 distinct events failed, two attempts
    with pytest.raises(OSError):
        deliver(warehouse, KEY, FailingOn(1))
    d = _entry(warehouse, entry["run_id"])["delivery"]
    assert (d["failed"], d["failed_attempts"], d["delivered"]) == (5, 2, 5)

    good: list[dict[str, Any]] = []
    sent = deliver(warehouse, KEY, CallableSink(good.append))
    d = _entry(warehouse, entry["run_id"])["delivery"]
    assert sent == len(good) == created - 5
    assert (d["delivered"], d["pending_retry"], d["failed"], d["failed_attempts"]) == (
        created,
        0,
        5,
        2,
    )


def test_a_run_after_a_failure_delivers_the_earlier_events(
    warehouse: la.Warehouse,
) -> None:
    graph, _ = load_examples()
    with pytest.raises(DeliveryFailed):
        la.run(AUDIENCE, graph, warehouse, as_of=T1, sink=FailingOn(1))
    received: list[dict[str, Any]] = []
    second = la.run(AUDIENCE, graph, warehouse, as_of=T2, sink=CallableSink(received.append))
    log = run_log(warehouse, KEY)
    first = log[-1]
    assert first["delivery"]["failed"] == first["delivery"]["delivered"] == first["events"]
    assert first["delivery"]["pending_retry"] == 0
    assert log[0]["delivery"]["delivered"] == second.stats.events
    assert len(received) == first["events"] + second.stats.events


def test_no_sink_counts_as_delivered_at_commit(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    result = la.run(AUDIENCE, graph, warehouse, as_of=T1)
    d = _entry(warehouse, result.run_id)["delivery"]
    assert d["delivered"] == len(list(result.events)) == d["created"] > 0


def _members_and_entities(w: la.Warehouse, as_of: str) -> tuple[set[Any], set[Any]]:
    """The compiled queries, run as plain SQL: what the diff compares."""
    graph, _ = load_examples()
    compiled = la.compile(AUDIENCE, graph, as_of=as_of)
    members = {p for (p,) in w.fetchall(compiled.profiles_sql)}
    entities = set(w.fetchall(compiled.entities_sql))
    return members, entities


def test_unselected_changes_are_filtered(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    only_entered = [la.Activation(trigger="audience_entered")]
    first = la.run(AUDIENCE, graph, warehouse, as_of=T1, activations=only_entered)
    second = la.run(AUDIENCE, graph, warehouse, as_of=T2, activations=only_entered)
    m1, e1 = _members_and_entities(warehouse, T1)
    m2, e2 = _members_and_entities(warehouse, T2)
    entered, exited = m2 - m1, m1 - m2
    # first run: the Identify of every member, an Entity Added for every matched entity
    assert first.stats.unselected_changes == len(m1) + len(e1)
    # then: exits, the Identify of every move, entities added and removed (values unchanged:
    # the data did not change between the runs)
    expected = len(exited) + len(entered) + len(exited) + len(e2 - e1) + len(e1 - e2)
    assert second.stats.unselected_changes == expected > 0
    d = _entry(warehouse, second.run_id)["delivery"]
    assert d["filtered_unselected"] == d["filtered"] == expected
    assert d["created"] == d["delivered"] == len(entered)


def test_a_backfill_not_sent_is_filtered(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    result = la.run(AUDIENCE, graph, warehouse, as_of=T1, send_backfill=False)
    members, entities = _members_and_entities(warehouse, T1)
    d = _entry(warehouse, result.run_id)["delivery"]
    # Entered and the Identify per member, Entity Added per matched entity
    assert d["filtered_unselected"] == 2 * len(members) + len(entities)
    assert d["created"] == d["delivered"] == 0


def test_events_over_32_kb_are_filtered(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    warehouse.execute(
        "UPDATE ps_materialize.user_traits SET value = repeat('x', 40000) "
        "WHERE name = 'first_name' AND canonical_segment_id IN (SELECT canonical_segment_id "
        "FROM ps_materialize.user_traits WHERE name = 'first_name' ORDER BY 1 LIMIT 40)"
    )
    activations = [
        la.Activation(trigger="audience_entered", traits=["first_name"]),
        la.Activation(trigger="audience_membership_changed"),
    ]
    received: list[dict[str, Any]] = []
    result = la.run(
        AUDIENCE,
        graph,
        warehouse,
        as_of=T1,
        activations=activations,
        sink=CallableSink(received.append),
    )
    created, skipped = _stored_events(warehouse, result.run_id)
    d = _entry(warehouse, result.run_id)["delivery"]
    assert skipped > 0 and d["filtered_over_32kb"] == skipped
    assert d["delivered"] == len(received) == created - skipped
    assert d["created"] == d["delivered"] + d["pending_retry"] + d["filtered_over_32kb"]
    assert d["pending_retry"] == 0


def test_overview_after_a_kill_between_send_and_watermark(template: Path, tmp_path: Path) -> None:
    """Killed after the sink took the batch, before the watermark: the run's events are
    pending (the sink has them, but nothing says so); ``deliver`` sends them again and
    then they count as delivered, once each."""
    db = tmp_path / "w.duckdb"
    shutil.copy(template, db)
    (tmp_path / "a.json").write_text(AUDIENCE.model_dump_json(), encoding="utf-8")
    out = tmp_path / "events.jsonl"
    killed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.harness.run_and_die",
            str(db),
            str(EXAMPLES / "graph.yaml"),
            str(tmp_path / "a.json"),
            T1,
            str(out),
            "--die-after-send",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    in_file = len(out.read_text(encoding="utf-8").splitlines())
    with la.connect(f"duckdb:///{db}") as w:
        (entry,) = run_log(w, KEY)
        d = entry["delivery"]
        assert d["created"] == in_file == d["pending_retry"] > 0
        assert d["delivered"] == d["failed"] == 0  # a kill is no rejection
        deliver(w, KEY, JsonLinesSink(out))
        d = run_log(w, KEY)[0]["delivery"]
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 * in_file and len({e["messageId"] for e in lines}) == in_file
    assert d["delivered"] == in_file and d["pending_retry"] == 0


def test_state_of_an_earlier_version_still_reads(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    first = la.run(AUDIENCE, graph, warehouse, as_of=T1)
    # the state as the version before delivery overviews made it
    warehouse.execute("ALTER TABLE linked_audiences.la_runs DROP COLUMN unselected_changes")
    warehouse.execute("DROP TABLE linked_audiences.la_delivery_failures")
    warehouse.execute("DROP TABLE linked_audiences.la_alerts")
    warehouse.execute("UPDATE linked_audiences.la_runs SET size_alert = true")
    (entry,) = run_log(warehouse, KEY)
    assert entry["unselected_changes"] == 0 and entry["delivery"]["filtered_unselected"] == 0
    assert entry["delivery"]["delivered"] == first.stats.events
    second = la.run(AUDIENCE, graph, warehouse, as_of=T2, events_alert_percent=10)
    assert second.previous_run_id == first.run_id
    assert run_log(warehouse, KEY)[0]["delivery"]["created"] == second.stats.events


def test_runs_command_shows_the_overview(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    graph, _ = load_examples()
    monkeypatch.setattr(ledger_module, "BATCH", 5)
    with la.connect(f"duckdb:///{db}") as w, pytest.raises(DeliveryFailed):
        la.run(AUDIENCE, graph, w, as_of=T1, sink=FailingOn(2))
    url = f"duckdb:///{db}"
    assert cli_main(["runs", KEY, "--warehouse", url]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[7:13] == [
        "events",
        "filtered",
        "pending",
        "failed",
        "delivered",
        "seconds",
    ]
    assert cli_main(["runs", KEY, "--warehouse", url, "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    created = entry["events"]
    d = entry["delivery"]
    assert (d["created"], d["delivered"], d["failed"], d["pending_retry"]) == (
        created,
        5,
        5,
        created - 5,
    )
    cells = row.split()
    assert cells[7:12] == [
        f"{created:,}",
        f"{d['filtered']:,}",
        f"{created - 5:,}",
        "5",
        "5",
    ]


@pytest.mark.postgres
def test_overview_on_postgres(
    template: Path, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, _ = load_examples()
    monkeypatch.setattr(ledger_module, "BATCH", 5)
    with demo_postgres(template, postgres_dsn) as w:
        with pytest.raises(DeliveryFailed):
            la.run(AUDIENCE, graph, w, as_of=T1, sink=FailingOn(2))
        (entry,) = run_log(w, KEY)
        created = int(
            w.scalar(
                "SELECT count(*) FROM linked_audiences.la_events "
                f"WHERE run_id = '{entry['run_id']}'"
            )
        )
        d = entry["delivery"]
        assert (d["created"], d["delivered"], d["failed"], d["pending_retry"]) == (
            created,
            5,
            5,
            created - 5,
        )
        received: list[dict[str, Any]] = []
        second = la.run(AUDIENCE, graph, w, as_of=T2, sink=CallableSink(received.append))
        log = run_log(w, KEY)
        assert log[-1]["delivery"]["delivered"] == created
        assert log[-1]["delivery"]["failed_attempts"] == 1
        assert log[0]["delivery"]["delivered"] == second.stats.events
        assert len(received) == created - 5 + second.stats.events
