"""check_graph: every table, column and declared type of a graph against the catalog."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import linked_audiences as la
from linked_audiences.catalog import _resolve, check_graph
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.warehouse import Warehouse, connect

from .conftest import EXAMPLES

GRAPH = {
    "profile": {
        "traits_table": "app.traits",
        "identifiers_table": "app.ids",
        "traits": {"score": "number", "vip": "boolean", "seen": "timestamp", "born": "date"},
    },
    "entities": [
        {"slug": "acct", "table": "app.account", "primary_key": "id",
         "columns": {"balance": "number", "plan": "string"}},
    ],
    "relationships": [
        {"slug": "accounts", "related_entity": "acct",
         "external_id": {"type": "email", "join_key": "email"}},
    ],
    "events": [
        {"name": "Order", "table": "app.orders", "profile_key": "canonical_segment_id",
         "properties": {"total": "number", "city": {"type": "string", "column": "ship_city"}}},
    ],
}  # fmt: skip

SCHEMA = """
CREATE SCHEMA app;
CREATE TABLE app.traits (canonical_segment_id VARCHAR, score DOUBLE, vip BOOLEAN,
    seen TIMESTAMPTZ, born DATE);
CREATE TABLE app.ids (canonical_segment_id VARCHAR, type VARCHAR, value VARCHAR);
CREATE TABLE app.account (id VARCHAR, email VARCHAR, balance DECIMAL(18, 2), plan VARCHAR);
CREATE TABLE app.orders (canonical_segment_id VARCHAR, "timestamp" TIMESTAMPTZ,
    total BIGINT, ship_city VARCHAR);
"""


def _warehouse(*changes: str) -> Warehouse:
    warehouse = connect("duckdb://")
    for statement in [*SCHEMA.split(";"), *changes]:
        if statement.strip():
            warehouse.execute(statement)
    return warehouse


def _problems(*changes: str) -> list[str]:
    with _warehouse(*changes) as warehouse:
        return [str(p) for p in check_graph(la.DataGraph.model_validate(GRAPH), warehouse)]


def test_a_matching_graph_has_no_problems() -> None:
    assert _problems() == []


def test_the_demo_graph_matches_the_demo_warehouse(tmp_path: Path) -> None:
    build_demo_warehouse(tmp_path / "d.duckdb", profiles=100, seed=3)
    graph = la.DataGraph.load(EXAMPLES / "graph.yaml")
    with connect(f"duckdb:///{tmp_path / 'd.duckdb'}", read_only=True) as warehouse:
        assert check_graph(graph, warehouse) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("DROP TABLE app.orders", "$.events[0].table: no table 'app.orders' in the warehouse"),
        (
            "ALTER TABLE app.account DROP COLUMN balance",
            "$.entities[0].columns.balance: no column 'balance' in app.account",
        ),
        (
            "ALTER TABLE app.account ALTER balance TYPE BOOLEAN USING balance > 0",
            "$.entities[0].columns.balance: declared number, but app.account.balance is BOOLEAN",
        ),
        (
            "ALTER TABLE app.traits ALTER score TYPE VARCHAR",
            "$.profile.traits.score: declared number, but app.traits.score is VARCHAR",
        ),
        (
            "ALTER TABLE app.traits ALTER born TYPE TIMESTAMP",
            "$.profile.traits.born: declared date, but app.traits.born is TIMESTAMP",
        ),
        (
            "ALTER TABLE app.orders RENAME ship_city TO city",
            "$.events[0].properties.city: no column 'ship_city' in app.orders",
        ),
        (
            "ALTER TABLE app.account DROP COLUMN email",
            "$.relationships[0].external_id.join_key: no column 'email' in app.account",
        ),
        (
            'ALTER TABLE app.orders RENAME "timestamp" TO ts',
            "$.events[0].timestamp: no column 'timestamp' in app.orders",
        ),
        (
            "ALTER TABLE app.ids RENAME type TO kind",
            "$.profile.identifiers_table: no column 'type' in app.ids",
        ),
    ],
)
def test_each_mismatch_names_the_graph_path(change: str, expected: str) -> None:
    assert _problems(change) == [expected]


def test_names_match_case_insensitively_when_unique_and_report_ambiguity() -> None:
    assert _problems('ALTER TABLE app.account RENAME plan TO "PLAN"') == []
    # DuckDB folds names; PostgreSQL keeps both spellings (see test_postgres_catalog)
    assert _resolve("plan", ["PLAN", "Plan"]) == ["PLAN", "Plan"]
    assert _resolve("plan", ["PLAN", "plan"]) == "plan"
    assert _resolve("plan", ["other"]) is None


def test_a_timestamp_may_be_a_date_column() -> None:
    assert _problems("ALTER TABLE app.traits ALTER seen TYPE DATE") == []


def test_long_layout_needs_name_and_value_columns() -> None:
    graph = {**GRAPH, "profile": {**GRAPH["profile"], "traits_layout": "long"}}  # type: ignore[dict-item]
    with _warehouse() as warehouse:
        problems = [str(p) for p in check_graph(la.DataGraph.model_validate(graph), warehouse)]
    assert problems == [
        "$.profile.traits_layout: no column 'name' in app.traits",
        "$.profile.traits_layout: no column 'value' in app.traits",
    ]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linked_audiences", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_command_and_run_refuse_a_mismatch(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_demo_warehouse(db, profiles=100, seed=3)
    graph, url = str(EXAMPLES / "graph.yaml"), f"duckdb:///{db}"
    ok = _cli("check", graph, "--warehouse", url)
    assert (ok.returncode, ok.stdout.strip()) == (0, "ok")
    with duckdb.connect(str(db)) as con:
        con.execute("ALTER TABLE prod.account ALTER balance TYPE BOOLEAN USING balance > 0")
        con.execute("DROP TABLE prod.cart_product")
    bad = _cli("check", graph, "--warehouse", url)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    lines = bad.stderr.splitlines()
    assert len(lines) == 2, bad.stderr
    assert any("$.entities[0].columns.balance: declared number" in line for line in lines)
    assert any("junction_table.table: no table 'prod.cart_product'" in line for line in lines)

    audience = str(EXAMPLES / "audiences" / "premium_cardholders.json")
    run = _cli(
        "run", graph, audience, "--warehouse", url, "--events-out", str(tmp_path / "e.jsonl")
    )
    assert run.returncode == 2 and run.stderr.splitlines() == lines
    assert not (tmp_path / "e.jsonl").exists()


@pytest.mark.postgres
def test_postgres_catalog(postgres_dsn: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS app CASCADE")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                con.execute(statement.replace("DOUBLE", "DOUBLE PRECISION"))
        con.execute("ALTER TABLE app.account ALTER balance TYPE BOOLEAN USING balance > 0")
        con.execute('ALTER TABLE app.account RENAME plan TO "PLAN"')
        con.execute('ALTER TABLE app.account ADD COLUMN "Plan" TEXT')
    params = dict(pair.split("=", 1) for pair in postgres_dsn.split())
    url = f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"
    try:
        with connect(url, read_only=True) as warehouse:
            problems = check_graph(la.DataGraph.model_validate(GRAPH), warehouse)
        assert [str(p) for p in problems] == [
            "$.entities[0].columns.balance: declared number, but app.account.balance is boolean",
            "$.entities[0].columns.plan: column 'plan' is ambiguous in app.account: PLAN, Plan",
        ]
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as con:
            con.execute("DROP SCHEMA app CASCADE")


UPPER_CASE = [
    'CREATE SCHEMA "APP"',
    # An exact-case `account` in another schema must not hide "APP"."ACCOUNT" from
    # `app.account` (it did when each name part was narrowed exact-first on its own).
    'CREATE SCHEMA "decoy"',
    'CREATE TABLE "decoy"."account" ("id" TEXT)',
    'CREATE TABLE "APP"."TRAITS" ("CANONICAL_SEGMENT_ID" TEXT, "SCORE" DOUBLE PRECISION, '
    '"VIP" BOOLEAN, "SEEN" TIMESTAMPTZ, "BORN" DATE)',
    'CREATE TABLE "APP"."IDS" ("CANONICAL_SEGMENT_ID" TEXT, "TYPE" TEXT, "VALUE" TEXT)',
    'CREATE TABLE "APP"."ACCOUNT" ("ID" TEXT, "EMAIL" TEXT, "BALANCE" NUMERIC, "PLAN" TEXT)',
    'CREATE TABLE "APP"."ORDERS" ("CANONICAL_SEGMENT_ID" TEXT, "TIMESTAMP" TIMESTAMPTZ, '
    '"TOTAL" BIGINT, "SHIP_CITY" TEXT)',
    'INSERT INTO "APP"."TRAITS" VALUES (\'p1\', 1, true, NULL, NULL), '
    "('p2', 7, false, NULL, NULL), ('p3', 9, false, NULL, NULL)",
    "INSERT INTO \"APP\".\"IDS\" VALUES ('p1', 'email', 'a@x'), ('p2', 'email', 'b@x'), "
    "('p3', 'email', 'c@x')",
    "INSERT INTO \"APP\".\"ACCOUNT\" VALUES ('A1', 'a@x', 50, 'gold'), "
    "('A2', 'b@x', 5, 'basic'), ('A3', 'c@x', 20, 'gold')",
]


@pytest.mark.postgres
def test_graph_names_find_tables_stored_in_another_case(postgres_dsn: str) -> None:
    """A lower-case graph on tables stored upper-case (as Snowflake stores unquoted names):
    PostgreSQL matches quoted names exactly, so the SQL must spell them as stored."""
    import psycopg

    audience = la.Audience.model_validate(
        {
            "key": "rich_fans",
            "name": "Rich fans",
            "condition": {
                "type": "group",
                "operator": "and",
                "conditions": [
                    {"type": "trait", "trait": "score", "operator": "greater_than", "value": 5},
                    {
                        "type": "entity",
                        "relationship": "accounts",
                        "where": {
                            "type": "column",
                            "column": "balance",
                            "operator": "greater_than",
                            "value": 10,
                        },
                    },
                ],
            },
        }
    )
    graph = la.DataGraph.model_validate(GRAPH)
    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        con.execute('DROP SCHEMA IF EXISTS "APP" CASCADE')
        for statement in UPPER_CASE:
            con.execute(statement)
    params = dict(pair.split("=", 1) for pair in postgres_dsn.split())
    url = f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"
    try:
        with connect(url) as warehouse:
            assert check_graph(graph, warehouse) == []
            preview = la.preview(audience, graph, warehouse, as_of="2026-11-01T00:00:00Z")
            assert (preview.count, preview.sample) == (1, ["p3"])
            result = la.run(
                audience, graph, warehouse, as_of="2026-11-01T00:00:00Z",
                activations=[la.Activation(
                    trigger="entity_added", relationship="accounts",
                    entity_columns=["plan"], traits=["score"],
                )],
            )  # fmt: skip
            (event,) = list(result.events)
            assert event["properties"]["entity_id"] == "A3"
            assert event["properties"]["accounts__plan"] == "gold"
            assert event["properties"]["score"] == 9
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as con:
            con.execute('DROP SCHEMA "APP" CASCADE')
            con.execute('DROP SCHEMA "decoy" CASCADE')
