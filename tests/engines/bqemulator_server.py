"""bqemulator (BigQuery's REST API over DuckDB) from its own virtualenv, for the tests.

Offline it must not load DuckDB's spatial extension (it would download it and then exit), so
a tiny launcher replaces that step (GEOGRAPHY is lost, which no audience uses) and format
extensions are switched off. The tests reach it with google-cloud-bigquery, anonymously.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .standins import free_port, running_server, venv_python

PROJECT = "la-test"

LAUNCHER = (
    "import sys; import bqemulator.storage.engine as e; "
    "e.DuckDBEngine._load_spatial = lambda self: None; "
    "from bqemulator.cli import main; sys.argv[0] = 'bqemulator'; main()"
)


def available() -> bool:
    return venv_python("bqemulator").exists()


@contextmanager
def running_bqemulator() -> Iterator[str]:
    """Start bqemulator on free loopback ports; yield its REST endpoint URL; stop it."""
    port, grpc_port = free_port(), free_port()
    log = Path(tempfile.mkdtemp(prefix="la_bqemulator_")) / "server.log"
    command = [
        str(venv_python("bqemulator")),
        "-c",
        LAUNCHER,
        "start",
        "--rest-port",
        str(port),
        "--grpc-port",
        str(grpc_port),
        "--project",
        PROJECT,
        "--ephemeral",
        "--log-level",
        "warning",
    ]
    env = {"BQEMU_ENABLE_FORMAT_EXTENSIONS": "false"}
    with running_server(command, port, log, env=env):
        yield f"http://127.0.0.1:{port}"


def client(endpoint: str) -> Any:
    """A google-cloud-bigquery client for the emulator, with no credentials."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=endpoint),
    )
