"""Shared fixtures and the ``--update-snapshots`` switch for golden files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    engine_markers = {"duckdb", "postgres", "snowflake", "bigquery", "redshift", "databricks"}
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


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL server for this test session (Debian's package; scripts/test installs it)."""
    from .engines.postgres_server import find_bin_dir, running_postgres

    if find_bin_dir() is None:
        message = (
            "PostgreSQL is not installed: apt-get install postgresql (scripts/test "
            "does this when it runs as root)"
        )
        if os.environ.get("CI"):  # CI installs it: a missing server there is a failure
            pytest.fail(message)
        pytest.skip(message)
    with running_postgres() as dsn:
        yield dsn


# -- Stand-ins for the cloud warehouses (tests/engines/standins.py) --------------------------


@pytest.fixture(scope="session")
def fakesnow_port() -> Iterator[int]:
    """A fakesnow server (Snowflake stand-in) for this session, from .standins/fakesnow."""
    from .engines import fakesnow_server
    from .engines.standins import require

    require(fakesnow_server.available(), "fakesnow (the Snowflake stand-in)")
    with fakesnow_server.running_fakesnow() as port:
        yield port


@pytest.fixture(scope="session")
def fakesnow_url(fakesnow_port: int) -> str:
    """The stand-in as a ``snowflake://`` URL of the form ``la.connect`` will take."""
    return (
        f"snowflake://fake:snow@fakesnow/la/public?host=127.0.0.1&port={fakesnow_port}"
        "&protocol=http"
    )


@pytest.fixture(scope="session")
def snowflake(fakesnow_port: int) -> Iterator[Any]:
    """A snowflake-connector-python connection to fakesnow; values bind as ``?``."""
    from .engines.fakesnow_server import connect

    connection = connect(fakesnow_port, paramstyle="qmark", database="LA", schema="PUBLIC")
    yield connection
    connection.close()


#: PostgreSQL functions Redshift does not have, shadowed (they come before pg_catalog on the
#: search path) by ones that fail, so SQL that relies on them fails on the stand-in too.
REDSHIFT_LACKS = [
    "CREATE SCHEMA IF NOT EXISTS redshift_lacks",
    "CREATE OR REPLACE FUNCTION redshift_lacks.make_date(integer, integer, integer) "
    "RETURNS date LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'function make_date does not exist on Redshift'; END $$",
]


@pytest.fixture(scope="session")
def redshift(postgres_dsn: str) -> Iterator[Any]:
    """redshift-connector on the session's PostgreSQL, through the Redshift proxy.

    The session reads backslashes in string literals as escapes, as Redshift does
    (``standard_conforming_strings`` off); values bind as ``?``.
    """
    import redshift_connector

    from .engines.redshift_proxy import redshift_proxy

    dsn = dict(part.split("=", 1) for part in postgres_dsn.split())
    socket_path = f"{dsn['host']}/.s.PGSQL.{dsn['port']}"
    with redshift_proxy(socket_path) as port:
        connection = redshift_connector.connect(
            host="127.0.0.1",
            port=port,
            database=dsn["dbname"],
            user=dsn["user"],
            password="unused-md5-secret",
            ssl=False,
        )
        cursor = connection.cursor()
        for statement in REDSHIFT_LACKS:
            cursor.execute(statement)
        cursor.execute("SET search_path = public, redshift_lacks, pg_catalog")
        cursor.execute("SET standard_conforming_strings = off")
        cursor.execute("SET TIME ZONE 'UTC'")
        connection.commit()
        yield connection
        connection.close()


@pytest.fixture(scope="session")
def bigquery_endpoint() -> Iterator[str]:
    """A bqemulator server (BigQuery stand-in) for this session, from .standins/bqemulator."""
    from .engines import bqemulator_server
    from .engines.standins import require

    require(bqemulator_server.available(), "bqemulator (the BigQuery stand-in)")
    with bqemulator_server.running_bqemulator() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def bigquery(bigquery_endpoint: str) -> Any:
    """A google-cloud-bigquery client for the emulator, anonymous."""
    from .engines.bqemulator_server import client

    return client(bigquery_endpoint)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (pyspark, local[2]) for this test session: the Databricks
    stand-in. Needs Java 17."""
    import shutil

    from .engines.spark_session import spark_session
    from .engines.standins import require

    require(shutil.which("java") is not None, "Java (for the local Spark session)")
    with spark_session() as session:
        yield session
