"""A password in a warehouse URL never appears in an error, a repr, a log line or the run log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

import linked_audiences as la
from linked_audiences.dialects import get_dialect, redact_url, scrub
from linked_audiences.warehouse import Warehouse, WarehouseError, WarehouseUnavailable, connect

from .conftest import EXAMPLES

SENTINEL = "hunter2SENTINEL"
GRAPH = str(EXAMPLES / "graph.yaml")
AUDIENCE = str(EXAMPLES / "audiences" / "premium_cardholders.json")


def _cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "linked_audiences", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env=env,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (1, 2), result
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("databricks://token:dapi123@host?http_path=p", "databricks://token:***@host?http_path=p"),
        ("snowflake://u@acct/db?password=x&role=R", "snowflake://u@acct/db?password=***&role=R"),
        ("duckdb:///demo.duckdb", "duckdb:///demo.duckdb"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("u:pw@host/db", "u:***@host/db"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_scrub_removes_raw_and_percent_decoded_passwords() -> None:
    url = "postgresql://u:p%40ss-w0rd@h/db"
    message = f"failed for {url}: password 'p@ss-w0rd' and p%40ss-w0rd rejected"
    cleaned = scrub(message, url)
    assert "p@ss-w0rd" not in cleaned and "p%40ss-w0rd" not in cleaned


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://u:{SENTINEL}@localhost/db",
        f"duckdb://user:{SENTINEL}@host/x",
        f"postgresql://u:{SENTINEL}@127.0.0.1:1/db",
        f"u:{SENTINEL}@localhost/db",
    ],
)
def test_cli_never_prints_the_password(url: str) -> None:
    for command in (
        ["preview", GRAPH, AUDIENCE, "--warehouse", url],
        ["run", GRAPH, AUDIENCE, "--warehouse", url],
        ["check", GRAPH, "--warehouse", url],
        ["runs", "premium_cardholders", "--warehouse", url],
    ):
        assert SENTINEL not in _cli(*command)


def test_run_due_never_prints_the_password(tmp_path: Path) -> None:
    url = f"postgresql://u:{SENTINEL}@127.0.0.1:1/db"
    (tmp_path / "audiences").mkdir()
    (tmp_path / "linked-audiences.yaml").write_text(
        yaml.safe_dump({"graph": GRAPH, "warehouse": url}), encoding="utf-8"
    )
    assert SENTINEL not in _cli("run-due", str(tmp_path))
    (tmp_path / "linked-audiences.yaml").write_text(yaml.safe_dump({"graph": GRAPH}))
    env = {**__import__("os").environ, "LA_WAREHOUSE_URL": url}
    assert SENTINEL not in _cli("run-due", str(tmp_path), env=env)


def test_connect_errors_and_reprs_hide_the_password() -> None:
    with pytest.raises(WarehouseUnavailable) as caught:
        connect(f"postgresql://u:{SENTINEL}@127.0.0.1:1/db")
    assert SENTINEL not in str(caught.value) and caught.value.__cause__ is None
    with pytest.raises(ValueError) as bad:
        connect(f"duckdb://u:{SENTINEL}@host/x")
    assert SENTINEL not in str(bad.value)
    fake = Warehouse(get_dialect("duckdb"), duckdb.connect(), f"postgresql://u:{SENTINEL}@h/db")
    assert SENTINEL not in repr(fake)


@pytest.mark.postgres
def test_postgres_repr_and_client_errors_hide_the_password(postgres_dsn: str) -> None:
    # the test server trusts local connections, so any password connects
    params = dict(pair.split("=", 1) for pair in postgres_dsn.split())
    url = (
        f"postgresql://{params['user']}:{SENTINEL}@/{params['dbname']}"
        f"?host={params['host']}&port={params['port']}"
    )
    with la.connect(url) as warehouse:
        assert SENTINEL not in repr(warehouse)
        with pytest.raises(WarehouseError) as caught:
            warehouse.fetchall(f'SELECT * FROM "{SENTINEL}"')
    assert caught.value.catalog and SENTINEL not in str(caught.value)


def test_query_errors_and_the_run_log_hide_the_password(tmp_path: Path) -> None:
    """A client error that quotes the secret (here: a table named like it) is scrubbed before
    it reaches the exception text and the run log."""
    url = f"postgresql://u:{SENTINEL}@h/db"
    warehouse = Warehouse(get_dialect("duckdb"), duckdb.connect(), url)
    with pytest.raises(WarehouseError) as caught:
        warehouse.fetchall(f'SELECT * FROM "{SENTINEL}"')
    assert caught.value.catalog and SENTINEL not in str(caught.value)

    # Tables that match the graph, so the run starts; reading the trait then fails with the
    # secret in the engine's message.
    con = warehouse.connection
    con.execute("CREATE TABLE ids (canonical_segment_id VARCHAR, type VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO ids VALUES ('p', 'user_id', 'u')")
    con.execute(
        "CREATE VIEW traits AS SELECT 'p' AS canonical_segment_id, "
        f"CAST(error('no access for {SENTINEL}') AS DOUBLE) AS x"
    )
    graph = la.DataGraph.model_validate(
        {
            "profile": {
                "traits_table": "traits",
                "identifiers_table": "ids",
                "traits": {"x": "number"},
            }
        }
    )
    audience = la.Audience.model_validate(
        {
            "key": "a",
            "name": "A",
            "condition": {"type": "trait", "trait": "x", "operator": "exists"},
        }
    )
    with pytest.raises(WarehouseError) as failed:
        la.run(audience, graph, warehouse)
    assert SENTINEL not in str(failed.value)
    log = la.run_log(warehouse, "a") if hasattr(la, "run_log") else _run_log(warehouse)
    assert log and all(SENTINEL not in str(entry) for entry in log)


def _run_log(warehouse: Warehouse) -> list[dict[str, object]]:
    from linked_audiences.runs import run_log

    return run_log(warehouse, "a")
