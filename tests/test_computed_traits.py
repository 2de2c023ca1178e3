"""Computed traits: graph rules with JSON paths, every function against the reference on
DuckDB and PostgreSQL, boundaries by hand, and the traits used in audiences."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta, timezone
from typing import Any

import duckdb
import pytest

import linked_audiences as la
from linked_audiences.dialects import get_dialect
from linked_audiences.loading import validate_data

from .conftest import EXAMPLES
from .reference.duckdb_loader import load_tables
from .reference.evaluator import Tables, _Evaluator, as_instant, evaluate

UTC = timezone.utc
AS_OF = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

COMPUTED: dict[str, Any] = {
    "orders": {"event": "Order", "function": "count"},
    "priced_orders": {"event": "Order", "function": "count", "property": "price"},
    "revenue_30d": {
        "event": "Order",
        "function": "sum",
        "property": "price",
        "window": {"within_last_days": 30},
    },
    "avg_price": {"event": "Order", "function": "avg", "property": "price"},
    "min_price": {"event": "Order", "function": "min", "property": "price"},
    "max_day": {"event": "Order", "function": "max", "property": "day"},
    "categories": {"event": "Order", "function": "count_distinct", "property": "cat"},
    "first_cat": {"event": "Order", "function": "first", "property": "cat"},
    "last_cat": {"event": "Order", "function": "last", "property": "cat"},
    "last_order_at": {"event": "Order", "function": "last", "property": "at"},
    "fav_cat": {"event": "Order", "function": "most_frequent", "property": "cat"},
    "cat_list": {"event": "Order", "function": "unique_list", "property": "cat"},
    "old_big": {
        "event": "Order",
        "function": "count",
        "window": {"between_days_ago": [10, 40]},
        "where": {"type": "property", "property": "price", "operator": "greater_than", "value": 5},
    },
    "cards": {"relationship": "user-accounts.account-cards", "function": "count"},
    "visa_limit": {
        "relationship": "user-accounts.account-cards",
        "function": "sum",
        "column": "limit",
        "where": {"type": "column", "column": "kind", "operator": "equals", "value": "visa"},
    },
    "card_kinds": {
        "relationship": "user-accounts.account-cards",
        "function": "unique_list",
        "column": "kind",
    },
    "top_kind": {
        "relationship": "user-accounts.account-cards",
        "function": "most_frequent",
        "column": "kind",
    },
    "balance": {"relationship": "user-accounts", "function": "max", "column": "balance"},
}


def graph_dict(computed: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "profile": {
            "traits_table": "main.traits",
            "key": "pid",
            "identifiers_table": "main.ids",
            "traits": {"tier": "string"},
        },
        "entities": [
            {
                "slug": "account",
                "table": "main.account",
                "primary_key": "id",
                "columns": {"id": "string", "email": "string", "balance": "number"},
            },
            {
                "slug": "card",
                "table": "main.card",
                "primary_key": "id",
                "columns": {"id": "string", "kind": "string", "limit": "number"},
            },
        ],
        "relationships": [
            {
                "slug": "user-accounts",
                "related_entity": "account",
                "external_id": {"type": "email", "join_key": "email"},
                "relationships": [
                    {
                        "slug": "account-cards",
                        "related_entity": "card",
                        "join_on": "account.id = card.account_id",
                    }
                ],
            }
        ],
        "events": [
            {
                "name": "Order",
                "table": "main.orders",
                "profile_key": "pid",
                "timestamp": "ts",
                "properties": {
                    "price": "number",
                    "cat": "string",
                    "day": "date",
                    "at": "timestamp",
                },
            }
        ],
        "computed_traits": COMPUTED if computed is None else computed,
        **extra,
    }


COLUMN_TYPES: dict[str, dict[str, str]] = {
    "main.traits": {"pid": "string", "tier": "string"},
    "main.ids": {"pid": "string", "type": "string", "value": "string"},
    "main.account": {"id": "string", "email": "string", "balance": "number"},
    "main.card": {"id": "string", "account_id": "string", "kind": "string", "limit": "number"},
    "main.orders": {
        "pid": "string",
        "ts": "timestamp",
        "price": "number",
        "cat": "string",
        "day": "date",
        "at": "timestamp",
    },
}

CATS = ["a", "b", "B", "é", "a,b", "ß", "", "Z", None]


def generated(seed: int) -> Tables:
    """Small data with ties, NULLs, events after as_of and on window bounds."""
    rnd = random.Random(seed)
    profiles = [f"p{i}" for i in range(8)]
    tables: Tables = {k: [] for k in COLUMN_TYPES}
    for p in profiles:
        tables["main.ids"].append({"pid": p, "type": "user_id", "value": f"u-{p}"})
        if rnd.random() < 0.7:
            tables["main.ids"].append({"pid": p, "type": "email", "value": f"{p}@x"})
        if rnd.random() < 0.5:
            tables["main.traits"].append({"pid": p, "tier": rnd.choice(["gold", None])})
    moments = [AS_OF - timedelta(days=d) for d in (0, 1, 10, 30, 40, 45)] + [
        AS_OF + timedelta(seconds=1),
        AS_OF - timedelta(days=30, seconds=1),
    ]
    for _ in range(40):
        p = rnd.choice([*profiles, "ghost"])
        tables["main.orders"].append(
            {
                "pid": p,
                "ts": rnd.choice([*moments, None]),
                "price": rnd.choice([1.5, 2.0, 7.0, 10.0, None]),
                "cat": rnd.choice(CATS),
                "day": rnd.choice([date(2024, 1, 1), date(2024, 5, 1), None]),
                "at": rnd.choice([*moments[:3], None]),
            }
        )
    for i in range(8):
        owner = rnd.choice(profiles)
        tables["main.account"].append(
            {"id": f"a{i}", "email": f"{owner}@x", "balance": rnd.choice([5.0, 50.0, None])}
        )
    for i in range(16):
        tables["main.card"].append(
            {
                "id": f"c{i}",
                "account_id": rnd.choice([f"a{j}" for j in range(8)]),
                "kind": rnd.choice(["visa", "amex", "Visa", None]),
                "limit": rnd.choice([100.0, 250.0, None]),
            }
        )
    return tables


def reference_values(
    graph: la.DataGraph, tables: Tables, names: list[str]
) -> dict[str, dict[str, Any]]:
    ev = _Evaluator(graph, tables, AS_OF, {})
    return {p: {n: ev.trait(p, n) for n in names} for p in ev.universe(True)}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return as_instant(a) == as_instant(b)
    return bool(a == b)


def check(values: la.TraitValues, expected: dict[str, dict[str, Any]]) -> None:
    got = {row["profile_id"]: row for row in values}
    assert set(got) == set(expected)
    for p, traits in expected.items():
        for name, want in traits.items():
            assert same(got[p][name], want), (p, name, got[p][name], want)


def duckdb_warehouse(tables: Tables) -> tuple[la.Warehouse, duckdb.DuckDBPyConnection]:
    con = duckdb.connect(":memory:")
    load_tables(con, la.DataGraph.model_validate(graph_dict()), tables, COLUMN_TYPES)
    con.execute("SET TimeZone = 'America/Los_Angeles'")
    return la.Warehouse(get_dialect("duckdb"), con), con


@pytest.mark.duckdb
@pytest.mark.parametrize("seed", range(6))
def test_every_function_matches_reference_on_duckdb(seed: int) -> None:
    graph = la.DataGraph.model_validate(graph_dict())
    tables = generated(seed)
    warehouse, con = duckdb_warehouse(tables)
    try:
        names = list(COMPUTED)
        check(
            la.compute_traits(graph, warehouse, names, AS_OF),
            reference_values(graph, tables, names),
        )
    finally:
        con.close()


@pytest.mark.postgres
@pytest.mark.parametrize("seed", range(3))
def test_every_function_matches_reference_on_postgres(postgres_dsn: str, seed: int) -> None:
    import psycopg

    from .engines.postgres_loader import load_tables as load_pg

    graph = la.DataGraph.model_validate(graph_dict())
    tables = generated(seed)
    with psycopg.connect(postgres_dsn) as conn:
        try:
            conn.execute("SET TIME ZONE 'Asia/Tokyo'")
            load_pg(conn, tables, COLUMN_TYPES)
            warehouse = la.Warehouse(get_dialect("postgres"), conn)
            names = list(COMPUTED)
            check(
                la.compute_traits(graph, warehouse, names, AS_OF),
                reference_values(graph, tables, names),
            )
        finally:
            conn.rollback()


# -- boundaries by hand ------------------------------------------------------------------------


def one_profile(orders: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """The traits of profile p0 (who has no traits row) over the given orders, on DuckDB."""
    tables: Tables = {k: [] for k in COLUMN_TYPES}
    tables["main.ids"] = [{"pid": "p0", "type": "user_id", "value": "u"}]
    tables["main.orders"] = [{"pid": "p0", **o} for o in orders]
    graph = la.DataGraph.model_validate(graph_dict())
    warehouse, con = duckdb_warehouse(tables)
    try:
        rows = list(la.compute_traits(graph, warehouse, names, AS_OF))
    finally:
        con.close()
    assert len(rows) == 1
    return rows[0]


def at(days: float = 0, seconds: int = 0) -> datetime:
    return AS_OF - timedelta(days=days, seconds=seconds)


def test_no_rows_counts_zero_others_null() -> None:
    row = one_profile([], list(COMPUTED))
    for name, spec in COMPUTED.items():
        expected = 0 if spec["function"] in ("count", "count_distinct") else None
        assert row[name] == expected, name


def test_only_nulls() -> None:
    orders = [{"ts": at(1), "price": None, "cat": None}] * 2
    row = one_profile(
        orders,
        ["orders", "priced_orders", "avg_price", "categories", "fav_cat", "cat_list", "first_cat"],
    )
    assert row == {
        "profile_id": "p0",
        "orders": 2,
        "priced_orders": 0,
        "avg_price": None,
        "categories": 0,
        "fav_cat": None,
        "cat_list": None,
        "first_cat": None,
    }


def test_first_last_ties_take_the_greater_value() -> None:
    orders = [
        {"ts": at(5), "cat": "a"},
        {"ts": at(5), "cat": "b"},
        {"ts": at(5), "cat": None},
        {"ts": at(1), "cat": "B"},
        {"ts": at(1), "cat": "A"},
    ]
    row = one_profile(orders, ["first_cat", "last_cat"])
    assert (row["first_cat"], row["last_cat"]) == ("b", "B")


def test_last_is_null_when_the_latest_event_has_none() -> None:
    row = one_profile([{"ts": at(5), "cat": "a"}, {"ts": at(1), "cat": None}], ["last_cat"])
    assert row["last_cat"] is None


def test_most_frequent_ties_take_the_smaller_value() -> None:
    orders = [{"ts": at(1), "cat": c} for c in ["b", "b", "a", "a", "c", None, None, None]]
    assert one_profile(orders, ["fav_cat"])["fav_cat"] == "a"


def test_events_after_as_of_never_count_and_window_bounds() -> None:
    orders = [
        {"ts": AS_OF + timedelta(microseconds=1), "price": 1000.0},
        {"ts": at(30), "price": 1.0},  # exactly 30 days: inside within_last_days 30
        {"ts": at(30, seconds=1), "price": 100.0},  # one second older: outside
        {"ts": at(0), "price": 10.0},  # exactly as_of: inside
        {"ts": at(10), "price": 6.0},  # between_days_ago [10, 40]: 10 days is outside (<)
        {"ts": at(40), "price": 7.0},  # 40 days: inside (>=)
    ]
    row = one_profile(orders, ["revenue_30d", "orders", "old_big"])
    assert row["revenue_30d"] == 17.0  # 1 + 10 + 6
    assert row["orders"] == 5
    assert row["old_big"] == 2  # the 30d+1s (100) and the 40d (7) rows


def test_unique_list_sorts_by_code_point_with_commas_and_unicode() -> None:
    cats = ["é", "Z", "a,b", "a", "B", "ß", "a", "", None, "é"]
    orders = [{"ts": at(1), "cat": c} for c in cats]
    row = one_profile(orders, ["cat_list", "categories"])
    assert row["cat_list"] == ",".join(sorted({c for c in cats if c is not None}))
    assert row["cat_list"] == ",B,Z,a,a,b,ß,é"
    assert row["categories"] == 7


# -- validation ----------------------------------------------------------------------------------


def problems_of(computed: dict[str, Any], **extra: Any) -> dict[str, str]:
    with pytest.raises(la.DefinitionError) as info:
        validate_data(la.DataGraph, graph_dict(computed, **extra))
    return {p.path: p.rule for p in info.value.problems}


@pytest.mark.parametrize(
    ("spec", "path", "words"),
    [
        ({"event": "Nope", "function": "count"}, "$.computed_traits.t.event", "unknown event"),
        (
            {"event": "Order", "function": "sum", "property": "nope"},
            "$.computed_traits.t.property",
            "unknown property",
        ),
        ({"event": "Order", "function": "sum"}, "$.computed_traits.t.function", "needs a property"),
        (
            {"event": "Order", "function": "sum", "property": "cat"},
            "$.computed_traits.t.function",
            "does not apply to a string",
        ),
        (
            {"event": "Order", "function": "max", "property": "cat"},
            "$.computed_traits.t.function",
            "does not apply",
        ),
        (
            {"relationship": "user-accounts.nope", "function": "count"},
            "$.computed_traits.t.relationship",
            "not a path",
        ),
        (
            {"relationship": "account-cards", "function": "count"},
            "$.computed_traits.t.relationship",
            "not a path",
        ),
        (
            {"relationship": "user-accounts", "function": "min", "column": "nope"},
            "$.computed_traits.t.column",
            "unknown column",
        ),
        (
            {"relationship": "user-accounts", "function": "avg"},
            "$.computed_traits.t.function",
            "needs a column",
        ),
        (
            {
                "relationship": "user-accounts",
                "function": "count",
                "window": {"within_last_days": 3},
            },
            "$.computed_traits.t.window",
            "event traits only",
        ),
        (
            {"relationship": "user-accounts", "function": "last", "column": "balance"},
            "$.computed_traits.t.function",
            "needs an event",
        ),
        ({"function": "count"}, "$.computed_traits.t", "exactly one of event or relationship"),
        (
            {
                "event": "Order",
                "function": "count",
                "where": {
                    "type": "property",
                    "property": "cat",
                    "operator": "greater_than",
                    "value": "x",
                },
            },
            "$.computed_traits.t.where.operator",
            "does not apply",
        ),
        (
            {
                "event": "Order",
                "function": "count",
                "where": {"type": "column", "column": "kind", "operator": "exists"},
            },
            "$.computed_traits.t.where",
            "cannot appear",
        ),
        (
            {
                "event": "Order",
                "function": "count",
                "where": {
                    "type": "property",
                    "property": "cat",
                    "operator": "equals",
                    "reference": {"trait": "tier"},
                },
            },
            "$.computed_traits.t.where.reference",
            "values only",
        ),
    ],
)
def test_graph_errors_name_the_path(spec: dict[str, Any], path: str, words: str) -> None:
    problems = problems_of({"t": spec})
    assert path in problems, problems
    assert words in problems[path]


def test_name_of_a_stored_trait_is_refused() -> None:
    problems = problems_of({"tier": {"event": "Order", "function": "count"}})
    assert "stored trait" in problems["$.computed_traits.tier"]


# -- in audiences --------------------------------------------------------------------------------


def audience(condition: dict[str, Any]) -> la.Audience:
    return la.Audience.model_validate({"key": "a", "name": "a", "condition": condition})


AUDIENCES = [
    {"type": "trait", "trait": "orders", "operator": "equals", "value": 0},
    {"type": "trait", "trait": "orders", "operator": "less_than", "value": 3},
    {"type": "trait", "trait": "revenue_30d", "operator": "greater_than", "value": 5},
    {"type": "trait", "trait": "cat_list", "operator": "contains", "value": "a"},
    {"type": "trait", "trait": "cards", "operator": "greater_than_or_equal", "value": 2},
    {"type": "trait", "trait": "last_order_at", "operator": "within_last", "value": 2},
    {"type": "trait", "trait": "cards", "operator": "equals", "value": 1, "without": True},
    {
        "type": "group",
        "operator": "and",
        "conditions": [
            {"type": "trait", "trait": "tier", "operator": "equals", "value": "gold"},
            {"type": "trait", "trait": "orders", "operator": "less_than_or_equal", "value": 1},
        ],
    },
    {
        "type": "trait",
        "trait": "min_price",
        "operator": "less_than",
        "reference": {"trait": "avg_price"},
    },
    {
        "type": "entity",
        "relationship": "user-accounts",
        "where": {
            "type": "column",
            "column": "balance",
            "operator": "greater_than",
            "reference": {"trait": "balance"},
        },
        "without": True,
    },
    {
        "type": "event",
        "event": "Order",
        "where": {
            "type": "property",
            "property": "price",
            "operator": "equals",
            "reference": {"trait": "min_price"},
        },
    },
]


@pytest.mark.duckdb
@pytest.mark.parametrize("condition", AUDIENCES)
@pytest.mark.parametrize("seed", range(3))
def test_audiences_with_computed_traits_match_reference(
    condition: dict[str, Any], seed: int
) -> None:
    graph = la.DataGraph.model_validate(graph_dict())
    tables = generated(seed)
    definition = audience(condition)
    warehouse, con = duckdb_warehouse(tables)
    try:
        compiled = la.compile(definition, graph, "duckdb", as_of=AS_OF)
        members = {str(r[0]) for r in warehouse.fetchall(compiled.profiles_sql)}
        entities = {tuple(map(str, r)) for r in warehouse.fetchall(compiled.entities_sql)}
    finally:
        con.close()
    expected = evaluate(definition, graph, tables, AS_OF)
    assert members == set(expected.members)
    assert entities == set(expected.entities)


def test_count_equal_zero_does_not_read_from_the_traits_table() -> None:
    """A profile with no traits row and no events has 0 orders: it must be a candidate."""
    graph = la.DataGraph.model_validate(graph_dict())
    compiled = la.compile(audience(AUDIENCES[0]), graph, "duckdb", as_of=AS_OF)
    assert 'FROM "la_traits" AS "u"' not in compiled.profiles_sql


@pytest.mark.parametrize(
    "dialect", ["duckdb", "postgres", "snowflake", "bigquery", "redshift", "databricks"]
)
def test_every_function_renders_and_reparses(dialect: str) -> None:
    import sqlglot

    graph = la.DataGraph.model_validate(graph_dict())
    conditions = [{"type": "trait", "trait": n, "operator": "exists"} for n in COMPUTED]
    compiled = la.compile(
        audience({"type": "group", "operator": "or", "conditions": conditions}),
        graph,
        dialect,
        as_of=AS_OF,
    )
    for sql in (compiled.profiles_sql, compiled.entities_sql):
        sqlglot.parse_one(sql, read=get_dialect(dialect).sqlglot_dialect)


@pytest.mark.parametrize(
    "dialect", ["duckdb", "postgres", "snowflake", "bigquery", "redshift", "databricks"]
)
def test_an_ordered_string_aggregation_renders_the_same_twice(dialect: str) -> None:
    """sqlglot rewrites an ordered string aggregation as it prints it: a compiled query
    that holds one (``unique_list``) is rendered from a copy, so it prints the same twice."""
    graph = la.DataGraph.load(EXAMPLES / "graph.yaml")
    audience = validate_data(
        la.Audience,
        {
            "key": "lists",
            "name": "lists",
            "condition": {
                "type": "trait",
                "trait": "viewed_categories",
                "operator": "contains",
                "value": ",",
            },
        },
    )
    compiled = la.compile(audience, graph, dialect=dialect, as_of="2026-11-01T00:00:00Z")
    assert compiled.profiles_sql == compiled.profiles_sql
    assert compiled.entities_sql == compiled.entities_sql
    assert compiled.sql() == compiled.sql()
