"""The reference evaluator against hand-computed answers, and the generators that feed it.

Every expected answer below was worked out by hand from SPEC §3 and docs/semantics.md; none
comes from running the evaluator. The hypothesis tests at the end check that generated
scenarios are valid, that the evaluator runs on them with sane answers, and that the DuckDB
loader stores exactly the rows it was given.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, get_args

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings

import linked_audiences as la
from linked_audiences.conditions import Operator
from tests.reference.duckdb_loader import load_tables, qualified, quote, read_table
from tests.reference.evaluator import Result, Tables, cast_long_text, evaluate
from tests.reference.strategies import Scenario, scenarios

UTC = timezone.utc
AS_OF = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
US = timedelta(microseconds=1)

TRAITS = {
    "tier": "string",
    "home": "string",
    "seen_text": "string",
    "ltv": "number",
    "limit": "number",
    "vip": "boolean",
    "signup": "date",
    "seen": "timestamp",
    "wake": "time",
}

GRAPH_JSON: dict[str, Any] = {
    "profile": {
        "traits_table": "ps.traits",
        "identifiers_table": "ps.ids",
        "id_graph_table": "ps.id_graph",
        "key": "pid",
        "traits": TRAITS,
    },
    "entities": [
        {
            "slug": "account",
            "table": "prod.account",
            "primary_key": "id",
            "columns": {
                "id": "string",
                "plan": "string",
                "balance": "number",
                "min_balance": "number",
            },
        },
        {
            "slug": "card",
            "table": "prod.card",
            "primary_key": "id",
            "columns": {"limit": "number", "status": "string"},
        },
        {"slug": "txn", "table": "prod.txn", "primary_key": "id", "columns": {"amount": "number"}},
        {
            "slug": "cart",
            "table": "prod.cart",
            "primary_key": "id",
            "columns": {"status": "string"},
        },
        {
            "slug": "product",
            "table": "prod.product",
            "primary_key": "sku",
            "columns": {"price": "number"},
        },
        {
            "slug": "store",
            "table": "prod.store",
            "primary_key": "id",
            "columns": {"city": "string"},
        },
    ],
    "relationships": [
        {
            "slug": "accounts",
            "related_entity": "account",
            "external_id": {"type": "email", "join_key": "email"},
            "relationships": [
                {
                    "slug": "cards",
                    "related_entity": "card",
                    "join_on": "card.account_id = account.id",
                    "relationships": [
                        {
                            "slug": "txns",
                            "related_entity": "txn",
                            "join_on": "card.id = txn.card_id",
                        }
                    ],
                }
            ],
        },
        {
            "slug": "carts",
            "related_entity": "cart",
            "external_id": {"type": "user_id", "join_key": "user_id"},
            "relationships": [
                {
                    "slug": "cart-products",
                    "related_entity": "product",
                    "junction_table": {
                        "table": "prod.cart_product",
                        "primary_key": "id",
                        "left_join_on": "cart.id = cart_id",
                        "right_join_on": "sku = product.sku",
                    },
                }
            ],
        },
        {
            "slug": "home-store",
            "related_entity": "store",
            "trait": {"name": "home", "join_key": "code"},
        },
    ],
    "events": [
        {
            "name": "Order Completed",
            "table": "seg.orders",
            "profile_key": "pid",
            "properties": {
                "revenue": "number",
                "coupon": "string",
                "day": {"type": "date", "column": "order_day"},
            },
        },
        {"name": "Signed Up", "table": "seg.tracks", "segment_id": "sid", "event_column": "event"},
        {"name": "Page Viewed", "table": "seg.pages", "segment_id": "sid"},
    ],
}
GRAPH = la.DataGraph.model_validate(GRAPH_JSON)

_LONG = copy.deepcopy(GRAPH_JSON)
_LONG["profile"]["traits_layout"] = "long"
LONG_GRAPH = la.DataGraph.model_validate(_LONG)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def ident(pid: str | None, value: str | None = "", kind: str = "email") -> dict[str, Any]:
    """An identifiers row; the default value is ``<pid>@x.io``."""
    return {"pid": pid, "type": kind, "value": f"{pid}@x.io" if value == "" else value}


def audience(condition: dict[str, Any], key: str = "main", anonymous: bool = False) -> la.Audience:
    return la.Audience.model_validate(
        {"key": key, "name": key, "include_anonymous": anonymous, "condition": condition}
    )


def result(
    condition: dict[str, Any],
    tables: Tables,
    *,
    graph: la.DataGraph = GRAPH,
    audiences: tuple[la.Audience, ...] = (),
    anonymous: bool = False,
) -> Result:
    return evaluate(audience(condition, anonymous=anonymous), graph, tables, AS_OF, audiences)


def members(condition: dict[str, Any], tables: Tables, **kw: Any) -> set[str]:
    return set(result(condition, tables, **kw).members)


def trait(name: str, op: str, **kw: Any) -> dict[str, Any]:
    return {"type": "trait", "trait": name, "operator": op, **kw}


def col(name: str, op: str, **kw: Any) -> dict[str, Any]:
    return {"type": "column", "column": name, "operator": op, **kw}


def prop(name: str, op: str, **kw: Any) -> dict[str, Any]:
    return {"type": "property", "property": name, "operator": op, **kw}


def entity(slug: str, where: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    node = {"type": "entity", "relationship": slug, **kw}
    return {**node, "where": where} if where is not None else node


def event(name: str, where: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    node = {"type": "event", "event": name, **kw}
    return {**node, "where": where} if where is not None else node


def group(op: str, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "group", "operator": op, "conditions": list(conditions)}


def one_trait_each(name: str, values: list[Any]) -> Tables:
    """Profiles p0, p1, … (all in the universe) where profile i has ``name`` = values[i]."""
    return {
        "ps.ids": [ident(f"p{i}") for i in range(len(values))],
        "ps.traits": [{"pid": f"p{i}", name: v} for i, v in enumerate(values)],
    }


def ps(*indexes: int) -> set[str]:
    return {f"p{i}" for i in indexes}


# --------------------------------------------------------------------------------------------
# Operators (SPEC §3 "Operators"), each with NULL x; index i is profile p{i}
# --------------------------------------------------------------------------------------------

T = AS_OF
OPERATOR_CASES: list[tuple[str, str, str, Any, list[Any], set[str]]] = [
    # id, trait, operator, value, values of p0.., expected members
    ("equals case-sensitive", "tier", "equals", "gold", ["gold", "Gold", None, "gold "], ps(0)),
    ("not_equals skips NULL", "tier", "not_equals", "gold", ["gold", "Gold", None, "x"], ps(1, 3)),
    (
        "equals_any_of strings",
        "tier",
        "equals_any_of",
        ["gold", "silver"],
        ["gold", "silver", "bronze", None],
        ps(0, 1),
    ),
    (
        "contains_any_of",
        "tier",
        "contains_any_of",
        ["ol", "zz"],
        ["gold", "silver", None, "zz top"],
        ps(0, 3),
    ),
    ("contains % literally", "tier", "contains", "%", ["100%", "abc", None, "%"], ps(0, 3)),
    ("contains _ literally", "tier", "contains", "_", ["a_b", "ab", None], ps(0)),
    ("contains empty string", "tier", "contains", "", ["abc", "", None], ps(0, 1)),
    ("does_not_contain", "tier", "does_not_contain", "a", ["abc", "xyz", None, ""], ps(1, 3)),
    ("starts_with a_", "tier", "starts_with", "a_", ["a_b", "axb", None, "A_b"], ps(0)),
    ("starts_with quote", "tier", "starts_with", "x' OR", ["x' OR '1'='1", "x", None], ps(0)),
    ("ends_with backslash", "tier", "ends_with", "\\", ["x\\", "x", None, "\\\\"], ps(0, 3)),
    ("ends_with unicode", "tier", "ends_with", "ë", ["Zoë", "Zoe", None], ps(0)),
    ("exists", "tier", "exists", None, ["a", "", None], ps(0, 1)),
    ("not_exists", "tier", "not_exists", None, ["a", "", None], ps(2)),
    ("less_than", "ltv", "less_than", 10, [5, 10, 10.5, None, -1], ps(0, 4)),
    ("greater_than", "ltv", "greater_than", 10, [5, 10, 10.5, None, -1], ps(2)),
    ("less_than_or_equal", "ltv", "less_than_or_equal", 10, [5, 10, 10.5, None], ps(0, 1)),
    ("greater_than_or_equal", "ltv", "greater_than_or_equal", 10, [5, 10, 10.5, None], ps(1, 2)),
    ("equals int and float", "ltv", "equals", 10, [10, 10.0, 9.99, None], ps(0, 1)),
    ("equals float literal", "ltv", "equals", 2.5, [2.5, 2, None], ps(0)),
    ("equals_any_of numbers", "ltv", "equals_any_of", [1, 2.5], [1, 2.5, 3, None], ps(0, 1)),
    ("not_equals number", "ltv", "not_equals", 0, [0, 1, None], ps(1)),
    ("boolean equals", "vip", "equals", True, [True, False, None], ps(0)),
    ("boolean not_equals", "vip", "not_equals", True, [True, False, None], ps(1)),
    # date column: as_of's UTC date is 2024-03-10
    (
        "date before_date",
        "signup",
        "before_date",
        "2024-03-01",
        [date(2024, 2, 29), date(2024, 3, 1), None],
        ps(0),
    ),
    (
        "date after_date, timestamp value taken at its UTC date",
        "signup",
        "after_date",
        "2024-03-01T23:00:00-05:00",  # = 2024-03-02T04:00Z → 2024-03-02
        [date(2024, 3, 2), date(2024, 3, 3), date(2024, 3, 1), None],
        ps(1),
    ),
    (
        "date within_last 7 (both ends inclusive)",
        "signup",
        "within_last",
        7,
        [date(2024, 3, 3), date(2024, 3, 2), date(2024, 3, 10), date(2024, 3, 11), None],
        ps(0, 2),
    ),
    (
        "date within_next 2",
        "signup",
        "within_next",
        2,
        [date(2024, 3, 10), date(2024, 3, 12), date(2024, 3, 13), date(2024, 3, 9)],
        ps(0, 1),
    ),
    (
        "date within_last 0 is today",
        "signup",
        "within_last",
        0,
        [date(2024, 3, 10), date(2024, 3, 9)],
        ps(0),
    ),
    (
        "date before_last 7",
        "signup",
        "before_last",
        7,
        [date(2024, 3, 2), date(2024, 3, 3), None],
        ps(0),
    ),
    (
        "date after_next 2",
        "signup",
        "after_next",
        2,
        [date(2024, 3, 12), date(2024, 3, 13), None],
        ps(1),
    ),
    (
        "date less_than",
        "signup",
        "less_than",
        "2024-03-10",
        [date(2024, 3, 9), date(2024, 3, 10)],
        ps(0),
    ),
    ("date equals", "signup", "equals", "2024-03-10", [date(2024, 3, 9), date(2024, 3, 10)], ps(1)),
    # timestamp column: instants in UTC
    (
        "timestamp within_last 7 (both ends inclusive)",
        "seen",
        "within_last",
        7,
        [T - 7 * DAY, T - 7 * DAY - US, T, T + US, None],
        ps(0, 2),
    ),
    (
        "timestamp within_next 1",
        "seen",
        "within_next",
        1,
        [T, T + DAY, T + DAY + US, T - US],
        ps(0, 1),
    ),
    ("timestamp before_last 1", "seen", "before_last", 1, [T - DAY, T - DAY - US, None], ps(1)),
    ("timestamp after_next 1", "seen", "after_next", 1, [T + DAY, T + DAY + US, None], ps(1)),
    (
        "timestamp before_date, a date is midnight UTC",
        "seen",
        "before_date",
        "2024-03-10",
        [datetime(2024, 3, 9, 23, 59, 59, 999999, UTC), datetime(2024, 3, 10, tzinfo=UTC)],
        ps(0),
    ),
    (
        "timestamp after_date with an offset",
        "seen",
        "after_date",
        "2024-03-10T02:00:00+02:00",  # = 2024-03-10T00:00Z
        [datetime(2024, 3, 10, tzinfo=UTC), datetime(2024, 3, 10, 0, 0, 0, 1, UTC)],
        ps(1),
    ),
    (
        "timestamp equals across offsets",
        "seen",
        "equals",
        "2024-03-10T14:00:00+02:00",
        [T, T + timedelta(seconds=1), None],
        ps(0),
    ),
    (
        "timestamp greater_than a date",
        "seen",
        "greater_than",
        "2024-03-10",
        [datetime(2024, 3, 10, tzinfo=UTC), datetime(2024, 3, 10, 0, 0, 0, 1, UTC)],
        ps(1),
    ),
    ("time less_than", "wake", "less_than", "09:00:00", [time(8, 59, 59), time(9), None], ps(0)),
    ("time equals HH:MM", "wake", "equals", "09:00", [time(9), time(9, 0, 1)], ps(0)),
    # string column holding ISO-8601 text
    (
        "string within_last 7 parses ISO text",
        "seen_text",
        "within_last",
        7,
        [
            "2024-03-03T12:00:00Z",  # exactly as_of − 7 d
            "2024-03-03T11:59:59",  # no offset: UTC, one second too early
            "2024-03-10T14:00:00+02:00",  # = as_of
            "2024-03-10",  # midnight UTC
            "garbage",
            "",
            "2024-03-10T12:00:01Z",  # after as_of
            None,
        ],
        ps(0, 2, 3),
    ),
    (
        "string before_date",
        "seen_text",
        "before_date",
        "2024-03-01",
        ["2024-02-29T23:59:59Z", "2024-03-01", "abc"],
        ps(0),
    ),
    (
        "string after_next 0",
        "seen_text",
        "after_next",
        0,
        ["2024-03-10T12:00:01Z", "2024-03-10T12:00:00Z", "2024-13-45"],
        ps(0),
    ),
    (
        "string equals does not parse dates",
        "seen_text",
        "equals",
        "2024-03-10",
        ["2024-03-10", "2024-03-10T00:00:00Z"],
        ps(0),
    ),
]


@pytest.mark.parametrize(
    ("trait_name", "op", "value", "values", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in OPERATOR_CASES],
)
def test_operator(
    trait_name: str, op: str, value: Any, values: list[Any], expected: set[str]
) -> None:
    node = trait(trait_name, op) if value is None else trait(trait_name, op, value=value)
    assert members(node, one_trait_each(trait_name, values)) == expected


def test_every_operator_is_covered() -> None:
    covered = {case[2] for case in OPERATOR_CASES}
    assert covered == set(get_args(Operator))


def test_not_exists_holds_for_a_profile_without_a_traits_row() -> None:
    tables = {"ps.ids": [ident("p0"), ident("p1")], "ps.traits": [{"pid": "p0", "tier": "a"}]}
    assert members(trait("tier", "not_exists"), tables) == ps(1)
    assert members(trait("tier", "exists"), tables) == ps(0)


# --------------------------------------------------------------------------------------------
# References (SPEC §3 "reference"): NULL reference ⇒ false
# --------------------------------------------------------------------------------------------


def _two_traits(pairs: list[tuple[Any, Any]], a: str, b: str) -> Tables:
    return {
        "ps.ids": [ident(f"p{i}") for i in range(len(pairs))],
        "ps.traits": [{"pid": f"p{i}", a: x, b: y} for i, (x, y) in enumerate(pairs)],
    }


def test_trait_reference_orders_and_null_reference_is_false() -> None:
    tables = _two_traits([(5, 3), (5, None), (None, 3), (3, 3)], "ltv", "limit")
    assert members(trait("ltv", "greater_than", reference={"trait": "limit"}), tables) == ps(0)
    assert members(trait("ltv", "not_equals", reference={"trait": "limit"}), tables) == ps(0)
    assert members(trait("ltv", "equals", reference={"trait": "limit"}), tables) == ps(3)


def test_string_trait_reference_is_case_sensitive() -> None:
    tables = _two_traits([("NYC-1", "NYC"), ("nyc-1", "NYC"), ("x", None)], "tier", "home")
    assert members(trait("tier", "starts_with", reference={"trait": "home"}), tables) == ps(0)
    # does_not_contain with a NULL reference is false as well
    node = trait("tier", "does_not_contain", reference={"trait": "home"})
    assert members(node, tables) == ps(1)


# --------------------------------------------------------------------------------------------
# Universe (SPEC §3 "Universe"; docs/semantics.md: only non-NULL identifier values)
# --------------------------------------------------------------------------------------------


UNIVERSE_TABLES: Tables = {
    "ps.ids": [
        ident("email", kind="email"),
        ident("uid", kind="user_id"),
        ident("android", kind="android.idfa"),
        ident("ios", kind="ios.idfa"),
        ident("anon", kind="anonymous_id"),
        ident("phone", kind="phone"),
        ident("null-value", value=None),
        ident(None, value="x@x.io"),
    ],
    # "traits-only" has traits but no identifiers: never in any universe
    "ps.traits": [{"pid": "traits-only", "tier": "gold"}],
}
EVERYONE = group("or", trait("tier", "exists"), trait("tier", "not_exists"))


def test_universe_required_identifier_types() -> None:
    assert members(EVERYONE, UNIVERSE_TABLES) == {"email", "uid", "android", "ios"}


def test_universe_with_anonymous() -> None:
    expected = {"email", "uid", "android", "ios", "anon"}
    assert members(EVERYONE, UNIVERSE_TABLES, anonymous=True) == expected


def test_audience_level_without_is_complement_over_universe() -> None:
    # "traits-only" is gold but outside the universe; without ⇒ everyone else in the universe
    tables = copy.deepcopy(UNIVERSE_TABLES)
    tables["ps.traits"].append({"pid": "uid", "tier": "gold"})
    node = trait("tier", "equals", value="gold", without=True)
    assert members(node, tables) == {"email", "android", "ios"}
    assert members(trait("tier", "equals", value="gold"), tables) == {"uid"}


# --------------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------------


def test_and_or_groups() -> None:
    tables = {
        "ps.ids": [ident(f"p{i}") for i in range(4)],
        "ps.traits": [
            {"pid": "p0", "tier": "gold", "ltv": 100},
            {"pid": "p1", "tier": "gold", "ltv": 1},
            {"pid": "p2", "tier": "silver", "ltv": 100},
            {"pid": "p3", "tier": None, "ltv": None},
        ],
    }
    gold, rich = trait("tier", "equals", value="gold"), trait("ltv", "greater_than", value=50)
    assert members(group("and", gold, rich), tables) == ps(0)
    assert members(group("or", gold, rich), tables) == ps(0, 1, 2)
    nested = group("or", group("and", gold, rich), trait("tier", "not_exists"))
    assert members(nested, tables) == ps(0, 3)


# --------------------------------------------------------------------------------------------
# Entities: counts (distinct primary keys), without, joins, references, matched entities
# --------------------------------------------------------------------------------------------

ACCOUNT_TABLES: Tables = {
    "ps.ids": [
        ident("p1", "a@x.io"),
        ident("p1", "b@x.io"),
        ident("p1", "a@x.io"),  # the same email twice: still three distinct accounts
        ident("p2", "c@x.io"),
        ident("p3", "d@x.io"),
        ident("p3", None),
        ident("p4", "u4", kind="user_id"),  # in the universe, but no email ⇒ no accounts
    ],
    "prod.account": [
        {"id": "A1", "email": "a@x.io", "plan": "gold"},
        {"id": "A2", "email": "b@x.io", "plan": "gold"},
        {"id": "A3", "email": "a@x.io", "plan": "silver"},
        {"id": "A4", "email": "c@x.io", "plan": "gold"},
        {"id": None, "email": "a@x.io", "plan": "gold"},  # NULL key: relates to nothing
        {"id": "A5", "email": None, "plan": "gold"},
        {"id": "A6", "email": "e@x.io", "plan": "gold"},  # nobody's email
        {"id": "A7", "email": "u4", "plan": "gold"},  # p4's user_id, not an email: no link
    ],
}
# p1 → {A1, A2, A3}; p2 → {A4}; p3, p4 → none


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (None, ps(1, 2)),
        ({"at_least": 3}, ps(1)),
        ({"at_least": 4}, set()),
        ({"exactly": 3}, ps(1)),
        ({"exactly": 1}, ps(2)),
        ({"exactly": 0}, ps(3, 4)),
        ({"at_most": 1}, ps(2, 3, 4)),
        ({"at_most": 0}, ps(3, 4)),
    ],
)
def test_entity_count_forms(count: dict[str, int] | None, expected: set[str]) -> None:
    node = entity("accounts", **({"count": count} if count else {}))
    assert members(node, ACCOUNT_TABLES) == expected


def test_entity_count_with_where() -> None:
    gold = col("plan", "equals", value="gold")
    # gold accounts: p1 → {A1, A2}, p2 → {A4}
    assert members(entity("accounts", gold, count={"at_least": 2}), ACCOUNT_TABLES) == ps(1)
    assert members(entity("accounts", gold, count={"at_most": 1}), ACCOUNT_TABLES) == ps(2, 3, 4)
    assert members(entity("accounts", gold, count={"exactly": 2}), ACCOUNT_TABLES) == ps(1)


def test_entity_without_at_audience_level() -> None:
    assert members(entity("accounts", without=True), ACCOUNT_TABLES) == ps(3, 4)
    gold = col("plan", "equals", value="gold")
    # "without a gold account" = complement of "with ≥ 1 gold account"
    assert members(entity("accounts", gold, without=True), ACCOUNT_TABLES) == ps(3, 4)
    silver = col("plan", "equals", value="silver")
    assert members(entity("accounts", silver, without=True), ACCOUNT_TABLES) == ps(2, 3, 4)


def test_holding_without_node_with_a_count_contributes_nothing() -> None:
    # "not (≥ 2 gold accounts)" holds for p2, who has exactly one (A4): A4 is not matched
    two_gold = entity(
        "accounts", col("plan", "equals", value="gold"), count={"at_least": 2}, without=True
    )
    r = result(two_gold, ACCOUNT_TABLES)
    assert r.members == ps(2, 3, 4)
    assert r.entities == set()


def test_matched_entities_count_distinct_and_skip_null_keys() -> None:
    r = result(entity("accounts"), ACCOUNT_TABLES)
    assert r.members == ps(1, 2)
    assert r.entities == {
        ("p1", "accounts", "A1"),
        ("p1", "accounts", "A2"),
        ("p1", "accounts", "A3"),
        ("p2", "accounts", "A4"),
    }


def test_entity_shared_between_profiles() -> None:
    tables = {
        "ps.ids": [ident("p1", "same@x.io"), ident("p2", "same@x.io")],
        "prod.account": [{"id": "A1", "email": "same@x.io"}],
    }
    r = result(entity("accounts"), tables)
    assert r.members == ps(1, 2)
    assert r.entities == {("p1", "accounts", "A1"), ("p2", "accounts", "A1")}


BANK_TABLES: Tables = {
    "ps.ids": [ident("p1", "a1@x.io"), ident("p2", "a2@x.io"), ident("p1", "a3@x.io")],
    "prod.account": [
        {"id": "A1", "email": "a1@x.io", "plan": "gold", "balance": 100, "min_balance": 50},
        {"id": "A2", "email": "a2@x.io", "plan": "silver", "balance": 10, "min_balance": 20},
        {"id": "A3", "email": "a3@x.io", "plan": "gold", "balance": 5, "min_balance": None},
    ],
    "prod.card": [
        {"id": "K1", "account_id": "A1", "limit": 50, "status": "active"},
        {"id": "K2", "account_id": "A2", "limit": 50, "status": "active"},
        {"id": "K3", "account_id": "A1", "limit": 500, "status": "closed"},
        {"id": "K4", "account_id": None, "limit": 1, "status": "active"},
    ],
    "prod.txn": [
        {"id": "T1", "card_id": "K1", "amount": 150},
        {"id": "T2", "card_id": "K2", "amount": 5},
        {"id": "T3", "card_id": "K3", "amount": 99},
    ],
}
# p1: A1 (cards K1, K3; txns T1 under K1, T3 under K3), A3 (no cards); p2: A2 (K2; T2)


def test_nested_without_is_complement_over_the_parent_row() -> None:
    # accounts that have no card: A3 (p1) only
    node = entity("accounts", entity("cards", without=True))
    r = result(node, BANK_TABLES)
    assert r.members == ps(1)
    assert r.entities == {("p1", "accounts", "A3")}
    # accounts without an active card: A3 (no cards at all); A1 has K1, A2 has K2
    node = entity(
        "accounts", entity("cards", col("status", "equals", value="active"), without=True)
    )
    assert result(node, BANK_TABLES).entities == {("p1", "accounts", "A3")}
    # accounts without a closed card: A3 (p1) and A2 (p2)
    node = entity(
        "accounts", entity("cards", col("status", "equals", value="closed"), without=True)
    )
    assert result(node, BANK_TABLES).entities == {
        ("p1", "accounts", "A3"),
        ("p2", "accounts", "A2"),
    }


def test_nested_counts() -> None:
    # accounts with at least two cards: A1 (K1, K3) → p1
    assert members(entity("accounts", entity("cards", count={"at_least": 2})), BANK_TABLES) == ps(1)
    # accounts with exactly one card: A2 → p2
    assert members(entity("accounts", entity("cards", count={"exactly": 1})), BANK_TABLES) == ps(2)
    # accounts with at most zero cards: A3 → p1
    assert members(entity("accounts", entity("cards", count={"at_most": 0})), BANK_TABLES) == ps(1)


def test_column_reference_to_the_same_row() -> None:
    # balance < min_balance: A1 100 < 50 no; A2 10 < 20 yes; A3 5 < NULL no
    ref = {"relationship": "accounts", "column": "min_balance"}
    node = entity("accounts", col("balance", "less_than", reference=ref))
    r = result(node, BANK_TABLES)
    assert r.members == ps(2)
    assert r.entities == {("p2", "accounts", "A2")}


def test_column_reference_to_parent_and_grandparent() -> None:
    balance = {"relationship": "accounts", "column": "balance"}
    # a card whose limit exceeds its account's balance: K2 (50 > 10) under A2; K1, K3 under A1
    # (balance 100): K3 500 > 100 yes, K1 50 no
    node = entity("accounts", entity("cards", col("limit", "greater_than", reference=balance)))
    r = result(node, BANK_TABLES)
    assert r.members == ps(1, 2)
    assert r.entities == {
        ("p1", "accounts", "A1"),
        ("p1", "cards", "K3"),
        ("p2", "accounts", "A2"),
        ("p2", "cards", "K2"),
    }
    # a transaction larger than its grandparent account's balance: T1 150 > 100 (A1);
    # T3 99 > 100 no; T2 5 > 10 no
    txn_over = entity("txns", col("amount", "greater_than", reference=balance))
    r = result(entity("accounts", entity("cards", txn_over)), BANK_TABLES)
    assert r.members == ps(1)
    assert r.entities == {("p1", "accounts", "A1"), ("p1", "cards", "K1"), ("p1", "txns", "T1")}


def test_matched_entities_through_or_inside_where() -> None:
    # accounts that are gold OR have a card. A1: gold and has cards → A1, and the card branch
    # holds too → K1, K3. A2: not gold, has K2 → A2, K2. A3: gold, no cards → A3 only.
    node = entity("accounts", group("or", col("plan", "equals", value="gold"), entity("cards")))
    r = result(node, BANK_TABLES)
    assert r.entities == {
        ("p1", "accounts", "A1"),
        ("p1", "cards", "K1"),
        ("p1", "cards", "K3"),
        ("p1", "accounts", "A3"),
        ("p2", "accounts", "A2"),
        ("p2", "cards", "K2"),
    }


def test_matched_entities_only_rows_that_satisfy_where() -> None:
    # active cards: K1 (A1), K2 (A2); K3 is closed and not matched
    node = entity("accounts", entity("cards", col("status", "equals", value="active")))
    assert result(node, BANK_TABLES).entities == {
        ("p1", "accounts", "A1"),
        ("p1", "cards", "K1"),
        ("p2", "accounts", "A2"),
        ("p2", "cards", "K2"),
    }


OR_TABLES: Tables = {
    "ps.ids": [
        ident("p1", "a1@x.io"),
        ident("p2", "a2@x.io"),
        ident("p2", "u2", kind="user_id"),
        ident("p3", "a3@x.io"),
        ident("p3", "u3", kind="user_id"),
    ],
    "prod.account": [
        {"id": "A1", "email": "a1@x.io", "plan": "gold"},
        {"id": "A2", "email": "a2@x.io", "plan": "silver"},
        {"id": "A3", "email": "a3@x.io", "plan": "gold"},
        {"id": "A4", "email": "a3@x.io", "plan": "silver"},
    ],
    "prod.cart": [{"id": "C2", "user_id": "u2"}, {"id": "C3", "user_id": "u3"}],
}


def test_matched_entities_through_an_or_where_only_one_branch_holds() -> None:
    node = group("or", entity("accounts", col("plan", "equals", value="gold")), entity("carts"))
    r = result(node, OR_TABLES)
    assert r.members == ps(1, 2, 3)
    assert r.entities == {
        ("p1", "accounts", "A1"),  # p1: only the gold-account branch holds
        ("p2", "carts", "C2"),  # p2: only the cart branch holds (A2 is silver: not matched)
        ("p3", "accounts", "A3"),  # p3: both hold; A4 is silver
        ("p3", "carts", "C3"),
    }


def test_or_branch_that_fails_its_count_contributes_nothing() -> None:
    # p3 has one gold account (A3) and a cart: "≥ 2 gold accounts" fails, so even though A3
    # satisfies the branch's where, only the cart is matched.
    two_gold = entity("accounts", col("plan", "equals", value="gold"), count={"at_least": 2})
    r = result(group("or", two_gold, entity("carts")), OR_TABLES)
    assert r.members == ps(2, 3)
    assert r.entities == {("p2", "carts", "C2"), ("p3", "carts", "C3")}
    # the same inside an entity's where: A1 is gold OR has ≥ 2 cards (it has one: K1)
    tables = copy.deepcopy(BANK_TABLES)
    tables["prod.card"] = [{"id": "K1", "account_id": "A1"}, {"id": "K2", "account_id": "A2"}]
    two_cards = entity("cards", count={"at_least": 2})
    node = entity("accounts", group("or", col("plan", "equals", value="gold"), two_cards))
    assert result(node, tables).entities == {("p1", "accounts", "A1"), ("p1", "accounts", "A3")}


def test_entity_count_is_by_distinct_primary_key() -> None:
    # the same primary key on two rows (a broken "unique" key) is one entity
    tables = {
        "ps.ids": [ident("p1", "a@x.io")],
        "prod.account": [
            {"id": "A1", "email": "a@x.io", "plan": "gold"},
            {"id": "A1", "email": "a@x.io", "plan": "gold"},
        ],
    }
    assert members(entity("accounts", count={"exactly": 1}), tables) == ps(1)
    assert members(entity("accounts", count={"at_least": 2}), tables) == set()


def test_and_group_contributes_all_children_and_without_contributes_nothing() -> None:
    node = group("and", entity("carts"), entity("accounts", col("plan", "equals", value="silver")))
    r = result(node, OR_TABLES)
    assert r.members == ps(2, 3)
    assert r.entities == {
        ("p2", "carts", "C2"),
        ("p2", "accounts", "A2"),
        ("p3", "carts", "C3"),
        ("p3", "accounts", "A4"),
    }
    node = group("and", entity("carts"), entity("accounts", without=True))
    assert result(node, OR_TABLES).members == set()
    node = group("and", trait("tier", "not_exists"), entity("carts", without=True))
    r = result(node, OR_TABLES)
    assert r.members == ps(1)
    assert r.entities == set()


SHOP_TABLES: Tables = {
    "ps.ids": [ident("p1", "u1", kind="user_id"), ident("p2", "u2", kind="user_id")],
    "prod.cart": [
        {"id": "C1", "user_id": "u1", "status": "open"},
        {"id": "C2", "user_id": "u2", "status": "open"},
        {"id": "C3", "user_id": "u1", "status": "open"},
    ],
    "prod.cart_product": [
        {"id": "j1", "cart_id": "C1", "sku": "P1"},
        {"id": "j2", "cart_id": "C1", "sku": "P1"},  # the same link twice
        {"id": "j3", "cart_id": "C1", "sku": "P2"},
        {"id": "j4", "cart_id": "C2", "sku": "P1"},  # P1 is in two profiles' carts
        {"id": "j5", "cart_id": "C3", "sku": None},
        {"id": "j6", "cart_id": None, "sku": "P3"},
        {"id": "j7", "cart_id": "C3", "sku": "P9"},  # no such product
    ],
    "prod.product": [
        {"sku": "P1", "price": 10},
        {"sku": "P2", "price": 20},
        {"sku": "P3", "price": 30},
    ],
}


def test_junction_counts_distinct_products() -> None:
    # C1 has P1 (twice) and P2: two distinct products; C2 one; C3 none
    node = entity("carts", entity("cart-products", count={"at_least": 2}))
    r = result(node, SHOP_TABLES)
    assert r.members == ps(1)
    assert r.entities == {
        ("p1", "carts", "C1"),
        ("p1", "cart-products", "P1"),
        ("p1", "cart-products", "P2"),
    }
    node = entity("carts", entity("cart-products", count={"exactly": 3}))
    assert members(node, SHOP_TABLES) == set()


def test_junction_child_reachable_from_two_parents() -> None:
    r = result(entity("carts", entity("cart-products")), SHOP_TABLES)
    assert r.members == ps(1, 2)
    assert r.entities == {
        ("p1", "carts", "C1"),
        ("p1", "cart-products", "P1"),
        ("p1", "cart-products", "P2"),
        ("p2", "carts", "C2"),
        ("p2", "cart-products", "P1"),
    }
    pricey = entity("cart-products", col("price", "greater_than", value=15))
    assert members(entity("carts", pricey), SHOP_TABLES) == ps(1)


STORE_TABLES: Tables = {
    "ps.ids": [ident(f"p{i}") for i in range(1, 5)],
    "ps.traits": [
        {"pid": "p1", "home": "NYC"},
        {"pid": "p2", "home": None},
        {"pid": "p3", "home": "LA"},
    ],
    "prod.store": [
        {"id": "S1", "code": "NYC", "city": "New York"},
        {"id": "S2", "code": "NYC", "city": "Brooklyn"},
        {"id": "S3", "code": None, "city": "Nowhere"},
        {"id": "S4", "code": "nyc", "city": "lower case"},
        {"id": "S5", "code": "LA", "city": "Los Angeles"},
    ],
}


def test_trait_link() -> None:
    r = result(entity("home-store"), STORE_TABLES)
    assert r.members == ps(1, 3)
    assert r.entities == {
        ("p1", "home-store", "S1"),
        ("p1", "home-store", "S2"),
        ("p3", "home-store", "S5"),
    }
    assert members(entity("home-store", count={"at_least": 2}), STORE_TABLES) == ps(1)
    # p2 (NULL home) and p4 (no traits row) have no store
    assert members(entity("home-store", count={"exactly": 0}), STORE_TABLES) == ps(2, 4)


def test_deep_chain_matched_entities() -> None:
    # profile → accounts → cards → txns, three levels below the profile
    big = entity("txns", col("amount", "greater_than_or_equal", value=99))
    r = result(entity("accounts", entity("cards", big)), BANK_TABLES)
    assert r.entities == {
        ("p1", "accounts", "A1"),
        ("p1", "cards", "K1"),
        ("p1", "cards", "K3"),
        ("p1", "txns", "T1"),
        ("p1", "txns", "T3"),
    }


# --------------------------------------------------------------------------------------------
# Events: windows, counts, where, id graph, event_column
# --------------------------------------------------------------------------------------------


def orders(rows: list[dict[str, Any]], profiles: int = 4) -> Tables:
    return {"ps.ids": [ident(f"p{i}") for i in range(profiles)], "seg.orders": rows}


def order(pid: str | None, ts: datetime | None, **kw: Any) -> dict[str, Any]:
    return {"pid": pid, "timestamp": ts, **kw}


@pytest.mark.parametrize(
    ("window", "times", "expected"),
    [
        pytest.param(
            {"within_last_days": 7},
            [T - 7 * DAY, T - 7 * DAY - US, T, T + US],
            ps(0, 2),
            id="within_last_days: both ends inclusive",
        ),
        pytest.param(
            {"between_days_ago": [1, 7]},
            [T - 7 * DAY, T - 7 * DAY - US, T - DAY, T - DAY - US],
            ps(0, 3),
            id="between_days_ago: start inclusive, end exclusive",
        ),
        pytest.param(
            {"between_days_ago": [0, 2]},
            [T, T - US, T - 2 * DAY, T - 2 * DAY - US],
            ps(1, 2),
            id="between_days_ago [0, 2]: as_of itself excluded",
        ),
        pytest.param(
            None,
            [T, T + US, T - 400 * DAY, None],
            ps(0, 2),
            id="no window: all history up to as_of",
        ),
    ],
)
def test_event_windows(
    window: dict[str, Any] | None, times: list[datetime | None], expected: set[str]
) -> None:
    tables = orders([order(f"p{i}", ts) for i, ts in enumerate(times)])
    node = event("Order Completed", **({"window": window} if window else {}))
    assert members(node, tables) == expected


def test_event_duplicates_count_twice_and_nulls_never_count() -> None:
    row = order("p0", T - DAY, revenue=10)
    tables = orders(
        [
            row,
            dict(row),
            order("p1", T - DAY),
            order("p1", None),  # NULL timestamp: never counts
            order(None, T - DAY),  # NULL profile: belongs to nobody
            order("p2", T - DAY),
            order("ghost", T - DAY),  # not in the universe
        ]
    )
    assert members(event("Order Completed", count={"exactly": 2}), tables) == ps(0)
    assert members(event("Order Completed", count={"exactly": 1}), tables) == ps(1, 2)
    assert members(event("Order Completed", count={"at_most": 0}), tables) == ps(3)
    assert members(event("Order Completed", count={"at_least": 2}), tables) == ps(0)


def test_event_where_and_zero_count_with_where() -> None:
    tables = orders(
        [
            order("p0", T - DAY, revenue=50),
            order("p0", T - DAY, revenue=150),
            order("p1", T - DAY, revenue=50),
            order("p3", T - DAY, revenue=None),
        ]
    )
    big = prop("revenue", "greater_than", value=100)
    assert members(event("Order Completed", big), tables) == ps(0)
    # no big order (at_most 0 with a where is fine for events): p1, p2 (no orders), p3 (NULL)
    assert members(event("Order Completed", big, count={"at_most": 0}), tables) == ps(1, 2, 3)
    assert members(event("Order Completed", big, without=True), tables) == ps(1, 2, 3)


def test_event_property_with_its_own_column_and_trait_reference() -> None:
    tables = orders(
        [
            order("p0", T - DAY, order_day=date(2024, 3, 9), revenue=20),
            order("p1", T - DAY, order_day=date(2024, 3, 1), revenue=20),
            order("p2", T - DAY, order_day=None, revenue=20),
        ]
    )
    assert members(event("Order Completed", prop("day", "within_last", value=1)), tables) == ps(0)
    tables["ps.traits"] = [
        {"pid": "p0", "ltv": 10},
        {"pid": "p1", "ltv": 30},
        {"pid": "p2", "ltv": 10},
    ]
    # revenue 20 > ltv: p0 (10) and p2 (10); p1 (30) no
    over = prop("revenue", "greater_than", reference={"trait": "ltv"})
    assert members(event("Order Completed", over), tables) == ps(0, 2)


def test_event_where_group_and_window_together() -> None:
    tables = orders(
        [
            order("p0", T - 2 * DAY, coupon="SAVE10"),
            order("p0", T - 10 * DAY, coupon="SAVE10"),
            order("p1", T - 10 * DAY, coupon="SAVE10"),
            order("p2", T - DAY, coupon="save10"),
        ]
    )
    where = group("or", prop("coupon", "starts_with", value="SAVE"), prop("coupon", "not_exists"))
    node = event("Order Completed", where, window={"within_last_days": 7})
    assert members(node, tables) == ps(0)


TRACK_TABLES: Tables = {
    "ps.ids": [ident("p1"), ident("p2"), ident("p3")],
    "ps.id_graph": [
        {"segment_id": "s1", "pid": "p1"},
        {"segment_id": "s2", "pid": "p2"},
        {"segment_id": "s3", "pid": None},
        {"segment_id": "s5", "pid": "p2"},
        {"segment_id": "s6", "pid": "p3"},
    ],
    "seg.tracks": [
        {"event": "Signed Up", "sid": "s1", "timestamp": T - DAY},
        {"event": "signed up", "sid": "s2", "timestamp": T - DAY},  # another event (case)
        {"event": "Signed Up", "sid": "s3", "timestamp": T - DAY},  # maps to no profile
        {"event": "Signed Up", "sid": "s4", "timestamp": T - DAY},  # not in the id graph
        {"event": "Other", "sid": "s2", "timestamp": T - DAY},
        {"event": None, "sid": "s2", "timestamp": T - DAY},
        {"event": "Signed Up", "sid": "s2", "timestamp": None},
        {"event": "Signed Up", "sid": None, "timestamp": T - DAY},
        {"event": "Signed Up", "sid": "s5", "timestamp": T - DAY},  # p2 through s5
        {"event": "Signed Up", "sid": "s6", "timestamp": T + US},  # after as_of
    ],
}


def test_id_graph_and_event_column() -> None:
    assert members(event("Signed Up"), TRACK_TABLES) == ps(1, 2)
    assert members(event("Signed Up", count={"exactly": 0}), TRACK_TABLES) == ps(3)
    # only p2's s5 row is a "Signed Up" of p2: the other rows are other events or lack a time
    assert members(event("Signed Up", count={"exactly": 1}), TRACK_TABLES) == ps(1, 2)


def test_page_name_reads_the_name_column() -> None:
    tables = {
        "ps.ids": [ident("p1"), ident("p2")],
        "ps.id_graph": [{"segment_id": "s1", "pid": "p1"}, {"segment_id": "s2", "pid": "p2"}],
        "seg.pages": [
            {"sid": "s1", "timestamp": T - DAY, "name": "Home"},
            {"sid": "s2", "timestamp": T - DAY, "name": "home"},
        ],
    }
    assert members(event("Page Viewed", prop("page_name", "equals", value="Home")), tables) == ps(1)


# --------------------------------------------------------------------------------------------
# Audience references
# --------------------------------------------------------------------------------------------


def test_audience_reference_and_its_complement() -> None:
    tables = one_trait_each("tier", ["gold", "silver", None])
    gold = audience(trait("tier", "equals", value="gold"), key="gold")
    ref = {"type": "audience", "key": "gold"}
    assert members(ref, tables, audiences=(gold,)) == ps(0)
    assert members({**ref, "without": True}, tables, audiences=(gold,)) == ps(1, 2)


def test_audience_reference_uses_the_named_audiences_own_universe() -> None:
    tables = {
        "ps.ids": [ident("p1"), ident("anon", "a1", kind="anonymous_id")],
        "ps.traits": [{"pid": "p1", "tier": "gold"}, {"pid": "anon", "tier": "gold"}],
    }
    gold = trait("tier", "equals", value="gold")
    with_anon = audience(gold, key="gold_all", anonymous=True)
    known_only = audience(gold, key="gold_known")
    # main without anonymous: "anon" is outside main's universe even though gold_all has it
    assert members({"type": "audience", "key": "gold_all"}, tables, audiences=(with_anon,)) == {
        "p1"
    }
    # main with anonymous naming an audience without: "anon" is not a member of gold_known
    ref = {"type": "audience", "key": "gold_known"}
    assert members(ref, tables, audiences=(known_only,), anonymous=True) == {"p1"}
    assert members({**ref, "without": True}, tables, audiences=(known_only,), anonymous=True) == {
        "anon"
    }


def test_audience_chain_and_no_entities_from_named_audiences() -> None:
    tables = copy.deepcopy(ACCOUNT_TABLES)
    has_accounts = audience(entity("accounts"), key="has_accounts")
    gold_account = audience(
        group(
            "and",
            {"type": "audience", "key": "has_accounts"},
            entity("accounts", col("plan", "equals", value="gold")),
        ),
        key="gold_account",
    )
    r = result(
        {"type": "audience", "key": "gold_account"}, tables, audiences=(has_accounts, gold_account)
    )
    assert r.members == ps(1, 2)
    assert r.entities == set()


# --------------------------------------------------------------------------------------------
# Long layout (docs/semantics.md "Long-layout casts")
# --------------------------------------------------------------------------------------------


def long_rows(*rows: tuple[str, str, str | None]) -> Tables:
    pids = sorted({pid for pid, _, _ in rows})
    return {
        "ps.ids": [ident(p) for p in pids],
        "ps.traits": [{"pid": p, "name": n, "value": v} for p, n, v in rows],
    }


def test_long_number_casts_and_greatest_text_wins() -> None:
    tables = long_rows(
        ("p1", "ltv", "12"),
        ("p2", "ltv", "abc"),  # does not cast: NULL
        ("p3", "ltv", "1e3"),
        ("p4", "ltv", "-3.5"),
        ("p5", "ltv", "10"),
        ("p5", "ltv", "9"),  # greatest text is "9" (text order), so ltv = 9
        ("p6", "ltv", "nan"),
        ("p7", "ltv", " 12"),
        ("p8", "ltv", None),
        ("p8", "tier", "x"),
    )
    greater = trait("ltv", "greater_than", value=5)
    assert members(greater, tables, graph=LONG_GRAPH) == {"p1", "p3", "p5"}
    assert members(trait("ltv", "equals", value=9), tables, graph=LONG_GRAPH) == {"p5"}
    assert members(trait("ltv", "less_than", value=0), tables, graph=LONG_GRAPH) == {"p4"}
    not_exists = trait("ltv", "not_exists")
    assert members(not_exists, tables, graph=LONG_GRAPH) == {"p2", "p6", "p7", "p8"}


def test_long_boolean_date_timestamp_time_casts() -> None:
    tables = long_rows(
        ("p1", "vip", "TRUE"),
        ("p2", "vip", "false"),
        ("p3", "vip", "t"),
        ("p4", "vip", "1"),
        ("p1", "signup", "2024-03-05"),
        ("p2", "signup", "2024-02-30"),
        ("p3", "signup", "2024-03-05T10:00:00"),
        ("p1", "seen", "2024-03-10"),
        ("p2", "seen", "2024-03-10T13:00:00+02:00"),
        ("p3", "seen", "yesterday"),
        ("p1", "wake", "09:00:00"),
        ("p2", "wake", "25:00:00"),
    )
    lg = {"graph": LONG_GRAPH}
    assert members(trait("vip", "equals", value=True), tables, **lg) == {"p1"}
    assert members(trait("vip", "equals", value=False), tables, **lg) == {"p2"}
    assert members(trait("vip", "exists"), tables, **lg) == {"p1", "p2"}
    assert members(trait("signup", "exists"), tables, **lg) == {"p1"}
    # p1 midnight UTC and p2 11:00 UTC on 2024-03-10: both before as_of (12:00)
    assert members(trait("seen", "within_last", value=0), tables, **lg) == set()
    assert members(trait("seen", "within_last", value=1), tables, **lg) == {"p1", "p2"}
    assert members(trait("seen", "after_date", value="2024-03-10"), tables, **lg) == {"p2"}
    assert members(trait("wake", "exists"), tables, **lg) == {"p1"}


def test_long_string_trait_link() -> None:
    tables = long_rows(("p1", "home", "NYC"), ("p2", "home", "LA"), ("p3", "tier", "NYC"))
    tables["prod.store"] = [{"id": "S1", "code": "NYC"}, {"id": "S2", "code": "LA"}]
    r = result(entity("home-store"), tables, graph=LONG_GRAPH)
    assert r.entities == {("p1", "home-store", "S1"), ("p2", "home-store", "S2")}


@pytest.mark.parametrize(
    ("text", "dtype", "expected"),
    [
        ("12", "number", 12),
        ("-3.5", "number", -3.5),
        ("1e3", "number", 1000),
        ("1,5", "number", None),
        ("", "number", None),
        ("inf", "number", None),
        ("True", "boolean", True),
        ("yes", "boolean", None),
        ("2024-03-05", "date", date(2024, 3, 5)),
        ("20240305", "date", None),
        ("2024-03-05T00:00:00Z", "timestamp", datetime(2024, 3, 5, tzinfo=UTC)),
        ("12:30", "time", time(12, 30)),
        ("noon", "time", None),
        ("x' OR '1'='1", "string", "x' OR '1'='1"),
    ],
)
def test_cast_long_text(text: str, dtype: str, expected: Any) -> None:
    assert cast_long_text(text, dtype) == expected


# --------------------------------------------------------------------------------------------
# Generated scenarios
# --------------------------------------------------------------------------------------------

SMOKE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SMOKE
@given(scenarios())
def test_generated_scenarios_are_valid_and_evaluate(scenario: Scenario) -> None:
    check_generated(scenario)


@SMOKE
@given(scenarios(classic=True))
def test_generated_funnels_and_aggregates_are_valid_and_evaluate(scenario: Scenario) -> None:
    check_generated(scenario)


def check_generated(scenario: Scenario) -> None:
    """A generated scenario is valid, small, and the evaluator's answers are consistent:
    matched entities belong to members, members are in the universe, and the audience's
    complement is the rest of the universe with no entities."""
    la.validate_audience(scenario.audience, scenario.graph, scenario.audiences)
    for extra in scenario.audiences:
        la.validate_audience(extra, scenario.graph, scenario.audiences)
    assert scenario.as_of.tzinfo is not None and scenario.as_of.microsecond == 0
    assert all(len(rows) <= 12 for rows in scenario.tables.values())
    r = evaluate(
        scenario.audience, scenario.graph, scenario.tables, scenario.as_of, scenario.audiences
    )
    assert {profile for profile, _, _ in r.entities} <= r.members
    slugs = {p.slug for p in scenario.graph.relationship_paths()}
    assert {slug for _, slug, _ in r.entities} <= slugs
    # "everyone" is the universe; `without` on the whole audience is its complement there
    universe = evaluate(
        audience(
            group(
                "or",
                *(
                    trait(t, op)
                    for t in scenario.graph.profile.traits
                    for op in ("exists", "not_exists")
                ),
            ),
            key="everyone",
            anonymous=scenario.audience.include_anonymous,
        ),
        scenario.graph,
        scenario.tables,
        scenario.as_of,
    ).members
    assert r.members <= universe
    complement = la.Audience.model_validate(
        {
            "key": "complement",
            "name": "complement",
            "include_anonymous": scenario.audience.include_anonymous,
            "condition": {"type": "audience", "key": scenario.audience.key, "without": True},
        }
    )
    flipped = evaluate(
        complement,
        scenario.graph,
        scenario.tables,
        scenario.as_of,
        (*scenario.audiences, scenario.audience),
    )
    assert flipped.members == universe - r.members
    assert flipped.entities == set()


@SMOKE
@given(scenarios())
@pytest.mark.duckdb
def test_duckdb_loader_round_trips(scenario: Scenario) -> None:
    con = duckdb.connect()
    try:
        load_tables(con, scenario.graph, scenario.tables, scenario.column_types)
        for table, columns in scenario.column_types.items():
            loaded = read_table(con, table, columns)
            given_rows = [
                tuple(row.get(c) for c in columns) for row in scenario.tables.get(table, [])
            ]
            assert Counter(tuple(r[c] for c in columns) for r in loaded) == Counter(given_rows)
    finally:
        con.close()


@pytest.mark.duckdb
def test_duckdb_loader_quotes_hostile_names_and_binds_values() -> None:
    graph = la.DataGraph.model_validate(
        {
            "profile": {
                "traits_table": 'my "schema".Traits Table',
                "identifiers_table": "ids",
                "key": "Key'q",
            }
        }
    )
    hostile = "x'); DROP TABLE ids; --"
    tables = {
        'my "schema".Traits Table': [{"Key'q": hostile, "ünï": 1.5}],
        "ids": [{"Key'q": "p", "type": "email", "value": "\\%_"}],
    }
    types = {
        'my "schema".Traits Table': {"Key'q": "string", "ünï": "number"},
        "ids": {"Key'q": "string", "type": "string", "value": "string"},
    }
    con = duckdb.connect()
    load_tables(con, graph, tables, types)
    assert qualified('my "schema".Traits Table') == '"my ""schema"""."Traits Table"'
    assert read_table(con, "ids", types["ids"]) == tables["ids"]
    traits_table = qualified('my "schema".Traits Table')
    key = "Key'q"
    rows = con.execute(f"SELECT {quote(key)} FROM {traits_table}")
    assert rows.fetchall() == [(hostile,)]
    con.close()
