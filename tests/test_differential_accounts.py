"""Generated account audiences: the compiled SQL agrees with the reference evaluator on
DuckDB (in several session zones) and PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from .reference.account_scenarios import account_scenarios
from .reference.evaluator import evaluate
from .reference.strategies import Scenario
from .test_differential import SESSION_ZONES, run_on_duckdb, run_on_postgres

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _expected(scenario: Scenario) -> set[str]:
    result = evaluate(
        scenario.audience, scenario.graph, scenario.tables, scenario.as_of, scenario.audiences
    )
    assert result.entities == frozenset()
    return set(result.members)


@pytest.mark.duckdb
@SETTINGS
@given(account_scenarios(), SESSION_ZONES)
def test_duckdb_matches_reference_for_accounts(scenario: Scenario, zone: str) -> None:
    members, entities = run_on_duckdb(scenario, zone)
    assert members == _expected(scenario)
    assert entities == set()


@pytest.mark.postgres
@settings(SETTINGS, max_examples=60)
@given(scenario=account_scenarios(), zone=SESSION_ZONES)
def test_postgres_matches_reference_for_accounts(
    postgres_dsn: str, scenario: Scenario, zone: str
) -> None:
    members, entities = run_on_postgres(postgres_dsn, scenario, zone)
    assert members == _expected(scenario)
    assert entities == set()
