"""Each warehouse URL reaches its official client with the right arguments.

The clients' connect calls are replaced by recorders (no account is needed): what the
adapter passes — account, database, credentials, typed parameters, the session's UTC time
zone, query tags — is what a real warehouse would receive. The real wire protocols are
exercised on the local stand-ins (tests/test_warehouse_runs.py).
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.warehouse import WarehouseURLError


class Recorder:
    """A DB-API connection that records statements and answers nothing."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.statements: list[str] = []
        self.autocommit = False

    def cursor(self) -> Recorder:
        return self

    def execute(self, statement: str, *args: Any) -> Recorder:
        self.statements.append(statement)
        return self

    def fetchall(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


def _fake_module(monkeypatch: pytest.MonkeyPatch, dotted: str, **attributes: Any) -> None:
    """Install ``dotted`` (and its parents) as stand-in modules with ``attributes``."""
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        module = types.ModuleType(name)
        monkeypatch.setitem(sys.modules, name, module)
        if i > 1:
            setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], module)
    for key, value in attributes.items():
        setattr(sys.modules[dotted], key, value)


def _recording(made: list[Recorder]) -> Any:
    def connect(**kwargs: Any) -> Recorder:
        made.append(Recorder(**kwargs))
        return made[-1]

    return connect


def test_snowflake_url(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Recorder] = []
    _fake_module(
        monkeypatch,
        "snowflake.connector",
        connect=lambda **kw: made.append(Recorder(**kw)) or made[-1],
    )
    monkeypatch.setenv("LA_SNOWFLAKE_PASSWORD", "from-env")
    warehouse = la.connect(
        "snowflake://ana@xy12345.eu-west-1/ANALYTICS/PUBLIC?warehouse=2024&role=LA_RUNNER"
        "&login_timeout=30&private_key_file=/keys/la.p8"
    )
    assert made[0].kwargs == {
        "account": "xy12345.eu-west-1",
        "user": "ana",
        "password": "from-env",
        "database": "ANALYTICS",
        "schema": "PUBLIC",
        "warehouse": "2024",  # a name, even when it looks like a number
        "role": "LA_RUNNER",
        "login_timeout": 30,
        "private_key_file": "/keys/la.p8",
        "session_parameters": {"TIMEZONE": "UTC"},
    }
    with warehouse.tagged({"audience": "vip", "run": "r1"}):
        pass
    assert made[0].statements == [
        'ALTER SESSION SET QUERY_TAG = \'{"audience": "vip", "run": "r1"}\'',
        "ALTER SESSION SET QUERY_TAG = ''",
    ]
    assert "from-env" not in repr(warehouse)


def test_redshift_url(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Recorder] = []
    _fake_module(
        monkeypatch,
        "redshift_connector",
        connect=lambda **kw: made.append(Recorder(**kw)) or made[-1],
    )
    warehouse = la.connect(
        "redshift://etl:s3cr%40t@cluster.abc.us-east-1.redshift.amazonaws.com:5439/dev"
        "?ssl=true&iam=false&timeout=10"
    )
    assert made[0].kwargs == {
        "host": "cluster.abc.us-east-1.redshift.amazonaws.com",
        "port": 5439,
        "database": "dev",
        "user": "etl",
        "password": "s3cr@t",
        "ssl": True,
        "iam": False,
        "timeout": 10,
    }
    assert made[0].autocommit is True
    assert made[0].statements == ["SET timezone TO 'UTC'"]
    with warehouse.tagged({"audience": "vip", "run": "r1"}):
        pass
    assert made[0].statements[1:] == [
        "SET query_group TO 'audience=vip run=r1'",
        "RESET query_group",
    ]


def test_databricks_sql_warehouse_url(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Recorder] = []
    _fake_module(
        monkeypatch, "databricks.sql", connect=lambda **kw: made.append(Recorder(**kw)) or made[-1]
    )
    warehouse = la.connect(
        "databricks://token:dapi123@adb-1.azuredatabricks.net?http_path=/sql/1.0/warehouses/ab"
        "&catalog=main&schema=audiences"
    )
    assert made[0].kwargs == {
        "server_hostname": "adb-1.azuredatabricks.net",
        "http_path": "/sql/1.0/warehouses/ab",
        "access_token": "dapi123",
        "catalog": "main",
        "schema": "audiences",
    }
    assert made[0].statements == ["SET TIME ZONE 'UTC'"]
    with warehouse.tagged({"audience": "vip", "run": "r1"}):
        pass
    assert made[0].statements[1:] == [
        "SET QUERY_TAGS['audience'] = 'vip', QUERY_TAGS['run'] = 'r1'",
        "SET QUERY_TAGS['audience'] = UNSET, QUERY_TAGS['run'] = UNSET",
    ]
    with pytest.raises(WarehouseURLError, match="http_path"):
        la.connect("databricks://token:dapi123@adb-1.azuredatabricks.net")


def test_bigquery_url(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("google.cloud.bigquery")
    from google.cloud import bigquery

    made: list[dict[str, Any]] = []

    class Client:
        project = "proj"

        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)

    monkeypatch.setattr(bigquery, "Client", Client)
    warehouse = la.connect("bigquery://proj/marketing?location=EU&credentials=anonymous")
    assert made[0]["project"] == "proj" and made[0]["location"] == "EU"
    assert type(made[0]["credentials"]).__name__ == "AnonymousCredentials"
    assert (warehouse.connection.dataset, warehouse.connection.location) == ("marketing", "EU")
    with warehouse.tagged({"audience": "VIP Fans", "run": "20261101T000000Z-ab"}):
        assert warehouse.connection.labels == {
            "audience": "vip_fans",
            "run": "20261101t000000z-ab",
        }
    assert warehouse.connection.labels == {}
    with pytest.raises(WarehouseURLError, match="the only value is 'anonymous'"):
        la.connect("bigquery://proj/marketing?credentials=nobody")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("snowflake://account/db", "no user"),
        ("redshift://etl@host", "expected redshift://user@host:port/database"),
        ("bigquery://", "expected bigquery://project/dataset"),
        ("snowflake://a@b/db?x=1&x=2", "given twice"),
        ("redshift://etl@host:notaport/dev", "not a number"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(WarehouseURLError, match=message):
        la.connect(url)
