"""The compiled SQL agrees with the reference evaluator on generated graphs, data and audiences.

hypothesis builds small warehouses full of NULLs, hostile strings, timestamps on window
boundaries and shared entities, plus random valid audiences; DuckDB executes the compiled
SQL and must return exactly the members and matched entities that tests/reference computes
from SPEC.md row by row.
"""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linked_audiences as la
from linked_audiences.dialects import get_dialect

from .reference.duckdb_loader import load_tables
from .reference.evaluator import evaluate
from .reference.strategies import Scenario, scenarios

pytestmark = pytest.mark.duckdb

#: The answer must not depend on the session's time zone: the SQL runs in each of these.
#: Kathmandu (+05:45) catches code that assumes whole-hour offsets.
SESSION_ZONES = st.sampled_from(["UTC", "America/Los_Angeles", "Asia/Kathmandu"])

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def run_on_duckdb(
    scenario: Scenario, zone: str = "UTC"
) -> tuple[set[str], set[tuple[str, str, str]]]:
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        load_tables(con, scenario.graph, scenario.tables, scenario.column_types)
        con.execute(f"SET TimeZone = '{zone}'")  # one of SESSION_ZONES
        warehouse = la.Warehouse(get_dialect("duckdb"), con)
        compiled = la.compile(
            scenario.audience,
            scenario.graph,
            dialect="duckdb",
            as_of=scenario.as_of,
            audiences=scenario.audiences,
        )
        members = {str(r[0]) for r in warehouse.fetchall(compiled.profiles_sql)}
        entities = {
            (str(p), str(r), str(e)) for p, r, e in warehouse.fetchall(compiled.entities_sql)
        }
        return members, entities
    finally:
        con.close()


def check(scenario: Scenario, answer: tuple[set[str], set[tuple[str, str, str]]]) -> None:
    expected = evaluate(
        scenario.audience, scenario.graph, scenario.tables, scenario.as_of, scenario.audiences
    )
    members, entities = answer
    assert members == set(expected.members)
    assert entities == set(expected.entities)


@SETTINGS
@given(scenarios(), SESSION_ZONES)
def test_duckdb_matches_reference(scenario: Scenario, zone: str) -> None:
    check(scenario, run_on_duckdb(scenario, zone))


@settings(SETTINGS, max_examples=100)
@given(scenarios(classic=True), SESSION_ZONES)
def test_duckdb_funnels_and_aggregates_match_reference(scenario: Scenario, zone: str) -> None:
    """Audiences that are a funnel or an aggregate node, on event rows that follow each other
    at equal instants, exactly N days apart and across ``as_of`` (random trees meet these
    shapes only now and then)."""
    check(scenario, run_on_duckdb(scenario, zone))


def run_on_postgres(
    dsn: str, scenario: Scenario, zone: str = "UTC"
) -> tuple[set[str], set[tuple[str, str, str]]]:
    """Load, query, roll back: PostgreSQL's DDL is transactional, so each example is clean."""
    import psycopg

    from .engines.postgres_loader import load_tables as load_pg

    with psycopg.connect(dsn) as conn:
        try:
            conn.execute("SET TIME ZONE 'UTC'")
            load_pg(conn, scenario.tables, scenario.column_types)
            conn.execute("SELECT set_config('TimeZone', %s, true)", (zone,))
            compiled = la.compile(
                scenario.audience,
                scenario.graph,
                dialect="postgres",
                as_of=scenario.as_of,
                audiences=scenario.audiences,
            )
            members = {str(r[0]) for r in conn.execute(compiled.profiles_sql).fetchall()}
            entities = {
                (str(p), str(r), str(e))
                for p, r, e in conn.execute(compiled.entities_sql).fetchall()
            }
            return members, entities
        finally:
            conn.rollback()


@pytest.mark.postgres
@settings(SETTINGS, max_examples=150)
@given(scenario=scenarios(), zone=SESSION_ZONES)
def test_postgres_matches_reference(postgres_dsn: str, scenario: Scenario, zone: str) -> None:
    check(scenario, run_on_postgres(postgres_dsn, scenario, zone))


@pytest.mark.postgres
@settings(SETTINGS, max_examples=75)
@given(scenario=scenarios(classic=True), zone=SESSION_ZONES)
def test_postgres_funnels_and_aggregates_match_reference(
    postgres_dsn: str, scenario: Scenario, zone: str
) -> None:
    check(scenario, run_on_postgres(postgres_dsn, scenario, zone))
