"""The compiled SQL agrees with the reference evaluator on the demo warehouse.

Complements the hypothesis test with realistic data: many related rows per parent (so counts
above one and `at_most` bite), six-level chains, merchants and products shared by many
parents, events reached through the id graph. The example audiences run as shipped, plus
variants aimed at what they leave out: `or` inside an entity's `where` (only holding branches
contribute matched entities), nested `without`, every count form, ancestor and trait
references (path mode).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import DEMO_AS_OF, build_demo_warehouse
from linked_audiences.loading import validate_data

from .reference.computed import sql_trait_tables
from .reference.evaluator import Tables, evaluate

pytestmark = pytest.mark.duckdb


def _col(c: str, op: str, v: Any = None, **kw: Any) -> dict:
    return {
        "type": "column",
        "column": c,
        "operator": op,
        **({"value": v} if v is not None else {}),
        **kw,
    }


def _ent(rel: str, where: dict | None = None, **kw: Any) -> dict:
    return {"type": "entity", "relationship": rel, **({"where": where} if where else {}), **kw}


def _or(*c: dict) -> dict:
    return {"type": "group", "operator": "or", "conditions": list(c)}


def _and(*c: dict) -> dict:
    return {"type": "group", "operator": "and", "conditions": list(c)}


VARIANTS: dict[str, dict] = {
    "or_branches_contribute_only_when_holding": _ent(
        "user-accounts",
        _or(
            _ent("account-cards", _col("card_type", "equals", "premium")),
            _and(
                _col("status", "equals", "active"),
                _ent("account-cards", _col("outstanding_balance", "greater_than", 2000)),
            ),
        ),
    ),
    "counts_on_every_level": _ent(
        "user-accounts",
        _ent(
            "account-cards",
            _ent("card-transactions", _col("status", "equals", "settled"), count={"at_least": 3}),
            count={"exactly": 1},
        ),
        count={"at_most": 1},
    ),
    "nested_without_and_zero": _ent(
        "user-accounts",
        _and(
            _ent("account-cards", _col("status", "equals", "frozen"), without=True),
            _ent("account-cards", count={"at_most": 0}, without=True),
        ),
    ),
    "ancestor_reference_path_mode": _ent(
        "user-accounts",
        _ent(
            "account-cards",
            _col(
                "credit_limit",
                "greater_than",
                reference={"relationship": "user-accounts", "column": "balance"},
            ),
        ),
    ),
    "trait_reference_deep": _ent(
        "user-accounts",
        _ent(
            "account-cards",
            _ent(
                "card-transactions", _col("currency", "not_equals", reference={"trait": "country"})
            ),
        ),
    ),
    # One join per subtree (compiler/flat.py): the same relationship twice, an `or` of
    # columns, a count on the top node, a junction, and the whole subtree negated.
    "flat_siblings_and_top_count": _ent(
        "user-accounts",
        _and(
            _ent(
                "account-cards",
                _col(
                    "credit_limit",
                    "greater_than",
                    reference={"relationship": "user-accounts", "column": "balance"},
                ),
            ),
            _ent(
                "account-cards",
                _and(
                    _or(_col("status", "equals", "active"), _col("card_type", "equals", "premium")),
                    _ent(
                        "card-transactions",
                        _col("currency", "not_equals", reference={"trait": "country"}),
                    ),
                ),
            ),
        ),
        count={"at_least": 2},
    ),
    "flat_junction_at_most": _ent(
        "user-carts",
        _ent(
            "cart-products", _col("category", "equals", reference={"trait": "preferred_category"})
        ),
        count={"at_most": 1},
    ),
    "flat_without": _and(
        _ent("user-carts", _col("status", "equals", "open")),
        _ent(
            "user-accounts",
            _ent(
                "account-cards",
                _col(
                    "credit_limit",
                    "less_than",
                    reference={"relationship": "user-accounts", "column": "min_balance"},
                ),
            ),
            without=True,
        ),
    ),
    "shared_merchants": _ent(
        "user-accounts",
        _ent(
            "account-cards",
            _ent(
                "card-transactions",
                _ent(
                    "transaction-merchant",
                    _or(
                        _col("country", "equals", "US"),
                        _ent("merchant-category", _col("is_travel", "equals", True)),
                    ),
                ),
                count={"exactly": 2},
            ),
        ),
    ),
    "junction_counts": _ent(
        "user-carts",
        _ent("cart-products", _col("price", "greater_than", 20), count={"at_least": 2}),
    ),
    "events_counted": _or(
        {
            "type": "event",
            "event": "Product Viewed",
            "count": {"exactly": 2},
            "window": {"between_days_ago": [7, 60]},
        },
        {
            "type": "event",
            "event": "Order Completed",
            "count": {"at_most": 1},
            "where": {
                "type": "property",
                "property": "revenue",
                "operator": "greater_than",
                "reference": {"trait": "avg_order_value"},
            },
        },
    ),
    "strings_and_dates": _or(
        {"type": "trait", "trait": "first_name", "operator": "contains", "value": "%"},
        {
            "type": "trait",
            "trait": "first_name",
            "operator": "does_not_contain",
            "value": "a",
            "without": True,
        },
        {"type": "trait", "trait": "email", "operator": "ends_with", "value": ".net"},
        {"type": "trait", "trait": "signup_date", "operator": "within_last", "value": 90},
        {
            "type": "trait",
            "trait": "last_seen_at",
            "operator": "after_date",
            "value": "2026-10-15T12:00:00Z",
        },
    ),
}


def _ev(event: str, where: dict | None = None, **kw: Any) -> dict:
    return {"type": "event", "event": event, **({"where": where} if where else {}), **kw}


def _prop(p: str, op: str, v: Any = None, **kw: Any) -> dict:
    return {
        "type": "property",
        "property": p,
        "operator": op,
        **({"value": v} if v is not None else {}),
        **kw,
    }


def _agg(
    function: str, name: str, op: str, v: Any = None, *, field: str = "column", **kw: Any
) -> dict:
    return {
        "function": function,
        field: name,
        "operator": op,
        **({"value": v} if v is not None else {}),
        **kw,
    }


# Funnels (steps per parent event row) and aggregates over events and entities.
VARIANTS.update(
    {
        "funnel_same_cart_nested": _ev(
            "Checkout Started",
            _and(
                _ev(
                    "Order Completed",
                    _and(
                        _prop("cart_id", "equals", reference={"parent": "cart_id"}),
                        _ev("Page Viewed", window={"within_days_after": 30}),
                    ),
                    window={"within_days_after": 2},
                ),
                _prop("revenue", "greater_than", 20),
            ),
        ),
        "funnel_or_counts_without": _ev(
            "Product Viewed",
            _or(
                _ev(
                    "Order Completed",
                    _prop("product_id", "equals", reference={"parent": "product_id"}),
                ),
                _ev("Page Viewed", count={"at_least": 3}, window={"within_days_after": 3}),
                _ev("Product Viewed", count={"exactly": 0}, window={"within_days_after": 1}),
            ),
            count={"at_least": 2},
            window={"within_last_days": 60},
        ),
        "funnel_step_aggregate_and_without": _ev(
            "Checkout Started",
            _and(
                _ev(
                    "Order Completed",
                    aggregate=_agg(
                        "sum",
                        "revenue",
                        "greater_than",
                        reference={"parent": "revenue"},
                        field="property",
                    ),
                    window={"within_days_after": 7},
                ),
                _ev("Checkout Started", without=True, window={"within_days_after": 1}),
            ),
        ),
        "aggregates_over_events": _or(
            _ev(
                "Order Completed",
                aggregate=_agg("sum", "revenue", "greater_than", 300, field="property"),
                window={"within_last_days": 90},
            ),
            _ev(
                "Order Completed",
                aggregate=_agg(
                    "avg",
                    "revenue",
                    "greater_than",
                    reference={"trait": "avg_order_value"},
                    field="property",
                ),
            ),
            _ev(
                "Product Viewed",
                aggregate=_agg(
                    "count_distinct", "category", "greater_than_or_equal", 4, field="property"
                ),
            ),
        ),
        "aggregates_over_nothing": _and(
            _ev(
                "Order Completed",
                aggregate=_agg("count_distinct", "currency", "less_than", 2, field="property"),
                window={"within_last_days": 30},
            ),
            _ev(
                "Order Completed",
                aggregate=_agg("max", "revenue", "greater_than", 500, field="property"),
                without=True,
            ),
        ),
        "aggregates_over_entities": _or(
            _ent(
                "user-accounts",
                _ent(
                    "account-cards",
                    aggregate=_agg("count_distinct", "card_type", "less_than", 2),
                ),
            ),
            _ent(
                "user-carts",
                _ent("cart-products", aggregate=_agg("sum", "price", "greater_than", 150)),
            ),
            _ent(
                "user-accounts",
                aggregate=_agg("max", "opened_at", "greater_than", "2026-06-01T00:00:00Z"),
            ),
        ),
        "aggregates_with_references": _and(
            _or(
                _ent(
                    "user-accounts",
                    aggregate=_agg(
                        "avg", "balance", "greater_than", reference={"trait": "lifetime_value"}
                    ),
                ),
                _ent(
                    "user-accounts",
                    _ent(
                        "account-cards",
                        aggregate=_agg(
                            "sum",
                            "outstanding_balance",
                            "greater_than",
                            reference={"trait": "lifetime_value"},
                        ),
                    ),
                ),
            ),
            _ent(
                "user-carts",
                aggregate=_agg(
                    "count_distinct",
                    "status",
                    "greater_than_or_equal",
                    reference={"trait": "avg_order_value"},
                ),
                without=True,
            ),
        ),
    }
)


def _users(quantifier: str, where: dict) -> dict:
    return {"type": "users", "quantifier": quantifier, "where": where}


def _acct(trait: str, op: str, v: Any = None, **kw: Any) -> dict:
    return {
        "type": "trait",
        "trait": trait,
        "operator": op,
        **({"value": v} if v is not None else {}),
        **kw,
    }


# Composite keys: cart lines keyed by (cart, line number), discounts by (cart, line, code),
# joined to their line on two columns: counts by distinct composite key, aggregates that
# read each line once, path mode (an ancestor reference), without, `or` splits.
VARIANTS.update(
    {
        "composite_counts_and_sums": _ent(
            "user-carts",
            _or(
                _ent("cart-lines", count={"at_least": 3}),
                _ent("cart-lines", aggregate=_agg("sum", "quantity", "greater_than", 8)),
                _ent(
                    "cart-lines",
                    _ent("line-discounts", count={"exactly": 2}),
                ),
            ),
        ),
        "composite_path_mode_and_without": _ent(
            "user-carts",
            _and(
                _ent(
                    "cart-lines",
                    _and(
                        _col(
                            "unit_price",
                            "less_than",
                            reference={"relationship": "user-carts", "column": "total"},
                        ),
                        _ent("line-discounts", _col("amount", "greater_than", 5)),
                    ),
                ),
                _ent("cart-lines", _col("quantity", "equals", 4), without=True),
            ),
        ),
        "composite_flat_chain": _ent(
            "user-carts",
            _ent(
                "cart-lines",
                _ent(
                    "line-discounts",
                    _col("code", "equals", reference={"trait": "preferred_category"}),
                    without=True,
                ),
            ),
        ),
    }
)


# Account audiences ("level": "account"): any / all / none of the members, empty accounts,
# account traits and references, account audiences naming account audiences, profile
# audiences and entities inside `users`.
ACCOUNT_VARIANTS: dict[str, dict] = {
    "accounts_all_and_none": _or(
        _users("all", _acct("loyalty_tier", "exists")),
        _and(
            _users("none", _ev("Order Completed", window={"within_last_days": 30})),
            _acct("seats", "greater_than", 250),
        ),
    ),
    "accounts_traits_and_audiences": _or(
        _and(
            {"type": "audience", "key": "buying_business_accounts"},
            _acct("industry", "equals", "retail", without=True),
        ),
        _acct("created_at", "within_last", 90),
        _acct("name", "starts_with", reference={"trait": "industry"}),
    ),
    "accounts_users_with_profile_audiences_and_entities": _users(
        "any",
        _or(
            {"type": "audience", "key": "high_value_loyalty"},
            _ent("user-accounts", _ent("account-cards", _col("status", "equals", "frozen"))),
        ),
    ),
    "accounts_without_buyers_anywhere": _and(
        {"type": "audience", "key": "buying_business_accounts", "without": True},
        _users("none", _ev("Order Completed")),
    ),
}


Demo = tuple[duckdb.DuckDBPyConnection, Tables, dict[str, dict[str, str]]]

_DUCKDB_TO_SPEC = {
    "VARCHAR": "string",
    "DOUBLE": "number",
    "BIGINT": "number",
    "INTEGER": "number",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A 100-profile demo warehouse, and its rows and column types for the reference."""
    path = Path(tmp_path_factory.mktemp("demo")) / "demo.duckdb"
    build_demo_warehouse(path, profiles=100, seed=11)
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    tables: Tables = {}
    types: dict[str, dict[str, str]] = {}
    for schema, name in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('ps_materialize', 'prod', 'segment', 'ml')"
    ).fetchall():
        cursor = con.execute(f'SELECT * FROM "{schema}"."{name}"')
        columns = [d[0] for d in cursor.description]
        types[f"{schema}.{name}"] = {d[0]: _DUCKDB_TO_SPEC[str(d[1])] for d in cursor.description}
        tables[f"{schema}.{name}"] = [
            dict(zip(columns, row, strict=True)) for row in cursor.fetchall()
        ]
    tables.update(sql_trait_tables(con, load_examples()[0]))  # the SQL traits' own rows
    yield con, tables, types
    con.close()


@pytest.fixture(scope="module")
def demo_on_postgres(demo: Demo, postgres_dsn: str) -> Iterator[Any]:
    """The same demo rows in PostgreSQL, in a transaction rolled back at the end."""
    import psycopg

    from .engines.postgres_loader import load_tables as load_pg

    _, tables, types = demo
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        load_pg(conn, tables, types)
        yield conn
        conn.rollback()


def _audiences() -> list[tuple[str, la.Audience]]:
    _, examples = load_examples()
    variants = [
        validate_data(la.Audience, {"key": k, "name": k, "condition": c})
        for k, c in VARIANTS.items()
    ]
    accounts = [
        validate_data(la.Audience, {"key": k, "name": k, "level": "account", "condition": c})
        for k, c in ACCOUNT_VARIANTS.items()
    ]
    return [(a.key, a) for a in [*examples, *variants, *accounts]]


CASES = _audiences()


def _expected(audience: la.Audience, tables: Tables) -> tuple[set[Any], set[Any]]:
    graph, examples = load_examples()
    result = evaluate(audience, graph, tables, DEMO_AS_OF, examples)
    return set(result.members), set(result.entities)


def _compiled(audience: la.Audience, dialect: str) -> la.CompiledAudience:
    graph, examples = load_examples()
    return la.compile(audience, graph, dialect=dialect, as_of=DEMO_AS_OF, audiences=examples)


@pytest.mark.parametrize(("key", "audience"), CASES, ids=[k for k, _ in CASES])
def test_duckdb_matches_reference_on_demo(key: str, audience: la.Audience, demo: Demo) -> None:
    con, tables, _ = demo
    compiled = _compiled(audience, "duckdb")
    members = {r[0] for r in con.execute(compiled.profiles_sql).fetchall()}
    entities = set(con.execute(compiled.entities_sql).fetchall())
    assert (members, entities) == _expected(audience, tables)


@pytest.mark.postgres
@pytest.mark.parametrize(("key", "audience"), CASES, ids=[k for k, _ in CASES])
def test_postgres_matches_reference_on_demo(
    key: str, audience: la.Audience, demo: Demo, demo_on_postgres: Any
) -> None:
    _, tables, _ = demo
    compiled = _compiled(audience, "postgres")
    members = {r[0] for r in demo_on_postgres.execute(compiled.profiles_sql).fetchall()}
    entities = set(demo_on_postgres.execute(compiled.entities_sql).fetchall())
    assert (members, entities) == _expected(audience, tables)


@pytest.mark.parametrize("key", list(VARIANTS))
def test_variants_select_some_but_not_all_profiles(key: str, demo: Demo) -> None:
    """A variant that matched nobody (or everybody) would prove nothing about its shape."""
    con, tables, _ = demo
    audience = dict(CASES)[key]
    members, _ = _expected(audience, tables)
    universe = {r[0] for r in con.execute(_compiled(_everyone(), "duckdb").profiles_sql).fetchall()}
    assert 0 < len(members) < len(universe)


@pytest.mark.parametrize("key", list(ACCOUNT_VARIANTS))
def test_account_variants_select_some_but_not_all_accounts(key: str, demo: Demo) -> None:
    con, tables, _ = demo
    members, _ = _expected(dict(CASES)[key], tables)
    accounts = {
        r[0] for r in con.execute("SELECT group_id FROM ps_materialize.account_traits").fetchall()
    }
    assert 0 < len(members) < len(accounts)


def _everyone() -> la.Audience:
    condition = {"type": "trait", "trait": "email", "operator": "exists"}
    return validate_data(
        la.Audience,
        {
            "key": "everyone",
            "name": "everyone",
            "condition": _or(condition, {**condition, "without": True}),
        },
    )
