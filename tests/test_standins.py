"""The compiled SQL runs on local stand-ins of the cloud warehouses and answers correctly.

Each stand-in (fakesnow for Snowflake, bqemulator for BigQuery, PostgreSQL behind a Redshift
wire-protocol proxy, local Spark for Databricks) gets the hypothesis scenarios of
tests/reference and must return exactly the members and matched entities the reference
evaluator computes. The stand-ins accept SQL their warehouse would not, so every statement
sent to one must also parse in sqlglot as that warehouse's dialect.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, time, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import linked_audiences as la
from linked_audiences.dialects import get_dialect

from .engines.standins import reparse
from .reference.computed import sql_trait_tables
from .reference.evaluator import evaluate
from .reference.strategies import Scenario, scenarios

#: Derandomized: the stand-ins are third-party emulators with bugs of their own (fakesnow
#: hangs on some quoted names), so CI runs the same examples every time; the random
#: exploration of the compiler lives in the DuckDB and PostgreSQL differential tests.
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)
#: Session zones the answer must not depend on (where the stand-in can change its zone).
SESSION_ZONES = st.sampled_from(["UTC", "America/Los_Angeles", "Asia/Kathmandu"])

_names = itertools.count()

Answer = tuple[set[str], set[tuple[str, str, str]]]


def fresh_name(prefix: str) -> str:
    """A database/dataset name no earlier example used (stand-ins that cannot drop one)."""
    return f"{prefix}_{next(_names)}"


def identifiers(scenario: Scenario) -> set[str]:
    """Every schema, table and column name the scenario's warehouse holds."""
    names: set[str] = set()
    for table, columns in scenario.column_types.items():
        names.update(table.split("."))
        names.update(columns)
    return names


def expected(scenario: Scenario) -> Answer:
    result = evaluate(
        scenario.audience, scenario.graph, scenario.tables, scenario.as_of, scenario.audiences
    )
    return set(result.members), set(result.entities)


def compiled_sql(scenario: Scenario, dialect: str) -> tuple[str, str]:
    """``profiles_sql`` and ``entities_sql`` for ``dialect``, each checked to parse there."""
    compiled = la.compile(
        scenario.audience,
        scenario.graph,
        dialect=dialect,
        as_of=scenario.as_of,
        audiences=scenario.audiences,
    )
    sqlglot_dialect = get_dialect(dialect).sqlglot_dialect
    for statement in (compiled.profiles_sql, compiled.entities_sql):
        reparse(statement, sqlglot_dialect)
    return compiled.profiles_sql, compiled.entities_sql


def answer(profiles: list[Any], entities: list[Any]) -> Answer:
    return (
        {str(row[0]) for row in profiles},
        {(str(p), str(r), str(e)) for p, r, e in entities},
    )


# -- Snowflake (fakesnow) --------------------------------------------------------------------


def run_on_snowflake(connection: Any, scenario: Scenario) -> Answer:
    from .engines.snowflake_loader import drop_tables, execute, load_tables

    cursor = connection.cursor()
    try:
        load_tables(cursor, scenario.tables, scenario.column_types)
        profiles_sql, entities_sql = compiled_sql(scenario, "snowflake")
        profiles = execute(cursor, profiles_sql).fetchall()
        entities = execute(cursor, entities_sql).fetchall()
        return answer(profiles, entities)
    finally:
        drop_tables(cursor, scenario.column_types)
        cursor.close()


@pytest.mark.snowflake
@SETTINGS
@given(scenario=scenarios())
def test_snowflake_matches_reference(snowflake: Any, scenario: Scenario) -> None:
    # fakesnow builds some of its own SQL from identifiers: a ' or " in a schema name hangs
    # it, in a table name it reports "already exists". Snowflake takes any quoted name.
    assume(not any("'" in name or '"' in name for name in identifiers(scenario)))
    assert run_on_snowflake(snowflake, scenario) == expected(scenario)


# -- Redshift (PostgreSQL behind redshift-connector) ------------------------------------------


def run_on_redshift(connection: Any, scenario: Scenario, zone: str) -> Answer:
    """Load, query, roll back: PostgreSQL's DDL is transactional, so each example is clean."""
    from .engines.redshift_loader import execute, load_tables

    cursor = connection.cursor()
    cursor.paramstyle = "qmark"
    try:
        load_tables(cursor, scenario.tables, scenario.column_types)
        execute(cursor, "SELECT set_config('TimeZone', ?, true)", [zone])
        profiles_sql, entities_sql = compiled_sql(scenario, "redshift")
        profiles = execute(cursor, profiles_sql).fetchall()
        entities = execute(cursor, entities_sql).fetchall()
        return answer(profiles, entities)
    finally:
        connection.rollback()
        cursor.close()


@pytest.mark.redshift
@SETTINGS
@given(scenario=scenarios(), zone=SESSION_ZONES)
def test_redshift_matches_reference(redshift: Any, scenario: Scenario, zone: str) -> None:
    assert run_on_redshift(redshift, scenario, zone) == expected(scenario)


# -- BigQuery (bqemulator) --------------------------------------------------------------------

#: BigQuery's own naming rules: dataset names are letters, digits and underscores; table
#: names add unicode letters, marks, dashes and spaces; column names (flexible names) add
#: a few symbols, but no double quote, backslash or semicolon.
_BQ_DATASET = re.compile(r"^[A-Za-z0-9_]+$")
_BQ_TABLE = re.compile(r"^[\w\- ]+$")
_BQ_COLUMN = re.compile(r"^[\w\- &%=+:'<>#|]+$")


def bigquery_can_name(scenario: Scenario) -> bool:
    for table, columns in scenario.column_types.items():
        *dataset, name = table.split(".")
        if not all(_BQ_DATASET.match(d) for d in dataset) or not _BQ_TABLE.match(name):
            return False
        if not all(_BQ_COLUMN.match(c) for c in columns):
            return False
    return True


def run_on_bigquery(client: Any, scenario: Scenario) -> Answer:
    from .engines.bigquery_loader import drop_datasets, load_tables, query

    default = fresh_name("la")
    try:
        load_tables(client, default, scenario.tables, scenario.column_types)
        profiles_sql, entities_sql = compiled_sql(scenario, "bigquery")
        profiles = [tuple(r.values()) for r in query(client, profiles_sql, default)]
        entities = [tuple(r.values()) for r in query(client, entities_sql, default)]
        return answer(profiles, entities)
    finally:
        drop_datasets(client, default, scenario.column_types)


@pytest.mark.bigquery
@settings(SETTINGS, max_examples=15)
@given(scenario=scenarios())
def test_bigquery_matches_reference(bigquery: Any, scenario: Scenario) -> None:
    assume(bigquery_can_name(scenario))
    assert run_on_bigquery(bigquery, scenario) == expected(scenario)


# -- Databricks (local Spark) -----------------------------------------------------------------


def run_on_spark(spark: Any, scenario: Scenario, zone: str) -> Answer:
    from .engines.spark_session import databases, drop_databases, load_tables, sql

    default = fresh_name("la")
    try:
        load_tables(spark, default, scenario.tables, scenario.column_types)
        spark.conf.set("spark.sql.session.timeZone", zone)
        profiles_sql, entities_sql = compiled_sql(scenario, "databricks")
        profiles = sql(spark, profiles_sql).collect()
        entities = sql(spark, entities_sql).collect()
        return answer(profiles, entities)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        drop_databases(spark, databases(default, scenario.column_types))


def spark_can_name(scenario: Scenario) -> bool:
    """Spark's (and a Hive-metastore Databricks') schema and table names are letters,
    digits and underscores only ("INVALID_SCHEMA_OR_RELATION_NAME")."""
    return all(_BQ_DATASET.match(part) for t in scenario.column_types for part in t.split("."))


@pytest.mark.databricks
@pytest.mark.slow
@settings(SETTINGS, max_examples=8)
@given(scenario=scenarios(), zone=SESSION_ZONES)
def test_databricks_matches_reference(spark: Any, scenario: Scenario, zone: str) -> None:
    """Time columns included: Databricks stores them as text (tests/engines/spark_session)."""
    assume(spark_can_name(scenario))
    assert run_on_spark(spark, scenario, zone) == expected(scenario)


#: Times on either side of each other down to the microsecond, in every accepted form.
_TIMES = [
    time(0, 0),
    time(9, 30),
    time(9, 30, 0, 500_000),
    time(12, 0),
    time(12, 0, 0, 1),
    time(23, 59, 59, 999_999),
    None,
]
#: Stored text that is no time: the reference reads it as NULL, so must Databricks.
_NOT_TIMES = ["25:00", "abc", "", "9:30", "12:00:00.", "12:00\n", "12:00:00.1234567"]
#: Condition values: short, whole-second and fractional forms of stored times, and between.
_TIME_VALUES = ["09:30", "09:30:00.5", "09:30:00.500000", "12:00:00", "12:00:00.000001", "13:00"]


def _time_tables(layout: str) -> tuple[Any, Any, dict[str, dict[str, str]]]:
    """The reference's rows, Spark's rows and the column types, for profiles with traits
    ``opens`` and ``closes`` of type time: every pair of :data:`_TIMES`, then one profile per
    text of :data:`_NOT_TIMES` in ``opens`` (NULL for the reference, the text on Spark)."""
    pairs: list[tuple[Any, Any]] = [(a, b) for a in _TIMES for b in _TIMES[::2]]
    pairs += [(text, time(12, 0)) for text in _NOT_TIMES]
    ref: list[dict[str, Any]] = []
    raw: list[dict[str, Any]] = []
    for n, (opens, closes) in enumerate(pairs):
        stored = {"opens": opens, "closes": closes}
        if layout == "long":
            for name, value in stored.items():
                ref.append({"pid": f"p{n}", "name": name, "value": _time_text(value)})
            continue
        readable = {k: v if not isinstance(v, str) else None for k, v in stored.items()}
        ref.append({"pid": f"p{n}", **readable})
        raw.append({"pid": f"p{n}", **{k: _time_text(v) for k, v in stored.items()}})
    ids = [{"pid": f"p{n}", "type": "user_id", "value": f"u{n}"} for n in range(len(pairs))]
    if layout == "wide":
        types = {"t": {"pid": "string", "opens": "time", "closes": "time"}}
    else:
        types = {"t": {"pid": "string", "name": "string", "value": "string"}}
        raw = ref
    types["i"] = {"pid": "string", "type": "string", "value": "string"}
    return {"t": ref, "i": ids}, {"t": raw, "i": ids}, types


def _time_text(value: Any) -> str | None:
    """A stored time as Databricks holds it (``time.isoformat()``), text as it is."""
    return value.isoformat() if isinstance(value, time) else value


def _time_conditions() -> list[dict[str, Any]]:
    """Every operator a time takes, with each value, with a reference, and negated."""
    from linked_audiences.validation import OPERATOR_TYPES, REFERENCE_OPERATORS

    out: list[dict[str, Any]] = []
    for operator in sorted(op for op, types in OPERATOR_TYPES.items() if "time" in types):
        base = {"type": "trait", "trait": "opens", "operator": operator}
        if operator in ("exists", "not_exists"):
            out += [base, base | {"trait": "closes"}]
            continue
        out += [base | {"value": v} for v in _TIME_VALUES]
        if operator in REFERENCE_OPERATORS["time"]:
            out.append(base | {"reference": {"trait": "closes"}})
        out.append(base | {"value": "09:30", "without": True})
    return out


@pytest.mark.databricks
@pytest.mark.slow
@pytest.mark.parametrize("layout", ["long", "wide"])
def test_time_operators_on_databricks_match_reference(spark: Any, layout: str) -> None:
    """Every time operator on Spark gives the reference evaluator's members: times stored as
    text in every accepted form, text that is no time read as NULL, fractional seconds."""
    from .engines.spark_session import databases, drop_databases, load_tables, sql

    graph = la.DataGraph.model_validate(
        {
            "profile": {
                "traits_table": "t",
                "traits_layout": layout,
                "key": "pid",
                "identifiers_table": "i",
                "traits": {"opens": "time", "closes": "time"},
            }
        }
    )
    ref_tables, spark_tables, types = _time_tables(layout)
    as_of = datetime(2024, 3, 1, tzinfo=timezone.utc)
    default = fresh_name("la")
    if layout == "wide":  # Spark's column is text: load it as text, garbage included
        types_on_spark = {t: {c: "string" for c in cs} for t, cs in types.items()}
    else:
        types_on_spark = types
    try:
        load_tables(spark, default, spark_tables, types_on_spark)
        for condition in _time_conditions():
            audience = la.Audience.model_validate({"key": "k", "name": "n", "condition": condition})
            compiled = la.compile(audience, graph, dialect="databricks", as_of=as_of)
            got = {str(row[0]) for row in sql(spark, compiled.profiles_sql).collect()}
            want = set(evaluate(audience, graph, ref_tables, as_of).members)
            assert got == want, condition
    finally:
        drop_databases(spark, databases(default, types))


# -- The example audiences on a small demo warehouse -------------------------------------------


@pytest.fixture(scope="module")
def demo_rows(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """A 30-profile demo warehouse's rows and column types, read out of DuckDB."""
    import duckdb

    from linked_audiences.demo import load_examples
    from linked_audiences.examples.generator import build_demo_warehouse

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_warehouse(path, profiles=30, seed=11)
    spec = {"VARCHAR": "string", "DOUBLE": "number", "BIGINT": "number", "INTEGER": "number"}
    spec |= {"BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP WITH TIME ZONE": "timestamp"}
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    tables, types = {}, {}
    for schema, name in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('ps_materialize', 'prod', 'segment', 'ml')"
    ).fetchall():
        cursor = con.execute(f'SELECT * FROM "{schema}"."{name}"')
        columns = [d[0] for d in cursor.description]
        types[f"{schema}.{name}"] = {d[0]: spec[str(d[1])] for d in cursor.description}
        tables[f"{schema}.{name}"] = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    tables.update(sql_trait_tables(con, load_examples()[0]))  # the SQL traits' own rows
    con.close()
    return tables, types


@pytest.mark.redshift
def test_example_audiences_on_redshift(redshift: Any, demo_rows: tuple[Any, Any]) -> None:
    """Every example audience, on the demo data, answers on Redshift as the reference does
    (they parse ISO dates out of text, which PostgreSQL's SQL did with MAKE_DATE)."""
    from linked_audiences.demo import load_examples
    from linked_audiences.examples.generator import DEMO_AS_OF

    from .engines.redshift_loader import execute, load_tables

    tables, types = demo_rows
    graph, examples = load_examples()
    cursor = redshift.cursor()
    cursor.paramstyle = "qmark"
    try:
        load_tables(cursor, {t: rows for t, rows in tables.items() if t in types}, types)
        for audience in examples:
            result = evaluate(audience, graph, tables, DEMO_AS_OF, examples)
            compiled = la.compile(
                audience, graph, dialect="redshift", as_of=DEMO_AS_OF, audiences=examples
            )
            got = answer(
                execute(cursor, compiled.profiles_sql).fetchall(),
                execute(cursor, compiled.entities_sql).fetchall(),
            )
            assert got == (set(map(str, result.members)), set(result.entities)), audience.key
    finally:
        redshift.rollback()
        cursor.close()
