"""The command line on a user's bad day: odd URLs, missing files, closed pipes, Ctrl-C, full
disks, foreign files. Each gives one line and a meaningful exit status, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import yaml

import linked_audiences as la
from linked_audiences import cli
from linked_audiences.demo import ensure_demo_warehouse
from linked_audiences.warehouse import WarehouseError, connect, is_interrupt

from .conftest import EXAMPLES

pytestmark = pytest.mark.duckdb

GRAPH = str(EXAMPLES / "graph.yaml")
AUDIENCE = str(EXAMPLES / "audiences" / "premium_cardholders.json")
AS_OF = "2026-11-01T00:00:00Z"


def _cli(
    *args: str, cwd: Path | None = None, code: int = 2, lines: int | None = 1
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "linked_audiences", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result
    if lines is not None:
        assert len(result.stderr.strip().splitlines()) == lines, result.stderr
    return result


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    ensure_demo_warehouse(path, profiles=2_000, seed=5, log=open(os.devnull, "w"))  # noqa: SIM115
    return path


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy (runs write their state into it)."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(demo_db, copy)
    return copy


# --- URLs and missing files -----------------------------------------------------------------


@pytest.mark.parametrize("url", ["demo.duckdb", "duckdb:/x.duckdb", "duckdb://host/x", "", "x://y"])
def test_bad_warehouse_urls_name_the_expected_forms(url: str) -> None:
    result = _cli("preview", GRAPH, AUDIENCE, "--warehouse", url)
    assert "duckdb:///" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["preview", GRAPH, AUDIENCE],
        ["run", GRAPH, AUDIENCE],
        ["runs", "premium_cardholders"],
        ["deliver", "premium_cardholders", "--events-out", "e.jsonl"],
        ["check", GRAPH],
    ],
)
def test_a_missing_duckdb_file_is_one_line_and_never_created(
    command: list[str], tmp_path: Path
) -> None:
    result = _cli(*command, "--warehouse", "duckdb:///missing.duckdb", cwd=tmp_path)
    assert result.stderr.strip() == "error: no such DuckDB file: missing.duckdb"
    assert list(tmp_path.iterdir()) == []


def test_connect_read_write_may_create_relative_to_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with la.connect("duckdb:///new.duckdb") as warehouse:
        warehouse.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert (tmp_path / "new.duckdb").is_file()
    with la.connect(f"duckdb:///{tmp_path / 'new.duckdb'}", read_only=True) as warehouse:
        assert warehouse.scalar("SELECT x FROM t") == 1
        with pytest.raises(WarehouseError):
            warehouse.execute("CREATE TABLE u AS SELECT 1 AS x")


def test_preview_opens_read_only(db: Path) -> None:
    """Another process holds the file read-only: a read-write open would be refused."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(db)!r}, read_only=True); "
            "print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = _cli(
            "preview", GRAPH, AUDIENCE, "--warehouse", f"duckdb:///{db}", "--as-of", AS_OF,
            code=0, lines=None,
        )  # fmt: skip
        assert "premium_cardholders" in result.stdout
    finally:
        holder.kill()
        holder.wait()


# --- warehouse errors -------------------------------------------------------------------------


def test_a_missing_table_in_preview_is_one_line_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = _cli("preview", GRAPH, AUDIENCE, "--warehouse", f"duckdb:///{empty}")
    assert "does not exist" in result.stderr and "linked-audiences check" in result.stderr


def test_interrupts_and_io_errors_map_to_exit_statuses() -> None:
    assert is_interrupt(duckdb.InterruptException("INTERRUPT Error: Interrupted!"))
    assert is_interrupt(RuntimeError("Query interrupted"))
    assert not is_interrupt(RuntimeError("something else"))
    assert cli.client_error_exit(duckdb.InterruptException("x")) == 130
    assert cli.client_error_exit(duckdb.IOException("No space left on device")) == 1
    assert cli.client_error_exit(ValueError("a bug")) is None


def test_ctrl_c_during_a_long_query_exits_130_in_one_line(tmp_path: Path) -> None:
    big = tmp_path / "big.duckdb"
    with duckdb.connect(str(big)) as con:
        con.execute(
            "CREATE VIEW traits AS SELECT CAST(a.range * 100000 + b.range AS VARCHAR) "
            "AS canonical_segment_id, a.range * 1.0 AS x "
            "FROM range(100000) a, range(100000) b"
        )
        con.execute(
            "CREATE VIEW ids AS SELECT canonical_segment_id, 'user_id' AS type, "
            "canonical_segment_id AS value FROM traits"
        )
    graph = tmp_path / "g.json"
    graph.write_text(
        json.dumps(
            {
                "profile": {
                    "traits_table": "traits",
                    "identifiers_table": "ids",
                    "traits": {"x": "number"},
                }
            }
        )
    )
    audience = tmp_path / "a.json"
    audience.write_text(
        json.dumps(
            {
                "key": "a",
                "name": "A",
                "condition": {
                    "type": "trait",
                    "trait": "x",
                    "operator": "greater_than",
                    "value": 5,
                },
            }
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "linked_audiences", "preview", str(graph), str(audience),
         "--warehouse", f"duckdb:///{big}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        time.sleep(3)  # the query runs for minutes; interrupt it mid-way
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # never leave a runaway query behind when the test fails
        process.wait()
    assert process.returncode == 130, stderr
    assert stderr.strip() == "interrupted"


def test_a_full_disk_is_one_line_exit_1(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a 1 MB tmpfs needs root")
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode:
        pytest.skip("this container may not mount a tmpfs")
    try:
        with (
            connect(f"duckdb:///{mount / 'w.duckdb'}") as warehouse,
            pytest.raises(WarehouseError) as caught,
        ):
            warehouse.execute(
                "CREATE TABLE t AS SELECT md5(range::VARCHAR) AS x FROM range(1000000)"
            )
            warehouse.execute("CHECKPOINT")
        assert not caught.value.catalog
        assert "\n" not in str(caught.value)
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# --- run: events on stdout, skipped events ------------------------------------------------------


def test_a_closed_pipe_leaves_the_events_pending_for_deliver(db: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean.duckdb"
    shutil.copy(db, clean)
    ok = _cli(
        "run", GRAPH, AUDIENCE, "--warehouse", f"duckdb:///{clean}", "--as-of", AS_OF,
        "--events-out", str(tmp_path / "clean.jsonl"), code=0,
    )  # fmt: skip
    expected = [json.loads(line) for line in (tmp_path / "clean.jsonl").read_text().splitlines()]
    assert len(expected) > 300  # more than a pipe buffer holds

    command = [sys.executable, "-m", "linked_audiences", "run", GRAPH, AUDIENCE,
               "--warehouse", f"duckdb:///{db}", "--as-of", AS_OF]  # fmt: skip
    piped = subprocess.run(
        ["bash", "-o", "pipefail", "-c", " ".join(f"'{part}'" for part in command) + " | head -1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert piped.returncode == 1, piped
    assert "Traceback" not in piped.stderr
    (message,) = [line for line in piped.stderr.splitlines() if line.startswith("error:")]
    assert "stay pending" in message and "linked-audiences deliver" in message
    first = json.loads(piped.stdout)

    out = tmp_path / "recovered.jsonl"
    _cli("deliver", "premium_cardholders", "--warehouse", f"duckdb:///{db}",
         "--events-out", str(out), code=0)  # fmt: skip
    recovered = [json.loads(line) for line in out.read_text().splitlines()]
    ids = {e["messageId"] for e in recovered} | {first["messageId"]}
    assert len(ids) == len(expected)
    assert f"{len(recovered):,} events stay pending" in message

    def shape(events: list[dict[str, object]]) -> list[str]:
        return sorted(
            json.dumps({k: v for k, v in e.items() if k != "messageId"}, sort_keys=True)
            for e in events
        )

    by_id = {e["messageId"]: e for e in [first, *recovered]}
    assert shape(list(by_id.values())) == shape(expected)
    assert ok.stdout == ""


def test_stream_sink_writes_what_a_raw_stream_left_over() -> None:
    from linked_audiences.runs.stream_sink import StreamSink

    class Raw:
        def __init__(self) -> None:
            self.data = b""

        def write(self, data: memoryview) -> int:
            self.data += bytes(data[:7])  # a pipe whose reader is slow: short writes
            return min(7, len(data))

        def flush(self) -> None:
            pass

    raw = Raw()
    sink = StreamSink(raw)  # type: ignore[arg-type]
    sink.send([{"messageId": "m1", "x": "é"}, {"messageId": "m2"}])
    assert [json.loads(line) for line in raw.data.decode().splitlines()] == [
        {"messageId": "m1", "x": "é"},
        {"messageId": "m2"},
    ]
    assert sink.written == 2


def test_run_writes_events_to_stdout_as_json_lines(db: Path) -> None:
    result = _cli(
        "run", GRAPH, AUDIENCE, "--warehouse", f"duckdb:///{db}", "--as-of", AS_OF,
        code=0,
    )  # fmt: skip
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events and f"{len(events):,} delivered" in result.stderr
    again = _cli("deliver", "premium_cardholders", "--warehouse", f"duckdb:///{db}",
                 "--events-out", str(db.parent / "none.jsonl"), code=0)  # fmt: skip
    assert again.stderr.strip() == "delivered 0 pending events"


def test_skipped_events_exit_1(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import linked_audiences.runs as runs
    from linked_audiences.runs.engine import RunStats

    real = runs.run

    def run_with_a_skip(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        stats = result.stats.__dict__ | {"skipped_events": 1}
        result.stats = RunStats(**stats)
        return result

    monkeypatch.setattr(runs, "run", run_with_a_skip)
    code = cli.main(["run", GRAPH, AUDIENCE, "--warehouse", f"duckdb:///{db}",
                     "--as-of", AS_OF, "--events-out", str(db.parent / "e.jsonl")])  # fmt: skip
    assert code == 1
    assert "1 events were not sent" in capsys.readouterr().err


# --- argument mistakes ---------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["0", "10001", "1" + "0" * 30, "-3", "x"])
def test_sample_is_bounded(sample: str) -> None:
    _cli("preview", GRAPH, AUDIENCE, "--warehouse", "duckdb://", "--sample", sample)


@pytest.mark.parametrize("pct", ["nan", "-1", "inf", "lots"])
def test_size_alert_is_a_percentage(pct: str) -> None:
    _cli("run", GRAPH, AUDIENCE, "--warehouse", "duckdb://", "--size-alert", pct)


def test_a_binary_definition_file(tmp_path: Path) -> None:
    (tmp_path / "g.yaml").write_bytes(bytes(range(128, 256)))
    assert "not UTF-8" in _cli("validate", str(tmp_path / "g.yaml"), AUDIENCE).stderr


def test_audiences_naming_a_file() -> None:
    result = _cli("preview", GRAPH, AUDIENCE, "--warehouse", "duckdb://", "--audiences", GRAPH)
    assert "not a folder of audience definitions" in result.stderr


def test_version_usage_and_help_for_newcomers() -> None:
    assert _cli("--version", code=0, lines=0).stdout.strip() == f"linked-audiences {la.__version__}"
    usage = _cli(code=2)
    assert usage.stderr.startswith("usage: linked-audiences")


def test_every_option_has_help() -> None:
    missing = []
    parser = cli.build_parser()
    parsers = [("", parser)]
    while parsers:
        name, current = parsers.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend((f"{name} {n}", p) for n, p in action.choices.items())
            if not action.help:
                missing.append(f"{name} {action.dest}")
    assert missing == []


# --- run-due -------------------------------------------------------------------------------------


def _project(folder: Path, db: Path, **extra: object) -> Path:
    (folder / "audiences").mkdir(parents=True)
    for key in ("premium_cardholders", "high_value_loyalty"):
        shutil.copy(EXAMPLES / "audiences" / f"{key}.json", folder / "audiences")
    shutil.copy(db, folder / "w.duckdb")
    (folder / "linked-audiences.yaml").write_text(
        yaml.safe_dump(
            {
                "graph": GRAPH,
                "warehouse": "duckdb:///w.duckdb",
                "events_out": "events.jsonl",
                "schedules": {
                    "premium_cardholders": {"type": "interval", "every": "1h"},
                    "high_value_loyalty": {"type": "interval", "every": "1h"},
                },
                **extra,
            }
        )
    )
    return folder


def test_run_due_resolves_the_project_duckdb_against_the_project_folder(
    db: Path, tmp_path: Path
) -> None:
    project = _project(tmp_path / "p", db)
    elsewhere = tmp_path / "cron"
    elsewhere.mkdir()
    result = _cli("run-due", str(project), "--now", AS_OF, cwd=elsewhere, code=0, lines=0)
    assert result.stdout.count("ran ") == 2
    assert list(elsewhere.iterdir()) == []
    assert (project / "events.jsonl").stat().st_size > 0

    (project / "w.duckdb").unlink()
    gone = _cli("run-due", str(project), "--now", AS_OF, cwd=elsewhere)
    assert gone.stderr.strip() == f"error: no such DuckDB file: {(project / 'w.duckdb')}"
    assert not (project / "w.duckdb").exists() and list(elsewhere.iterdir()) == []

    # --warehouse stays relative to the working folder
    shutil.copy(db, elsewhere / "other.duckdb")
    _cli("run-due", str(project), "--now", AS_OF, "--warehouse", "duckdb:///other.duckdb",
         cwd=elsewhere, code=0, lines=0)  # fmt: skip


def test_run_due_reports_every_audience_when_a_sink_cannot_start(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import linked_audiences.runs.segment_sink as sinks

    def missing() -> object:
        raise la.UnsupportedFeature("segment", "sending", 'pip install "linked-audiences[segment]"')

    monkeypatch.setattr(sinks, "_import_segment", missing)
    project = _project(tmp_path / "p", db, events_out="segment:KEY")
    assert cli.main(["run-due", str(project), "--now", AS_OF]) == 1
    out, err = capsys.readouterr()
    assert out.count("failed ") == 2 and "linked-audiences[segment]" in out
    assert err.strip() == "error: 2 of 2 audiences failed"


def test_run_due_rejects_an_unknown_sink_before_running(db: Path, tmp_path: Path) -> None:
    project = _project(tmp_path / "p", db, events_out="kafka:topic")
    assert "$.events_out" in _cli("run-due", str(project)).stderr


# --- demo ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rebuild", [False, True])
def test_demo_never_replaces_a_file_it_did_not_build(tmp_path: Path, rebuild: bool) -> None:
    mine = tmp_path / "mine.duckdb"
    with duckdb.connect(str(mine)) as con:
        con.execute("CREATE TABLE precious AS SELECT 42 AS answer")
    text = tmp_path / "notes.duckdb"
    text.write_text("my notes")
    for target in (mine, text):
        before = target.read_bytes()
        flags = ["--rebuild"] if rebuild else []
        result = _cli("demo", "--warehouse", str(target), "--profiles", "50", *flags)
        assert "was not built by `linked-audiences demo`" in result.stderr
        assert target.read_bytes() == before


def test_demo_rebuilds_its_own_file(demo_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "d.duckdb"
    shutil.copy(demo_db, copy)
    _cli("demo", "--warehouse", str(copy), "--profiles", "60", code=0, lines=None)
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("SELECT profiles FROM linked_audiences_demo_meta").fetchone() == (60,)


def test_a_backdated_run_is_a_definition_error_unless_allowed(db: Path, tmp_path: Path) -> None:
    url, out = f"duckdb:///{db}", str(tmp_path / "e.jsonl")
    _cli("run", GRAPH, AUDIENCE, "--warehouse", url, "--as-of", AS_OF, "--events-out", out,
         code=0, lines=None)  # fmt: skip
    earlier = "2026-10-01T00:00:00Z"
    refused = _cli("run", GRAPH, AUDIENCE, "--warehouse", url, "--as-of", earlier,
                   "--events-out", out)  # fmt: skip
    assert refused.stderr.startswith("error: ") and "--allow-backdated" in refused.stderr
    _cli("run", GRAPH, AUDIENCE, "--warehouse", url, "--as-of", earlier, "--events-out", out,
         "--allow-backdated", code=0, lines=None)  # fmt: skip


def test_la_run_refuses_a_graph_the_warehouse_no_longer_matches(db: Path) -> None:
    """A number column turned BOOLEAN would make members exit silently: refused up front."""
    graph = la.DataGraph.load(GRAPH)
    audience = la.Audience.load(AUDIENCE)
    with connect(f"duckdb:///{db}") as warehouse:
        warehouse.execute("ALTER TABLE prod.credit_card DROP COLUMN credit_limit")
        warehouse.execute("ALTER TABLE prod.credit_card ADD COLUMN credit_limit BOOLEAN")
        with pytest.raises(la.DefinitionError, match=r"credit_limit.*BOOLEAN") as caught:
            la.run(audience, graph, warehouse, as_of=AS_OF)
        assert caught.value.problems[0].path == "$.entities[1].columns.credit_limit"
        tables = {r[0] for r in warehouse.fetchall(
            "SELECT table_schema FROM information_schema.tables")}  # fmt: skip
        assert "linked_audiences" not in tables  # nothing was written
    result = _cli("run", GRAPH, AUDIENCE, "--warehouse", f"duckdb:///{db}", "--as-of", AS_OF)
    assert result.stderr.startswith(f"error: {GRAPH}: $.entities[1].columns.credit_limit")
