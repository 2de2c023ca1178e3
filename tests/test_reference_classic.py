"""Funnels and aggregate conditions: hand-computed answers, checked on the evaluator and SQL.

Every expected answer below was worked out by hand from the rules for funnel steps (an event
inside an event's ``where``, evaluated per parent row) and aggregate conditions; none comes
from running the evaluator or the compiler. Each case runs three ways: the reference
evaluator, the compiled SQL on DuckDB and on PostgreSQL, and all three must give the hand
answer — the boundaries here (equal instants, exactly N days, one microsecond, ``as_of``,
NULLs, rows repeated by joins) are where SQL and the rules most easily part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

import linked_audiences as la
from tests.reference.evaluator import Tables, evaluate
from tests.reference.strategies import Scenario
from tests.test_differential import run_on_duckdb, run_on_postgres

UTC = timezone.utc
T = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)  # as_of
DAY = timedelta(days=1)
US = timedelta(microseconds=1)

GRAPH = la.DataGraph.model_validate(
    {
        "profile": {
            "traits_table": "ps.traits",
            "identifiers_table": "ps.ids",
            "key": "pid",
            "traits": {"budget": "number", "tier": "string"},
        },
        "entities": [
            {
                "slug": "account",
                "table": "prod.account",
                "primary_key": "id",
                "columns": {
                    "balance": "number",
                    "opened": "date",
                    "seen": "timestamp",
                    "plan": "string",
                },
            },
            {
                "slug": "product",
                "table": "prod.product",
                "primary_key": "sku",
                "columns": {"price": "number"},
            },
        ],
        "relationships": [
            {
                "slug": "accounts",
                "related_entity": "account",
                "external_id": {"type": "email", "join_key": "email"},
                "relationships": [
                    {
                        "slug": "products",
                        "related_entity": "product",
                        "junction_table": {
                            "table": "prod.holding",
                            "primary_key": "id",
                            "left_join_on": "account.id = account_id",
                            "right_join_on": "sku = product.sku",
                        },
                    }
                ],
            }
        ],
        "events": [
            {
                "name": "Checkout Started",
                "table": "seg.checkouts",
                "profile_key": "pid",
                "properties": {"cart": "string", "total": "number"},
            },
            {
                "name": "Order Completed",
                "table": "seg.orders",
                "profile_key": "pid",
                "properties": {
                    "cart": "string",
                    "price": "number",
                    "placed": {"type": "date", "column": "placed_on"},
                    "paid_at": "timestamp",
                },
            },
            {
                "name": "Item Shipped",
                "table": "seg.shipments",
                "profile_key": "pid",
                "properties": {"cart": "string"},
            },
        ],
    }
)

COLUMN_TYPES: dict[str, dict[str, str]] = {
    "ps.traits": {"pid": "string", "budget": "number", "tier": "string"},
    "ps.ids": {"pid": "string", "type": "string", "value": "string"},
    "prod.account": {
        "id": "string",
        "email": "string",
        "balance": "number",
        "opened": "date",
        "seen": "timestamp",
        "plan": "string",
    },
    "prod.product": {"sku": "string", "price": "number"},
    "prod.holding": {"id": "string", "account_id": "string", "sku": "string"},
    "seg.checkouts": {
        "pid": "string",
        "timestamp": "timestamp",
        "cart": "string",
        "total": "number",
    },
    "seg.orders": {
        "pid": "string",
        "timestamp": "timestamp",
        "cart": "string",
        "price": "number",
        "placed_on": "date",
        "paid_at": "timestamp",
    },
    "seg.shipments": {"pid": "string", "timestamp": "timestamp", "cart": "string"},
}


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def people(n: int) -> list[dict[str, Any]]:
    """Identifiers putting p0 … p(n-1) in the universe (email ``p<i>@x.io``)."""
    return [{"pid": f"p{i}", "type": "email", "value": f"p{i}@x.io"} for i in range(n)]


def ps(*indexes: int) -> set[str]:
    return {f"p{i}" for i in indexes}


def checkout(
    pid: str, ts: datetime, cart: str | None = None, total: float | None = None
) -> dict[str, Any]:
    return {"pid": pid, "timestamp": ts, "cart": cart, "total": total}


def order(pid: str, ts: datetime, **kw: Any) -> dict[str, Any]:
    return {"pid": pid, "timestamp": ts, **kw}


def shipment(pid: str, ts: datetime, cart: str | None) -> dict[str, Any]:
    return {"pid": pid, "timestamp": ts, "cart": cart}


def event(name: str, where: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    node = {"type": "event", "event": name, **kw}
    return {**node, "where": where} if where is not None else node


def entity(slug: str, where: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    node = {"type": "entity", "relationship": slug, **kw}
    return {**node, "where": where} if where is not None else node


def prop(name: str, op: str, **kw: Any) -> dict[str, Any]:
    return {"type": "property", "property": name, "operator": op, **kw}


def col(name: str, op: str, **kw: Any) -> dict[str, Any]:
    return {"type": "column", "column": name, "operator": op, **kw}


def group(op: str, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "group", "operator": op, "conditions": list(conditions)}


def agg(function: str, operand: str, op: str, *, on: str = "property", **kw: Any) -> dict[str, Any]:
    """An aggregate over ``operand`` (a property, or a column with ``on="column"``)."""
    return {"function": function, on: operand, "operator": op, **kw}


def after(name: str, where: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """A funnel step (an event inside an event's where)."""
    return event(name, where, **kw)


def within(days: int) -> dict[str, int]:
    return {"within_days_after": days}


CHECKOUT = "Checkout Started"
ORDER = "Order Completed"
SHIPPED = "Item Shipped"


@dataclass(frozen=True)
class Case:
    """A condition, the data, and the hand-computed members and matched entities."""

    condition: dict[str, Any]
    tables: Tables
    members: set[str]
    entities: frozenset[tuple[str, str, str]] = frozenset()


CASES: dict[str, Case] = {}


def case(
    name: str, condition: dict[str, Any], tables: Tables, members: set[str], **kw: Any
) -> None:
    assert name not in CASES
    CASES[name] = Case(condition, tables, members, frozenset(kw.get("entities", ())))


# --------------------------------------------------------------------------------------------
# Funnels: a step is evaluated per parent row; parent.ts < child.ts <= as_of
# --------------------------------------------------------------------------------------------

case(
    "step: a child at the same instant does not follow",
    event(CHECKOUT, after(ORDER)),
    {
        "ps.ids": people(2),
        # p0: checkout and order at the same instant; p1: the order one microsecond later
        "seg.checkouts": [checkout("p0", T - 2 * DAY), checkout("p1", T - 2 * DAY)],
        "seg.orders": [order("p0", T - 2 * DAY), order("p1", T - 2 * DAY + US)],
    },
    ps(1),
)
case(
    "step: within_days_after N holds at exactly N days, not one microsecond later",
    event(CHECKOUT, after(ORDER, window=within(1))),
    {
        "ps.ids": people(3),
        "seg.checkouts": [checkout(f"p{i}", T - 3 * DAY) for i in range(3)],
        # p0 exactly 1 day after; p1 1 day + 1 µs after; p2 1 µs after
        "seg.orders": [
            order("p0", T - 2 * DAY),
            order("p1", T - 2 * DAY + US),
            order("p2", T - 3 * DAY + US),
        ],
    },
    ps(0, 2),
)
case(
    "step: a child after as_of never counts (parent inside the window)",
    event(CHECKOUT, after(ORDER, window=within(2)), window={"within_last_days": 7}),
    {
        "ps.ids": people(3),
        "seg.checkouts": [checkout(f"p{i}", T - DAY) for i in range(3)],
        # p0: one µs after as_of (within 2 days of the parent); p1: at as_of; p2: a day later
        "seg.orders": [order("p0", T + US), order("p1", T), order("p2", T + DAY)],
    },
    ps(1),
)
case(
    "step: children are not bound by the parent's window",
    event(CHECKOUT, after(ORDER), window={"between_days_ago": [2, 7]}),
    {
        "ps.ids": people(2),
        # p0: checkout in the window (3 days ago), order after the window's end (1 day ago);
        # p1: checkout outside the window (1 day ago), order after it
        "seg.checkouts": [checkout("p0", T - 3 * DAY), checkout("p1", T - DAY)],
        "seg.orders": [order("p0", T - DAY), order("p1", T - DAY / 2)],
    },
    ps(0),
)
case(
    "step: without is decided per parent row",
    event(CHECKOUT, after(ORDER, window=within(1), without=True)),
    {
        "ps.ids": people(4),
        # p0: the first checkout is followed by an order, the second is not (the order is
        # before it) ⇒ holds through the second; p1: its only checkout is followed;
        # p2: a checkout and no order at all; p3: no checkout
        "seg.checkouts": [
            checkout("p0", T - 5 * DAY),
            checkout("p0", T - 3 * DAY),
            checkout("p1", T - 5 * DAY),
            checkout("p2", T - 5 * DAY),
        ],
        "seg.orders": [order("p0", T - 4 * DAY), order("p1", T - 4 * DAY)],
    },
    ps(0, 2),
)
case(
    "step: the parent's count counts parent rows whose where holds",
    event(CHECKOUT, after(ORDER, window=within(1), without=True), count={"exactly": 1}),
    {
        "ps.ids": people(2),
        # p0: two checkouts, only the second is without a follow-up ⇒ exactly 1;
        # p1: two checkouts, neither followed ⇒ 2
        "seg.checkouts": [
            checkout("p0", T - 5 * DAY),
            checkout("p0", T - 3 * DAY),
            checkout("p1", T - 5 * DAY),
            checkout("p1", T - 3 * DAY),
        ],
        "seg.orders": [order("p0", T - 4 * DAY)],
    },
    ps(0),
)
case(
    "step: count exactly 2 (duplicate rows count twice; earlier rows never)",
    event(CHECKOUT, after(ORDER, count={"exactly": 2})),
    {
        "ps.ids": people(4),
        "seg.checkouts": [checkout(f"p{i}", T - 5 * DAY) for i in range(4)],
        "seg.orders": [
            order("p0", T - 4 * DAY),  # p0: two follow-ups
            order("p0", T - 3 * DAY),
            order("p1", T - 4 * DAY),  # p1: three
            order("p1", T - 3 * DAY),
            order("p1", T - 2 * DAY),
            order("p2", T - 4 * DAY),  # p2: one after, one before
            order("p2", T - 6 * DAY),
            order("p3", T - 4 * DAY),  # p3: one row twice
            order("p3", T - 4 * DAY),
        ],
    },
    ps(0, 3),
)
case(
    "step: at_most 1 and the within_days_after bound",
    event(CHECKOUT, after(ORDER, window=within(2), count={"at_most": 1})),
    {
        "ps.ids": people(4),
        "seg.checkouts": [checkout(f"p{i}", T - 5 * DAY) for i in range(3)],
        "seg.orders": [
            order("p0", T - 4 * DAY),  # p0: two within 2 days, one later (not counted)
            order("p0", T - 3.5 * DAY),
            order("p0", T - 2 * DAY),
            order("p1", T - 4 * DAY),  # p1: one within, one later
            order("p1", T - DAY),
        ],  # p2: none; p3: no checkout at all
    },
    ps(1, 2),
)
case(
    "step: exactly 0",
    event(CHECKOUT, after(ORDER, window=within(2), count={"exactly": 0})),
    {
        "ps.ids": people(4),
        "seg.checkouts": [checkout(f"p{i}", T - 5 * DAY) for i in range(3)],
        "seg.orders": [
            order("p0", T - 4 * DAY),
            order("p1", T - DAY),  # too late: none within 2 days
        ],
    },
    ps(1, 2),
)
case(
    "step: under an or",
    event(CHECKOUT, group("or", prop("total", "greater_than", value=100), after(ORDER))),
    {
        "ps.ids": people(4),
        # p0: big checkout, no order; p1: small, followed; p2: small, order before; p3: NULL
        "seg.checkouts": [
            checkout("p0", T - 5 * DAY, total=150),
            checkout("p1", T - 5 * DAY, total=50),
            checkout("p2", T - 5 * DAY, total=50),
            checkout("p3", T - 5 * DAY, total=None),
        ],
        "seg.orders": [order("p1", T - 4 * DAY), order("p2", T - 6 * DAY)],
    },
    ps(0, 1),
)
_SAME_CART = prop("cart", "equals", reference={"parent": "cart"})
case(
    "step of a step: a parent reference names the middle event",
    event(CHECKOUT, after(ORDER, after(SHIPPED, _SAME_CART))),
    {
        "ps.ids": people(2),
        "seg.checkouts": [checkout("p0", T - 5 * DAY, "A"), checkout("p1", T - 5 * DAY, "A")],
        "seg.orders": [order("p0", T - 4 * DAY, cart="B"), order("p1", T - 4 * DAY, cart="B")],
        # p0 ships the order's cart B; p1 ships the checkout's cart A (not the order's)
        "seg.shipments": [shipment("p0", T - 3 * DAY, "B"), shipment("p1", T - 3 * DAY, "A")],
    },
    ps(0),
)
_NULL_CARTS: Tables = {
    "ps.ids": people(4),
    "seg.checkouts": [
        checkout("p0", T - 5 * DAY, None),
        checkout("p1", T - 5 * DAY, "A"),
        checkout("p2", T - 5 * DAY, "A"),
        checkout("p3", T - 5 * DAY, "A"),
    ],
    "seg.orders": [
        order("p0", T - 4 * DAY, cart=None),
        order("p1", T - 4 * DAY, cart=None),
        order("p2", T - 4 * DAY, cart="A"),
        order("p3", T - 4 * DAY, cart="B"),
    ],
}
case(
    "step: equals a parent reference is false with a NULL on either side",
    event(CHECKOUT, after(ORDER, _SAME_CART)),
    _NULL_CARTS,
    ps(2),
)
case(
    "step: not_equals a parent reference is false with a NULL on either side",
    event(CHECKOUT, after(ORDER, prop("cart", "not_equals", reference={"parent": "cart"}))),
    _NULL_CARTS,
    ps(3),
)
case(
    "step aggregate: sum compared with a parent reference",
    event(
        CHECKOUT,
        after(
            ORDER,
            aggregate=agg("sum", "price", "greater_than_or_equal", reference={"parent": "total"}),
        ),
    ),
    {
        "ps.ids": people(3),
        # follow-ups sum to 30 for p0 and p1; p0's checkout total is 30, p1's 31; p2 has none
        "seg.checkouts": [
            checkout("p0", T - 5 * DAY, total=30),
            checkout("p1", T - 5 * DAY, total=31),
            checkout("p2", T - 5 * DAY, total=0),
        ],
        "seg.orders": [
            order("p0", T - 4 * DAY, price=10),
            order("p0", T - 3 * DAY, price=20),
            order("p1", T - 4 * DAY, price=10),
            order("p1", T - 3 * DAY, price=20),
        ],
    },
    ps(0),
)
case(
    "step aggregate: count_distinct equals 0 holds for a parent row without follow-ups",
    event(CHECKOUT, after(ORDER, aggregate=agg("count_distinct", "cart", "equals", value=0))),
    {
        "ps.ids": people(3),
        "seg.checkouts": [checkout(f"p{i}", T - 5 * DAY) for i in range(2)],
        # p0: a follow-up with a cart; p1: only an earlier order; p2: no checkout
        "seg.orders": [order("p0", T - 4 * DAY, cart="A"), order("p1", T - 6 * DAY, cart="A")],
    },
    ps(1),
)


# --------------------------------------------------------------------------------------------
# Aggregates on events
# --------------------------------------------------------------------------------------------

_PRICES: Tables = {
    "ps.ids": people(4),
    "seg.orders": [
        order("p0", T - DAY, price=10),  # p0: 10 + 20
        order("p0", T - 2 * DAY, price=20),
        # p1: no orders
        order("p2", T - DAY, price=None),  # p2: only NULL prices
        order("p2", T - 2 * DAY, price=None),
        order("p3", T + DAY, price=5),  # p3: an order after as_of only
    ],
}
case(
    "aggregate: sum over no rows or only NULLs is false",
    event(ORDER, aggregate=agg("sum", "price", "greater_than", value=-1)),
    _PRICES,
    ps(0),
)
case(
    "aggregate: without of a sum over nothing holds",
    event(ORDER, aggregate=agg("sum", "price", "greater_than", value=-1), without=True),
    _PRICES,
    ps(1, 2, 3),
)
case(
    "aggregate: avg skips NULLs",
    event(ORDER, aggregate=agg("avg", "price", "equals", value=15)),
    {
        "ps.ids": people(3),
        "seg.orders": [
            order("p0", T - DAY, price=10),  # p0: 10, 20, NULL ⇒ 15 (not 10)
            order("p0", T - DAY, price=20),
            order("p0", T - DAY, price=None),
            order("p1", T - DAY, price=15),  # p1: 15
            order("p2", T - DAY, price=10),  # p2: 10, 20, 0 ⇒ 10
            order("p2", T - DAY, price=20),
            order("p2", T - DAY, price=0),
        ],
    },
    ps(0, 1),
)
_CARTS: Tables = {
    "ps.ids": people(3),
    "seg.orders": [
        order("p0", T - DAY, cart="A"),  # p0: A, A, B ⇒ 2
        order("p0", T - DAY, cart="A"),
        order("p0", T - DAY, cart="B"),
        order("p2", T - DAY, cart=None),  # p2: only NULL ⇒ 0; p1: no rows ⇒ 0
    ],
}
case(
    "aggregate: count_distinct over nothing equals 0",
    event(ORDER, aggregate=agg("count_distinct", "cart", "equals", value=0)),
    _CARTS,
    ps(1, 2),
)
case(
    "aggregate: count_distinct over nothing is less than 1",
    event(ORDER, aggregate=agg("count_distinct", "cart", "less_than", value=1)),
    _CARTS,
    ps(1, 2),
)
case(
    "aggregate: count_distinct over nothing is not greater than 0",
    event(ORDER, aggregate=agg("count_distinct", "cart", "greater_than", value=0)),
    _CARTS,
    ps(0),
)
case(
    "aggregate: count_distinct counts distinct values",
    event(ORDER, aggregate=agg("count_distinct", "cart", "equals", value=2)),
    _CARTS,
    ps(0),
)
_PAID: Tables = {
    "ps.ids": people(3),
    "seg.orders": [
        order("p0", T - 5 * DAY, paid_at=T - 3 * DAY),
        order("p0", T - 5 * DAY, paid_at=T - DAY),
        order("p1", T - 5 * DAY, paid_at=T - DAY - US),
        order("p2", T - 5 * DAY, paid_at=None),
    ],
}
case(
    "aggregate: max of a timestamp, boundary inclusive",
    event(
        ORDER,
        aggregate=agg("max", "paid_at", "greater_than_or_equal", value="2024-03-09T12:00:00Z"),
    ),
    _PAID,
    ps(0),
)
case(
    "aggregate: min of a timestamp",
    event(ORDER, aggregate=agg("min", "paid_at", "less_than", value="2024-03-08T12:00:00Z")),
    _PAID,
    ps(0),
)
_PLACED: Tables = {
    "ps.ids": people(3),
    "seg.orders": [
        order("p0", T - DAY, placed_on=date(2024, 2, 1)),
        order("p0", T - DAY, placed_on=date(2024, 3, 1)),
        order("p1", T + DAY, placed_on=date(2024, 3, 1)),  # after as_of: no rows
        order("p2", T - DAY, placed_on=date(2024, 2, 29)),
    ],
}
case(
    "aggregate: max of a date",
    event(ORDER, aggregate=agg("max", "placed", "equals", value="2024-03-01")),
    _PLACED,
    ps(0),
)
case(
    "aggregate: min of a date",
    event(ORDER, aggregate=agg("min", "placed", "less_than", value="2024-02-29")),
    _PLACED,
    ps(0),
)
_BUDGETS: Tables = {
    "ps.ids": people(5),
    "ps.traits": [
        {"pid": "p0", "budget": 20},
        {"pid": "p1", "budget": None},
        {"pid": "p2", "budget": 50},
        {"pid": "p3", "budget": -1},
        {"pid": "p4", "budget": 1},
    ],
    "seg.orders": [
        order("p0", T - DAY, price=10, cart="A"),
        order("p0", T - DAY, price=20, cart="B"),
        order("p1", T - DAY, price=30, cart="A"),
        order("p2", T - DAY, price=30, cart="A"),
    ],  # p3, p4: no orders
}
case(
    "aggregate: sum against a trait reference (NULL trait ⇒ false)",
    event(ORDER, aggregate=agg("sum", "price", "greater_than", reference={"trait": "budget"})),
    _BUDGETS,
    ps(0),
)
case(
    "aggregate: count_distinct over nothing against a trait reference",
    event(
        ORDER, aggregate=agg("count_distinct", "cart", "less_than", reference={"trait": "budget"})
    ),
    _BUDGETS,
    # p0: 2 < 20; p1: NULL budget; p2: 1 < 50; p3: 0 < -1 no; p4: 0 < 1
    ps(0, 2, 4),
)


# --------------------------------------------------------------------------------------------
# Aggregates on entities
# --------------------------------------------------------------------------------------------

_ACCOUNTS: Tables = {
    "ps.ids": [
        {"pid": "p0", "type": "email", "value": "a@x.io"},
        {"pid": "p0", "type": "email", "value": "a@x.io"},  # the same identifier twice
        {"pid": "p1", "type": "email", "value": "b@x.io"},
        {"pid": "p2", "type": "email", "value": "c@x.io"},
    ],
    "prod.account": [
        {"id": "A1", "email": "a@x.io", "balance": 100, "plan": "gold"},
        {"id": "A4", "email": "a@x.io", "balance": None, "plan": "gold"},
        {"id": "A5", "email": "a@x.io", "balance": 500, "plan": "silver"},
        {"id": "A2", "email": "b@x.io", "balance": 30, "plan": "gold"},
        {"id": "A3", "email": "b@x.io", "balance": 10, "plan": "gold"},
    ],
    "prod.product": [{"sku": "P1", "price": 10}, {"sku": "P2", "price": 5}],
    "prod.holding": [
        {"id": "j1", "account_id": "A1", "sku": "P1"},
        {"id": "j2", "account_id": "A1", "sku": "P1"},  # the same link twice
        {"id": "j3", "account_id": "A1", "sku": "P2"},
        {"id": "j4", "account_id": "A2", "sku": "P1"},
    ],
}
_GOLD = col("plan", "equals", value="gold")
case(
    "entity aggregate: each entity once despite a repeated identifier",
    entity("accounts", aggregate=agg("sum", "balance", "equals", on="column", value=600)),
    _ACCOUNTS,
    # p0: A1 100 + A4 NULL + A5 500 (not 1200 through the doubled email); p1 40; p2 none
    ps(0),
    entities={("p0", "accounts", "A1"), ("p0", "accounts", "A4"), ("p0", "accounts", "A5")},
)
case(
    "entity aggregate: each product once despite a repeated junction link",
    entity(
        "accounts",
        entity("products", aggregate=agg("sum", "price", "equals", on="column", value=15)),
    ),
    _ACCOUNTS,
    # A1: P1 10 + P2 5 = 15 (not 25); A2: P1 10
    ps(0),
    entities={("p0", "accounts", "A1"), ("p0", "products", "P1"), ("p0", "products", "P2")},
)
case(
    "entity aggregate: matched entities are the where's rows, NULL values included",
    entity(
        "accounts", _GOLD, aggregate=agg("sum", "balance", "greater_than", on="column", value=50)
    ),
    _ACCOUNTS,
    # p0: gold A1 100 + A4 NULL ⇒ 100 > 50, matched A1 and A4 (not silver A5);
    # p1: gold A2 30 + A3 10 = 40 ⇒ fails, nothing matched; p2: no accounts
    ps(0),
    entities={("p0", "accounts", "A1"), ("p0", "accounts", "A4")},
)
case(
    "entity aggregate: without contributes no entities",
    entity(
        "accounts",
        _GOLD,
        aggregate=agg("sum", "balance", "greater_than", on="column", value=50),
        without=True,
    ),
    _ACCOUNTS,
    ps(1, 2),
)
case(
    "entity aggregate: count_distinct equals 0 holds without accounts, matching nothing",
    entity("accounts", aggregate=agg("count_distinct", "plan", "equals", on="column", value=0)),
    _ACCOUNTS,
    ps(2),
)
case(
    "entity aggregate: against a trait reference",
    entity(
        "accounts",
        aggregate=agg("max", "balance", "less_than", on="column", reference={"trait": "budget"}),
    ),
    {
        **_ACCOUNTS,
        # p0: max 500 < 600; p1: max 30 < NULL ⇒ false; p2: no accounts ⇒ NULL ⇒ false
        "ps.traits": [
            {"pid": "p0", "budget": 600},
            {"pid": "p1", "budget": None},
            {"pid": "p2", "budget": 1000},
        ],
    },
    ps(0),
    entities={("p0", "accounts", "A1"), ("p0", "accounts", "A4"), ("p0", "accounts", "A5")},
)


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


def scenario(c: Case) -> Scenario:
    audience = la.Audience.model_validate({"key": "main", "name": "main", "condition": c.condition})
    return Scenario(GRAPH, c.tables, COLUMN_TYPES, audience, (), T)


IDS = list(CASES)


@pytest.mark.parametrize("name", IDS)
def test_evaluator(name: str) -> None:
    c, s = CASES[name], scenario(CASES[name])
    r = evaluate(s.audience, s.graph, s.tables, s.as_of)
    assert (set(r.members), set(r.entities)) == (c.members, set(c.entities))


@pytest.mark.duckdb
@pytest.mark.parametrize("name", IDS)
def test_duckdb(name: str) -> None:
    c = CASES[name]
    assert run_on_duckdb(scenario(c)) == (c.members, set(c.entities))


@pytest.mark.postgres
@pytest.mark.parametrize("name", IDS)
def test_postgres(postgres_dsn: str, name: str) -> None:
    c = CASES[name]
    assert run_on_postgres(postgres_dsn, scenario(c)) == (c.members, set(c.entities))
