"""Funnels, aggregates, account audiences, composite keys, computed and SQL traits on every
stand-in, against the reference.

The hypothesis scenarios of tests/test_standins.py do not generate funnel steps or
aggregates; these run the classic-Engage examples and the demo variants aimed at them
(correlated step subqueries, HAVING on aggregates, aggregates compared at the parent) on a
100-profile demo warehouse loaded once per stand-in. Each warehouse's SQL must also parse in
sqlglot as that warehouse's dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.dialects import get_dialect
from linked_audiences.examples.generator import DEMO_AS_OF, build_demo_warehouse
from linked_audiences.loading import validate_data

from .engines.demo_copy import SCHEMAS, demo_tables
from .engines.standins import reparse
from .reference.evaluator import Tables, evaluate
from .test_differential_demo import ACCOUNT_VARIANTS, VARIANTS
from .test_standins import answer, fresh_name

#: The example audiences that use funnels or aggregates.
CLASSIC_EXAMPLES = (
    "checkout_not_completed",
    "big_spenders_90d",
    "indebted_cardholders",
    "buying_business_accounts",
    "discounted_bulk_carts",
    "high_spenders_without_active_card",
    "churn_risk_vips",
)
CLASSIC_VARIANTS = tuple(
    k for k in VARIANTS if k.startswith(("funnel_", "aggregates_", "composite_"))
)

Rows = tuple[Tables, dict[str, dict[str, str]]]
Query = Callable[[str], list[Any]]


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> Rows:
    path = Path(tmp_path_factory.mktemp("classic")) / "demo.duckdb"
    build_demo_warehouse(path, profiles=100, seed=11)
    return demo_tables(path, (*SCHEMAS, "ml"), integers=True)


#: Every computed trait of the demo graph, and a comparison between two of them.
TRAITS_VARIANT = {
    "type": "group",
    "operator": "or",
    "conditions": [
        {"type": "trait", "trait": "revenue_90d", "operator": "greater_than", "value": 200},
        {"type": "trait", "trait": "orders_90d", "operator": "equals", "value": 0},
        {
            "type": "trait",
            "trait": "favourite_category",
            "operator": "equals",
            "reference": {"trait": "preferred_category"},
        },
        {"type": "trait", "trait": "active_cards", "operator": "greater_than", "value": 1},
    ],
}
#: unique_list: LISTAGG … WITHIN GROUP on Redshift, which its PostgreSQL stand-in lacks.
LIST_VARIANT = {"type": "trait", "trait": "viewed_categories", "operator": "contains", "value": ","}


def _audiences(lists: bool = True) -> list[la.Audience]:
    _, examples = load_examples()
    chosen = [a for a in examples if a.key in CLASSIC_EXAMPLES]
    assert len(chosen) == len(CLASSIC_EXAMPLES)
    variants = [
        validate_data(la.Audience, {"key": k, "name": k, "condition": VARIANTS[k]})
        for k in CLASSIC_VARIANTS
    ]
    accounts = [
        validate_data(la.Audience, {"key": k, "name": k, "level": "account", "condition": c})
        for k, c in ACCOUNT_VARIANTS.items()
    ]
    traits = [
        validate_data(la.Audience, {"key": key, "name": key, "condition": condition})
        for key, condition in [("computed_traits", TRAITS_VARIANT), ("unique_list", LIST_VARIANT)]
        if lists or key != "unique_list"
    ]
    return [*chosen, *variants, *accounts, *traits]


def check_all(dialect: str, tables: Tables, query: Query, lists: bool = True) -> None:
    """Every classic audience: ``query``'s answer equals the reference evaluator's."""
    graph, examples = load_examples()
    sqlglot_dialect = get_dialect(dialect).sqlglot_dialect
    nonempty = 0
    audiences = _audiences(lists)
    for audience in audiences:
        compiled = la.compile(
            audience, graph, dialect=dialect, as_of=DEMO_AS_OF, audiences=examples
        )
        for statement in (compiled.profiles_sql, compiled.entities_sql):
            reparse(statement, sqlglot_dialect)
        got = answer(query(compiled.profiles_sql), query(compiled.entities_sql))
        result = evaluate(audience, graph, tables, DEMO_AS_OF, examples)
        assert got == (set(map(str, result.members)), set(result.entities)), audience.key
        nonempty += bool(result.members)
    # every audience selects someone (but churn_risk_vips: no VIP scores over 0.8 here)
    assert nonempty == len(audiences) - 1


def test_audiences_are_the_classic_ones() -> None:
    assert len(CLASSIC_VARIANTS) >= 6


@pytest.mark.snowflake
def test_classic_on_snowflake(snowflake: Any, rows: Rows) -> None:
    from .engines.snowflake_loader import drop_tables, execute, load_tables

    tables, types = rows
    cursor = snowflake.cursor()
    try:
        load_tables(cursor, tables, types)
        check_all("snowflake", tables, lambda s: execute(cursor, s).fetchall())
    finally:
        drop_tables(cursor, types)
        cursor.close()


@pytest.mark.redshift
def test_classic_on_redshift(redshift: Any, rows: Rows) -> None:
    from .engines.redshift_loader import execute, load_tables

    tables, types = rows
    cursor = redshift.cursor()
    cursor.paramstyle = "qmark"
    try:
        load_tables(cursor, tables, types)
        execute(cursor, "SELECT set_config('TimeZone', ?, true)", ["America/Los_Angeles"])
        check_all("redshift", tables, lambda s: execute(cursor, s).fetchall(), lists=False)
    finally:
        redshift.rollback()
        cursor.close()


@pytest.mark.bigquery
def test_classic_on_bigquery(bigquery: Any, rows: Rows) -> None:
    from .engines.bigquery_loader import drop_datasets, load_tables, query

    tables, types = rows
    default = fresh_name("la")
    try:
        load_tables(bigquery, default, tables, types)
        check_all(
            "bigquery",
            tables,
            lambda s: [tuple(r.values()) for r in query(bigquery, s, default)],
        )
    finally:
        drop_datasets(bigquery, default, types)


@pytest.mark.databricks
@pytest.mark.slow
def test_classic_on_databricks(spark: Any, rows: Rows) -> None:
    from .engines.spark_session import databases, drop_databases, load_tables, sql

    tables, types = rows
    default = fresh_name("la")
    try:
        load_tables(spark, default, tables, types)
        spark.conf.set("spark.sql.session.timeZone", "Asia/Kathmandu")
        check_all("databricks", tables, lambda s: sql(spark, s).collect())
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        drop_databases(spark, databases(default, types))
