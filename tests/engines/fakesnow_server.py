"""fakesnow (Snowflake's SQL on DuckDB) as an HTTP server from its own virtualenv.

fakesnow pins sqlglot and DuckDB versions other than ours, so it runs as ``fakesnow -s`` from
``.standins/fakesnow`` and the tests reach it through snowflake-connector-python (4.x: 5.x
cannot log in to it), exactly as a user's client reaches Snowflake.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .standins import STANDINS, free_port, running_server


def available() -> bool:
    return (STANDINS / "fakesnow" / "bin" / "fakesnow").exists()


@contextmanager
def running_fakesnow() -> Iterator[int]:
    """Start ``fakesnow -s`` on a free loopback port; yield the port; stop it."""
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="la_fakesnow_")) / "server.log"
    command = [str(STANDINS / "fakesnow" / "bin" / "fakesnow"), "-s", "-p", str(port)]
    with running_server(command, port, log):
        yield port


def connect(port: int, **parameters: Any) -> Any:
    """A snowflake-connector-python connection to the fakesnow server, session in UTC."""
    import snowflake.connector

    return snowflake.connector.connect(
        account="fakesnow",
        user="fake",
        password="snow",
        host="127.0.0.1",
        port=port,
        protocol="http",
        session_parameters={"TIMEZONE": "UTC"},
        **parameters,
    )
