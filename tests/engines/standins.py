"""Local stand-ins for cloud warehouses: where their virtualenvs live, free ports, servers.

Each server stand-in (fakesnow for Snowflake, bqemulator for BigQuery) pins versions of
sqlglot and DuckDB that differ from ours, so it runs from its own virtualenv under
``.standins/`` (made by ``scripts/standins``) as a loopback subprocess, started once per test
session. A developer without those virtualenvs gets a skip that says how to make them; in CI
(``CI`` set) a missing stand-in is a failure, so a green CI run really ran them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from tests.reference.evaluator import Tables

ROOT = Path(__file__).resolve().parent.parent.parent
STANDINS = ROOT / ".standins"


def venv_python(name: str) -> Path:
    """The interpreter of stand-in virtualenv ``name`` (it may not exist yet)."""
    return STANDINS / name / "bin" / "python"


def require(available: bool, what: str) -> None:
    """Skip (on a developer's machine) or fail (in CI) when a stand-in is missing."""
    if available:
        return
    message = f"{what} is not installed: run scripts/standins (scripts/test does)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run every stand-in, but {message}", pytrace=False)
    pytest.skip(message)


def insert_rows(
    execute: Any, cursor: Any, table: str, columns: dict[str, str], rows: list[Any], dialect: str
) -> None:
    """One INSERT of ``rows`` into ``table`` with every value a ``?`` parameter."""
    if not rows:
        return
    one_row = "(" + ", ".join("?" for _ in columns) + ")"
    target = table_expr(table).sql(dialect)
    statement = f"INSERT INTO {target} VALUES " + ", ".join(one_row for _ in rows)
    execute(cursor, statement, [row.get(c) for row in rows for c in columns])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stand-in exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"stand-in did not listen on port {port} in {timeout} s: {log.read_text()}")


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, however it dies (Linux), so a
    killed test run never leaves a stand-in server behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: the finally below still stops it on a normal exit
        pass


@contextmanager
def running_server(
    command: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[None]:
    """Run ``command`` until it listens on ``port``; kill it (and only it) on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            preexec_fn=_die_with_parent,
        )
    try:
        _wait_for_port(port, process, log, timeout=120)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def reparse(statement: str, dialect: str) -> None:
    """The stand-ins are lenient: every statement sent to one must also parse as ``dialect``
    in sqlglot, so SQL the real warehouse would reject for its syntax fails here too."""
    sqlglot.parse(statement, read=dialect, error_level=ErrorLevel.RAISE)


def table_expr(table: str) -> exp.Table:
    """A graph table name (``table``, ``schema.table`` or ``db.schema.table``), quoted."""
    parts = table.split(".")
    return exp.table_(parts[-1], *reversed(parts[:-1]), quoted=True)


def create_table_sql(
    table: str,
    columns: dict[str, str],
    types: dict[str, str],
    dialect: str,
    properties: list[exp.Expr] | None = None,
) -> str:
    """``CREATE TABLE`` for ``table`` with each column typed from the SPEC §1 data type by
    ``types``; identifiers are quoted by sqlglot, so hostile names stay names."""
    definitions: list[exp.Expr] = [
        exp.ColumnDef(
            this=exp.to_identifier(column, quoted=True),
            kind=exp.DataType.build(types[dtype], dialect=dialect),
        )
        for column, dtype in columns.items()
    ]
    create = exp.Create(
        this=exp.Schema(this=table_expr(table), expressions=definitions),
        kind="TABLE",
        properties=exp.Properties(expressions=properties) if properties else None,
    )
    return create.sql(dialect=dialect)


def schema_of(table: str) -> str | None:
    """The schema part of ``schema.table`` (None for a bare table name)."""
    parts = table.split(".")
    return parts[-2] if len(parts) >= 2 else None


def check_tables(tables: Tables, column_types: dict[str, dict[str, str]]) -> None:
    """Rows only for typed tables, and only with declared columns (a test-setup mistake)."""
    untyped = sorted(set(tables) - set(column_types))
    if untyped:
        raise ValueError(f"rows given for tables without column types: {untyped}")
    for table, rows in tables.items():
        for row in rows:
            unknown = set(row) - set(column_types[table])
            if unknown:
                raise ValueError(f"row of {table!r} has undeclared columns {sorted(unknown)}")
