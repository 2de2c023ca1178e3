"""Alerts of a run: membership size and delivered-event volume, recorded in the run log,
printed by ``run`` and posted to a webhook (a real local HTTP server here); a failing
webhook leaves the committed run standing."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

import linked_audiences as la
from linked_audiences.cli import main as cli_main
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.runs import DeliveryFailed, run_log
from linked_audiences.runs.project import run_due
from linked_audiences.runs.sinks import CallableSink

from .conftest import EXAMPLES
from .harness.pg import demo_postgres
from .test_runs import AUDIENCE, T1, T2

KEY = AUDIENCE.key
SECRET_PATH = "/services/T000/B000/s3cr3t"


class Hook:
    """A local webhook: records every POST; answers ``status``."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                hook.posts.append(
                    {
                        "path": self.path,
                        "type": self.headers.get("Content-Type"),
                        "json": json.loads(body),
                    }
                )
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alerts") / "template.duckdb"
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


def _closed_port_url() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/hook"


def _three_runs(
    w: la.Warehouse, hook_url: str | None, **options: Any
) -> tuple[list[la.RunResult], list[int]]:
    """T1 (the backfill), T2 (changes), T2 again (nothing changed): the results and the
    number of events each run's sink received."""
    graph, _ = load_examples()
    results, received = [], []
    for as_of in (T1, T2, T2):
        got: list[dict[str, Any]] = []
        results.append(
            la.run(
                AUDIENCE,
                graph,
                w,
                as_of=as_of,
                sink=CallableSink(got.append),
                events_alert_percent=50,
                alert_webhook=hook_url,
                **options,
            )
        )
        received.append(len(got))
    return results, received


def test_events_alert_compares_with_earlier_runs_and_posts(
    warehouse: la.Warehouse, hook: Hook
) -> None:
    (first, second, third), received = _three_runs(warehouse, hook.url)
    assert received[1] > 0 and received[2] == 0
    # the first run has no earlier run; the second's only earlier run is the backfill
    assert first.stats.alerts == second.stats.alerts == ()
    (alert,) = third.stats.alerts
    assert third.stats.events_alert and not third.stats.size_alert
    assert (alert.kind, alert.value, alert.baseline) == ("events", 0.0, float(received[1]))
    assert alert.change_percent == -100.0 and alert.threshold_percent == 50
    assert alert.message == (
        f"events alert: audience {KEY} run {third.run_id} delivered 0 events, -100.0% against "
        f"a mean of {received[1]:,.1f} over the previous 1 runs that delivered events "
        "(threshold 50%)"
    )
    (post,) = hook.posts
    assert post["path"] == SECRET_PATH and post["type"] == "application/json"
    assert post["json"]["text"] == alert.message
    assert post["json"]["alerts"] == [alert.as_dict()]
    log = run_log(warehouse, KEY)
    assert [e["events_alert"] for e in log] == [True, False, False]
    assert log[0]["alerts"] == [
        {k: v for k, v in alert.as_dict().items() if k not in ("audience_key", "run_id")}
    ]


def test_events_alert_mean_of_the_last_five(warehouse: la.Warehouse) -> None:
    """Seven runs delivering 10, 20, …: the mean is over the five before, backfill excepted."""
    from linked_audiences.runs.alerts import events_alert

    assert events_alert("k", "r", 30, [10, 20, 30, 40, 50, 60], 10) is not None  # mean 40
    assert events_alert("k", "r", 40, [10, 20, 30, 40, 50, 60], 10) is None
    assert events_alert("k", "r", 40, [0, 0], 10) is None  # no run delivered: no baseline
    assert events_alert("k", "r", 44, [40], 10) is None  # +10% is not beyond 10%
    assert events_alert("k", "r", 45, [40], 10) is not None


def test_size_alert_posts_with_numbers(warehouse: la.Warehouse, hook: Hook) -> None:
    graph, _ = load_examples()
    compiled = [la.compile(AUDIENCE, graph, as_of=t) for t in (T1, T2)]
    m1, m2 = (len(warehouse.fetchall(c.profiles_sql)) for c in compiled)
    assert m1 != m2
    change = (m2 - m1) * 100 / m1
    threshold = abs(change) / 2
    la.run(AUDIENCE, graph, warehouse, as_of=T1, size_alert_percent=threshold)
    result = la.run(
        AUDIENCE,
        graph,
        warehouse,
        as_of=T2,
        size_alert_percent=threshold,
        alert_webhook=hook.url,
    )
    (alert,) = result.stats.alerts
    assert result.stats.size_alert and alert.kind == "size"
    assert (alert.value, alert.baseline) == (m2, m1)
    assert alert.change_percent == pytest.approx(change)
    assert f"has {m2:,} members, {change:+.1f}% against {m1:,}" in alert.message
    assert f"(threshold {threshold:g}%)" in alert.message
    assert [p["json"]["text"] for p in hook.posts] == [alert.message]
    assert run_log(warehouse, KEY)[0]["size_alert"] is True
    # above the change: no alert, no post
    la.run(AUDIENCE, graph, warehouse, as_of=T1, size_alert_percent=abs(change) * 2,
           alert_webhook=hook.url, allow_backdated=True)  # fmt: skip
    assert len(hook.posts) == 1


@pytest.mark.parametrize("failure", ["http 500", "refused"])
def test_a_failing_webhook_leaves_the_run_committed(
    warehouse: la.Warehouse, hook: Hook, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    hook.status = 500
    url = hook.url if failure == "http 500" else _closed_port_url()
    with caplog.at_level(logging.WARNING):
        (_, _, third), _ = _three_runs(warehouse, url)
    assert third.stats.events_alert
    error = third.stats.alert_webhook_error
    assert error is not None and error.startswith("alert webhook (127.0.0.1) failed: ")
    assert ("HTTP 500" in error) == (failure == "http 500")
    assert SECRET_PATH not in error and "/hook" not in error
    assert error in caplog.text
    log = run_log(warehouse, KEY)
    assert [e["status"] for e in log] == ["committed"] * 3
    assert log[0]["run_id"] == third.run_id and log[0]["events_alert"]


def test_alerts_of_a_run_whose_delivery_failed(warehouse: la.Warehouse, hook: Hook) -> None:
    """Delivery failing is what the events alert is for: raised, recorded and posted."""
    graph, _ = load_examples()
    la.run(AUDIENCE, graph, warehouse, as_of=T1)
    la.run(AUDIENCE, graph, warehouse, as_of=T2)
    warehouse.execute(
        "UPDATE segment.pages SET timestamp = timestamp + INTERVAL 3 DAY"  # membership moves
    )

    def broken(events: Any) -> None:
        raise OSError("collector down")

    with pytest.raises(DeliveryFailed) as raised:
        la.run(AUDIENCE, graph, warehouse, as_of="2026-11-02T00:00:00Z",
               sink=CallableSink(broken, batch=True), events_alert_percent=10,
               alert_webhook=hook.url)  # fmt: skip
    (alert,) = raised.value.alerts
    assert alert.kind == "events" and alert.value == 0
    assert [p["json"]["text"] for p in hook.posts] == [alert.message]
    assert run_log(warehouse, KEY)[0]["events_alert"] is True


def test_bad_webhook_url_is_refused_before_running(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    with pytest.raises(la.DefinitionError, match="http:// or https://"):
        la.run(AUDIENCE, graph, warehouse, as_of=T1, alert_webhook="file:///etc/passwd")
    assert run_log(warehouse, KEY) == []


def _files(tmp_path: Path) -> tuple[str, str]:
    audience = tmp_path / "a.json"
    audience.write_text(AUDIENCE.model_dump_json(), encoding="utf-8")
    return str(EXAMPLES / "graph.yaml"), str(audience)


def test_run_command_prints_alerts_and_webhook_warnings(
    db: Path,
    tmp_path: Path,
    hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    graph, audience = _files(tmp_path)
    url = f"duckdb:///{db}"
    out = str(tmp_path / "e.jsonl")
    common = ["--warehouse", url, "--events-out", out, "--events-alert", "50"]
    for as_of in (T1, T2):
        assert cli_main(["run", graph, audience, "--as-of", as_of, *common]) == 0
    capsys.readouterr()
    hook.status = 503
    code = cli_main(
        ["run", graph, audience, "--as-of", T2, *common, "--alert-webhook", hook.url],
    )
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"events alert: audience {KEY} run ")
    assert "delivered 0 events, -100.0%" in err[0] and "(threshold 50%)" in err[0]
    assert err[1] == "warning: alert webhook (127.0.0.1) failed: HTTP 503; the run stands"
    assert err[2].startswith("run ") and err[2].endswith("EVENTS ALERT")
    assert len(hook.posts) == 1


@pytest.mark.parametrize(
    ("option", "value"), [("--alert-webhook", "ftp://x/y"), ("--events-alert", "-5")]
)
def test_run_command_refuses_bad_alert_options(
    db: Path,
    tmp_path: Path,
    option: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    graph, audience = _files(tmp_path)
    argv = ["run", graph, audience, "--warehouse", f"duckdb:///{db}", option, value]
    with pytest.raises(SystemExit) as exited:  # argparse's exit, as the real command's
        cli_main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0]


def test_run_due_reads_alert_settings(db: Path, tmp_path: Path, hook: Hook) -> None:
    project = tmp_path / "project"
    (project / "audiences").mkdir(parents=True)
    (project / "audiences" / "a.json").write_text(AUDIENCE.model_dump_json(), encoding="utf-8")
    shutil.copy(EXAMPLES / "graph.yaml", project / "graph.yaml")
    settings = {
        "graph": "graph.yaml",
        "warehouse": f"duckdb:///{db}",
        "events_out": "events.jsonl",
        "events_alert_percent": 50,
        "size_alert_percent": 0,
        "alert_webhook": hook.url,
        "schedules": {KEY: {"type": "interval", "every": "1h"}},
    }
    (project / "linked-audiences.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    results = []
    for moment in (T1, T2):
        (outcome,) = run_due(project, now=datetime.fromisoformat(moment))
        assert outcome.status == "ran" and outcome.result is not None
        assert outcome.alerts == outcome.result.stats.alerts
        results.append(outcome.result)
    first, second = results
    assert second.stats.members != first.stats.members  # so the size alert (0%) fires
    # the events alert: the only earlier run is the backfill, so no baseline yet
    assert [a.kind for a in second.stats.alerts] == ["size"]
    assert [p["json"]["text"] for p in hook.posts] == [a.message for a in second.stats.alerts]

    settings["alert_webhook"] = "not a url"
    (project / "linked-audiences.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    with pytest.raises(la.DefinitionError, match="alert_webhook"):
        run_due(project)


@pytest.mark.postgres
def test_alerts_on_postgres(template: Path, postgres_dsn: str, hook: Hook) -> None:
    with demo_postgres(template, postgres_dsn) as w:
        (_, _, third), received = _three_runs(w, hook.url, size_alert_percent=1000)
        (alert,) = third.stats.alerts
        assert (alert.kind, alert.value, alert.baseline) == ("events", 0, received[1])
        assert [p["json"]["alerts"] for p in hook.posts] == [[alert.as_dict()]]
        assert run_log(w, KEY)[0]["alerts"][0]["message"] == alert.message
