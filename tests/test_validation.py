"""Every definition rule of SPEC §2–3 fails with the node's JSON path and the rule broken."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import linked_audiences as la
from linked_audiences.loading import validate_data

from .conftest import EXAMPLES


def trait(name: str, op: str, **kw: Any) -> dict:
    return {"type": "trait", "trait": name, "operator": op, **kw}


def col(name: str, op: str, **kw: Any) -> dict:
    return {"type": "column", "column": name, "operator": op, **kw}


def prop(name: str, op: str, **kw: Any) -> dict:
    return {"type": "property", "property": name, "operator": op, **kw}


def accounts(where: dict | None = None, **kw: Any) -> dict:
    node = {"type": "entity", "relationship": "user-accounts", **kw}
    return {**node, "where": where} if where else node


def cards(where: dict | None = None, **kw: Any) -> dict:
    node = {"type": "entity", "relationship": "account-cards", **kw}
    return {**node, "where": where} if where else node


def orders(where: dict | None = None, **kw: Any) -> dict:
    node = {"type": "event", "event": "Order Completed", **kw}
    return {**node, "where": where} if where else node


def step(where: dict | None = None, **kw: Any) -> dict:
    """A funnel step: a page view after the parent event."""
    node = {"type": "event", "event": "Page Viewed", **kw}
    return {**node, "where": where} if where else node


SUM_REVENUE = {"function": "sum", "property": "revenue", "operator": "greater_than", "value": 100}

# (id, condition, expected path, fragment of the rule)
AUDIENCE_CASES: list[tuple[str, dict, str, str]] = [
    ("unknown trait", trait("nope", "exists"), "$.condition.trait", "unknown trait 'nope'"),
    (
        "unknown event",
        {"type": "event", "event": "Nope"},
        "$.condition.event",
        "unknown event 'Nope'",
    ),
    (
        "unknown relationship",
        {"type": "entity", "relationship": "nope"},
        "$.condition.relationship",
        "unknown relationship 'nope'",
    ),
    (
        "unknown audience",
        {"type": "audience", "key": "ghost"},
        "$.condition.key",
        "unknown audience 'ghost'",
    ),
    (
        "unknown property",
        orders(prop("nope", "exists")),
        "$.condition.where.property",
        "unknown property 'nope' of event 'Order Completed'",
    ),
    (
        "unknown column",
        accounts(col("nope", "exists")),
        "$.condition.where.column",
        "unknown column 'nope' of entity 'account'",
    ),
    (
        "contains on number",
        trait("lifetime_value", "contains", value="1"),
        "$.condition.operator",
        "'contains' does not apply to a number",
    ),
    (
        "ordering on boolean",
        trait("is_vip", "less_than", value=True),
        "$.condition.operator",
        "does not apply to a boolean",
    ),
    (
        "ordering on string",
        trait("country", "greater_than", value="a"),
        "$.condition.operator",
        "does not apply to a string",
    ),
    (
        "equals_any_of on date",
        trait("signup_date", "equals_any_of", value=["2020-01-01"]),
        "$.condition.operator",
        "does not apply to a date",
    ),
    (
        "date operator on number",
        trait("lifetime_value", "within_last", value=3),
        "$.condition.operator",
        "does not apply to a number",
    ),
    (
        "number given text",
        trait("lifetime_value", "equals", value="10"),
        "$.condition.value",
        "expected a number",
    ),
    (
        "boolean given text",
        trait("is_vip", "equals", value="true"),
        "$.condition.value",
        "expected a boolean",
    ),
    (
        "number given boolean",
        trait("lifetime_value", "equals", value=True),
        "$.condition.value",
        "expected a number",
    ),
    (
        "bad date",
        trait("signup_date", "after_date", value="2024-02-30"),
        "$.condition.value",
        "ISO-8601",
    ),
    (
        "bad date equals",
        trait("signup_date", "equals", value="01/02/2024"),
        "$.condition.value",
        "ISO date",
    ),
    (
        "bad timestamp",
        trait("last_seen_at", "less_than", value="yesterday"),
        "$.condition.value",
        "ISO-8601 timestamp",
    ),
    (
        "empty any-of",
        trait("country", "equals_any_of", value=[]),
        "$.condition.value",
        "non-empty list",
    ),
    (
        "any-of wrong item",
        trait("lifetime_value", "equals_any_of", value=[1, "2"]),
        "$.condition.value",
        "item 1",
    ),
    (
        "contains_any_of numbers",
        trait("country", "contains_any_of", value=[1]),
        "$.condition.value",
        "list of strings",
    ),
    (
        "any-of scalar",
        trait("country", "equals_any_of", value="DE"),
        "$.condition.value",
        "non-empty list",
    ),
    (
        "negative days",
        trait("last_seen_at", "within_last", value=-1),
        "$.condition.value",
        "days >= 0",
    ),
    (
        "fractional days",
        trait("last_seen_at", "within_next", value=1.5),
        "$.condition.value",
        "whole number of days",
    ),
    (
        "contains given number",
        trait("country", "contains", value=1),
        "$.condition.value",
        "takes a string",
    ),
    ("exists with value", trait("country", "exists", value="x"), "$.condition", "takes no value"),
    ("no value", trait("country", "equals"), "$.condition", "exactly one of value or reference"),
    (
        "value and reference",
        trait("country", "equals", value="x", reference={"trait": "first_name"}),
        "$.condition",
        "exactly one of value or reference",
    ),
    (
        "reference on boolean",
        trait("is_vip", "equals", reference={"trait": "is_vip"}),
        "$.condition.operator",
        "cannot compare a boolean with a reference",
    ),
    (
        "reference with any-of",
        trait("country", "equals_any_of", reference={"trait": "first_name"}),
        "$.condition.operator",
        "cannot compare a string with a reference",
    ),
    (
        "reference of other type",
        trait("lifetime_value", "greater_than", reference={"trait": "first_name"}),
        "$.condition.reference",
        "trait 'first_name' is a string",
    ),
    (
        "reference to unknown trait",
        trait("country", "equals", reference={"trait": "nope"}),
        "$.condition.reference.trait",
        "unknown trait 'nope'",
    ),
    (
        "column reference in trait node",
        trait("country", "equals", reference={"relationship": "user-accounts", "column": "region"}),
        "$.condition.reference",
        "only allowed in a column condition",
    ),
    (
        "column reference in property node",
        orders(
            prop(
                "currency",
                "equals",
                reference={"relationship": "user-accounts", "column": "region"},
            )
        ),
        "$.condition.where.reference",
        "only allowed in a column condition",
    ),
    (
        "property trait reference type",
        orders(prop("revenue", "greater_than", reference={"trait": "country"})),
        "$.condition.where.reference",
        "is a string; it cannot be compared with a number",
    ),
    (
        "column reference outside branch",
        accounts(
            cards(
                col(
                    "status", "equals", reference={"relationship": "user-carts", "column": "status"}
                )
            )
        ),
        "$.condition.where.where.reference.relationship",
        "'user-carts' is not 'account-cards' or one of its ancestors",
    ),
    (
        "column reference to a child",
        accounts(
            col("status", "equals", reference={"relationship": "account-cards", "column": "status"})
        ),
        "$.condition.where.reference.relationship",
        "not 'user-accounts' or one of its ancestors",
    ),
    (
        "column reference unknown column",
        accounts(
            cards(
                col(
                    "status",
                    "equals",
                    reference={"relationship": "user-accounts", "column": "nope"},
                )
            )
        ),
        "$.condition.where.where.reference.column",
        "unknown column 'nope' of entity 'account'",
    ),
    (
        "column reference of other type",
        accounts(
            cards(
                col(
                    "credit_limit",
                    "greater_than",
                    reference={"relationship": "user-accounts", "column": "region"},
                )
            )
        ),
        "$.condition.where.where.reference",
        "column user-accounts.region is a string",
    ),
    (
        "column at audience level",
        col("plan", "exists"),
        "$.condition",
        "'column' condition cannot appear at audience level",
    ),
    (
        "property at audience level",
        prop("revenue", "exists"),
        "$.condition",
        "'property' condition cannot appear at audience level",
    ),
    (
        "trait inside entity",
        accounts(trait("country", "exists")),
        "$.condition.where",
        "'trait' condition cannot appear inside an entity's where",
    ),
    (
        "funnel step with an as_of window",
        orders(step(window={"within_last_days": 3})),
        "$.condition.where.window",
        "a funnel step's only window is within_days_after",
    ),
    (
        "within_days_after on an audience-level event",
        orders(window={"within_days_after": 1}),
        "$.condition.window.within_days_after",
        "needs a parent event",
    ),
    (
        "parent reference outside a step",
        orders(prop("currency", "equals", reference={"parent": "currency"})),
        "$.condition.where.reference",
        "only allowed in a funnel step",
    ),
    (
        "parent reference in a trait node",
        trait("country", "equals", reference={"parent": "currency"}),
        "$.condition.reference",
        "only allowed in a funnel step",
    ),
    (
        "unknown parent property",
        orders(step(prop("path", "equals", reference={"parent": "nope"}))),
        "$.condition.where.where.reference.parent",
        "unknown property 'nope' of the parent event 'Order Completed'",
    ),
    (
        "parent reference of another type",
        orders(step(prop("path", "equals", reference={"parent": "revenue"}))),
        "$.condition.where.where.reference",
        "parent property 'revenue' is a number; it cannot be compared with a string",
    ),
    (
        "six events in a funnel",
        orders(step(step(step(step(step()))))),
        "$.condition.where.where.where.where.where",
        "a funnel chains at most 5 events (this is event 6)",
    ),
    (
        "sum of a string",
        orders(aggregate={**SUM_REVENUE, "property": "currency", "value": 1}),
        "$.condition.aggregate.function",
        "sum does not apply to a string",
    ),
    (
        "min of a string",
        {
            "type": "entity",
            "relationship": "user-accounts",
            "aggregate": {"function": "min", "column": "plan", "operator": "equals", "value": 1},
        },
        "$.condition.aggregate.function",
        "min does not apply to a string",
    ),
    (
        "aggregate and count",
        orders(count={"at_least": 2}, aggregate=SUM_REVENUE),
        "$.condition.count",
        "an aggregate replaces count",
    ),
    (
        "aggregate of a column on an event",
        orders(aggregate={"function": "max", "column": "revenue", "operator": "equals"}),
        "$.condition.aggregate.column",
        "an aggregate over event rows reads a property, not a column",
    ),
    (
        "aggregate without its property",
        orders(aggregate={"function": "max", "operator": "equals", "value": 1}),
        "$.condition.aggregate",
        "an aggregate needs the property it reads",
    ),
    (
        "aggregate of an unknown column",
        accounts(aggregate={"function": "max", "column": "nope", "operator": "equals", "value": 1}),
        "$.condition.aggregate.column",
        "unknown column 'nope' of entity 'account'",
    ),
    (
        "aggregate value of the wrong type",
        orders(aggregate={**SUM_REVENUE, "value": "a lot"}),
        "$.condition.aggregate.value",
        "",
    ),
    (
        "count_distinct compared with a date",
        orders(
            aggregate={
                "function": "count_distinct",
                "property": "currency",
                "operator": "greater_than",
                "value": "2024-01-01",
            }
        ),
        "$.condition.aggregate.value",
        "",
    ),
    (
        "aggregate with a column reference",
        accounts(
            aggregate={
                "function": "max",
                "column": "balance",
                "operator": "equals",
                "reference": {"relationship": "user-accounts", "column": "balance"},
            }
        ),
        "$.condition.aggregate.reference",
        "only allowed in a column condition",
    ),
    (
        "entity inside event",
        orders(accounts()),
        "$.condition.where",
        "'entity' condition cannot appear inside an event's where",
    ),
    (
        "audience inside entity",
        accounts({"type": "audience", "key": "x"}),
        "$.condition.where",
        "cannot appear inside an entity's where",
    ),
    (
        "property inside entity",
        accounts(prop("revenue", "exists")),
        "$.condition.where",
        "cannot appear inside an entity's where",
    ),
    (
        "nested relationship at top",
        cards(),
        "$.condition.relationship",
        "nested under 'user-accounts'",
    ),
    (
        "not a child relationship",
        accounts({"type": "entity", "relationship": "cart-products"}),
        "$.condition.where.relationship",
        "'cart-products' is not a child of 'user-accounts'",
    ),
    (
        "exactly 0 with where",
        accounts(col("plan", "exists"), count={"exactly": 0}),
        "$.condition.where",
        "count of exactly 0 cannot have a where",
    ),
    (
        "at_most 0 with where (nested)",
        accounts(cards(col("status", "exists"), count={"at_most": 0})),
        "$.condition.where.where",
        "count of at_most 0 cannot have a where",
    ),
    (
        "at_least 0",
        accounts(count={"at_least": 0}),
        "$.condition.count.at_least",
        "greater than or equal to 1",
    ),
    (
        "negative exactly",
        orders(count={"exactly": -1}),
        "$.condition.count.exactly",
        "greater than or equal to 0",
    ),
    (
        "two count bounds",
        orders(count={"at_least": 1, "at_most": 3}),
        "$.condition.count",
        "exactly one of at_least, exactly, at_most",
    ),
    ("no count bound", orders(count={}), "$.condition.count", "exactly one of"),
    (
        "empty group",
        {"type": "group", "operator": "and", "conditions": []},
        "$.condition.conditions",
        "at least 1 item",
    ),
    (
        "bad group operator",
        {"type": "group", "operator": "xor", "conditions": [trait("country", "exists")]},
        "$.condition.operator",
        "'and' or 'or'",
    ),
    (
        "between N >= M",
        orders(window={"between_days_ago": [7, 7]}),
        "$.condition.window",
        "0 <= N < M",
    ),
    (
        "within 0 days",
        orders(window={"within_last_days": 0}),
        "$.condition.window.within_last_days",
        "greater than or equal to 1",
    ),
    (
        "two window forms",
        orders(window={"within_last_days": 3, "between_days_ago": [1, 2]}),
        "$.condition.window",
        "exactly one of",
    ),
    (
        "unknown operator",
        trait("country", "like", value="x"),
        "$.condition.operator",
        "Input should be",
    ),
    ("unknown node type", {"type": "funnel"}, "$.condition", "does not match any of"),
    (
        "unknown field",
        {**trait("country", "exists"), "negate": True},
        "$.condition.negate",
        "Extra inputs are not permitted",
    ),
    (
        "property on page name of other event",
        orders(prop("page_name", "exists")),
        "$.condition.where.property",
        "unknown property 'page_name'",
    ),
]


@pytest.mark.parametrize(
    ("condition", "path", "fragment"),
    [c[1:] for c in AUDIENCE_CASES],
    ids=[c[0] for c in AUDIENCE_CASES],
)
def test_audience_rule(demo_graph: la.DataGraph, condition: dict, path: str, fragment: str) -> None:
    with pytest.raises(la.DefinitionError) as caught:
        audience = validate_data(la.Audience, {"key": "a", "name": "A", "condition": condition})
        la.validate_audience(audience, demo_graph)
    problems = caught.value.problems
    assert [p.path for p in problems] == [path], problems
    assert fragment in problems[0].rule, problems[0].rule


def users(quantifier: str, where: dict) -> dict:
    return {"type": "users", "quantifier": quantifier, "where": where}


ACCOUNT = {"key": "acc", "name": "Accounts", "level": "account"}
PROFILES = {"key": "prof", "name": "Profiles"}

# (id, audience fields, condition, expected path, fragment): account audiences (level account)
LEVEL_CASES: list[tuple[str, dict, dict, str, str]] = [
    (
        "users in a profile audience",
        PROFILES,
        users("any", orders()),
        "$.condition",
        "a 'users' condition belongs in an account audience",
    ),
    (
        "event at account level",
        ACCOUNT,
        {"type": "group", "operator": "and", "conditions": [orders()]},
        "$.condition.conditions[0]",
        "stands inside a 'users' node",
    ),
    (
        "entity at account level",
        ACCOUNT,
        accounts(),
        "$.condition",
        "stands inside a 'users' node",
    ),
    (
        "profile trait at account level",
        ACCOUNT,
        trait("loyalty_tier", "exists"),
        "$.condition.trait",
        "unknown account trait 'loyalty_tier'",
    ),
    (
        "account trait inside users",
        ACCOUNT,
        users("all", trait("seats", "exists")),
        "$.condition.where.trait",
        "unknown trait 'seats'",
    ),
    (
        "account trait reference of another type",
        ACCOUNT,
        trait("plan", "equals", reference={"trait": "seats"}),
        "$.condition.reference",
        "account trait 'seats' is a number",
    ),
    (
        "profile audience at account level",
        ACCOUNT,
        {"type": "audience", "key": "prof"},
        "$.condition.key",
        "has profiles as members",
    ),
    (
        "account audience inside users",
        ACCOUNT,
        users("any", {"type": "audience", "key": "acc2"}),
        "$.condition.where.key",
        "has accounts as members",
    ),
    (
        "users inside users",
        ACCOUNT,
        users("any", users("any", orders())),
        "$.condition.where",
        "a 'users' condition belongs in an account audience",
    ),
    (
        "a step inside users is still checked",
        ACCOUNT,
        users("none", orders(step(window={"within_last_days": 1}))),
        "$.condition.where.where.window",
        "within_days_after",
    ),
]


@pytest.mark.parametrize(
    ("fields", "condition", "path", "fragment"),
    [c[1:] for c in LEVEL_CASES],
    ids=[c[0] for c in LEVEL_CASES],
)
def test_account_level_rule(
    demo_graph: la.DataGraph, fields: dict, condition: dict, path: str, fragment: str
) -> None:
    others = [
        validate_data(la.Audience, {**PROFILES, "condition": trait("country", "exists")}),
        validate_data(
            la.Audience, {**ACCOUNT, "key": "acc2", "condition": trait("plan", "exists")}
        ),
    ]
    audience = validate_data(la.Audience, {**fields, "condition": condition})
    with pytest.raises(la.DefinitionError) as caught:
        la.validate_audience(audience, demo_graph, others)
    problems = caught.value.problems
    assert [p.path for p in problems] == [path], problems
    assert fragment in problems[0].rule, problems[0].rule


def test_account_audience_needs_accounts_in_the_graph(demo_graph: la.DataGraph) -> None:
    graph = demo_graph.model_copy(update={"accounts": None})
    audience = validate_data(la.Audience, {**ACCOUNT, "condition": users("any", orders())})
    with pytest.raises(la.DefinitionError) as caught:
        la.validate_audience(audience, graph)
    assert [p.path for p in caught.value.problems] == ["$.level"]


def test_valid_account_audiences_pass(demo_graph: la.DataGraph) -> None:
    other = validate_data(
        la.Audience, {**ACCOUNT, "key": "acc2", "condition": trait("plan", "exists")}
    )
    for condition in [
        trait("plan", "equals", reference={"trait": "industry"}),
        {"type": "audience", "key": "acc2", "without": True},
        users("all", {"type": "group", "operator": "or", "conditions": [orders(), accounts()]}),
        users("none", {"type": "audience", "key": "prof"}),
    ]:
        audience = validate_data(la.Audience, {**ACCOUNT, "condition": condition})
        prof = validate_data(la.Audience, {**PROFILES, "condition": trait("country", "exists")})
        la.validate_audience(audience, demo_graph, [other, prof])


def test_valid_nodes_pass(demo_graph: la.DataGraph) -> None:
    """The rules are not over-eager: each of these is fine."""
    conditions = [
        trait("country", "equals", reference={"trait": "preferred_category"}),
        trait("signup_date", "before_date", value="2024-01-01T10:00:00Z"),
        trait("last_seen_at", "within_last", value=0),
        trait("lifetime_value", "equals_any_of", value=[1, 2.5]),
        trait("email", "within_last", value=3),  # ISO text in a string trait
        orders(
            prop("revenue", "less_than", reference={"trait": "lifetime_value"}),
            count={"at_most": 0},
            window={"between_days_ago": [0, 7]},
        ),
        {
            "type": "event",
            "event": "Page Viewed",
            "where": prop("page_name", "contains", value="%_\\"),
        },
        accounts(
            cards(
                col(
                    "credit_limit",
                    "greater_than",
                    reference={"relationship": "user-accounts", "column": "balance"},
                ),
                without=True,
            ),
            count={"exactly": 3},
        ),
        accounts(count={"at_most": 0}),
    ]
    audience = validate_data(
        la.Audience,
        {
            "key": "a",
            "name": "A",
            "condition": {"type": "group", "operator": "or", "conditions": conditions},
        },
    )
    la.validate_audience(audience, demo_graph)


def test_all_problems_reported_together(demo_graph: la.DataGraph) -> None:
    audience = validate_data(
        la.Audience,
        {
            "key": "a",
            "name": "A",
            "condition": {
                "type": "group",
                "operator": "and",
                "conditions": [
                    trait("nope", "exists"),
                    accounts(col("nope", "exists")),
                    trait("is_vip", "equals", value=1),
                ],
            },
        },
    )
    with pytest.raises(la.DefinitionError) as caught:
        la.validate_audience(audience, demo_graph)
    assert [p.path for p in caught.value.problems] == [
        "$.condition.conditions[0].trait",
        "$.condition.conditions[1].where.column",
        "$.condition.conditions[2].value",
    ]


def _audience(key: str, *deps: str) -> la.Audience:
    conditions = [{"type": "audience", "key": d} for d in deps] or [trait("country", "exists")]
    return la.Audience.model_validate(
        {
            "key": key,
            "name": key,
            "condition": {"type": "group", "operator": "and", "conditions": conditions},
        }
    )


def test_audience_cycle_names_the_cycle(demo_graph: la.DataGraph) -> None:
    a, b, c = _audience("a", "b"), _audience("b", "c"), _audience("c", "a")
    with pytest.raises(la.DefinitionError) as caught:
        la.validate_audience(a, demo_graph, [b, c])
    assert [p.rule for p in caught.value.problems] == [
        "audiences reference each other in a cycle: a → b → c → a"
    ]
    assert caught.value.problems[0].source == "audience 'c'"


def test_self_reference_is_a_cycle(demo_graph: la.DataGraph) -> None:
    with pytest.raises(la.DefinitionError, match="cycle: a → a"):
        la.validate_audience(_audience("a", "a"), demo_graph)


def test_diamond_is_not_a_cycle(demo_graph: la.DataGraph) -> None:
    la.validate_audience(
        _audience("a", "b", "c"),
        demo_graph,
        [_audience("b", "d"), _audience("c", "d"), _audience("d")],
    )


def test_problems_of_named_audiences_name_their_source(demo_graph: la.DataGraph) -> None:
    broken = la.Audience.model_validate(
        {"key": "b", "name": "b", "condition": trait("nope", "exists")}
    )
    with pytest.raises(la.DefinitionError) as caught:
        la.validate_audience(_audience("a", "b"), demo_graph, [broken])
    (problem,) = caught.value.problems
    assert (problem.source, problem.path) == ("audience 'b'", "$.condition.trait")
    assert str(problem) == "audience 'b': $.condition.trait: unknown trait 'nope'"


def test_example_audiences_are_valid(
    demo_graph: la.DataGraph, example_audiences: list[la.Audience]
) -> None:
    assert len(example_audiences) >= 10
    for audience in example_audiences:
        la.validate_audience(audience, demo_graph, example_audiences)


# --------------------------------------------------------------------------------------------
# Data graph rules
# --------------------------------------------------------------------------------------------


def _demo_graph_data() -> dict:
    return yaml.safe_load((EXAMPLES / "graph.yaml").read_text(encoding="utf-8"))


def _chain(depth: int) -> list[dict]:
    """A chain of `depth - 1` relationships (profile = level 1) over entities e2..e<depth>."""
    rels: list[dict] = []
    for level in range(depth, 1, -1):
        rel: dict = {"slug": f"r{level}", "related_entity": f"e{level}"}
        if level == 2:
            rel["external_id"] = {"type": "email", "join_key": "email"}
        else:
            rel["join_on"] = f"e{level - 1}.id = e{level}.parent_id"
        if rels:
            rel["relationships"] = rels
        rels = [rel]
    return rels


def _chain_graph(depth: int) -> dict:
    return {
        "profile": {"traits_table": "t", "identifiers_table": "i"},
        "entities": [
            {"slug": f"e{n}", "table": f"t{n}", "primary_key": "id"} for n in range(2, depth + 1)
        ],
        "relationships": _chain(depth),
    }


def test_six_levels_are_allowed_and_seven_are_not() -> None:
    la.DataGraph.model_validate(_chain_graph(6))
    with pytest.raises(la.DefinitionError) as caught:
        validate_data(la.DataGraph, _chain_graph(7))
    (problem,) = caught.value.problems
    assert problem.path == "$" + ".relationships[0]" * 6
    assert "7 levels deep; at most 6" in problem.rule


def _mutated(mutate: Any) -> dict:
    data = _demo_graph_data()
    mutate(data)
    return data


def _set(path: list, value: Any) -> Any:
    def mutate(data: dict) -> None:
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutate


ACCOUNT_REL = ["relationships", 0]
CARD_REL = [*ACCOUNT_REL, "relationships", 0]
CART_PRODUCTS = ["relationships", 1, "relationships", 0]

GRAPH_CASES: list[tuple[str, Any, str, str]] = [
    (
        "entity slug repeats",
        lambda d: d["entities"].insert(1, copy.deepcopy(d["entities"][0])),
        "$.entities[1].slug",
        "entity slug 'account' repeats",
    ),
    (
        "relationship slug repeats",
        lambda d: d["relationships"][1].update(slug="user-accounts"),
        "$.relationships[1].slug",
        "relationship slug 'user-accounts' repeats",
    ),
    (
        "unknown entity",
        _set([*ACCOUNT_REL, "related_entity"], "acct"),
        "$.relationships[0].related_entity",
        "unknown entity 'acct'",
    ),
    (
        "join_on wrong entity",
        _set([*CARD_REL, "join_on"], "account.id = merchant.account_id"),
        "$.relationships[0].relationships[0].join_on",
        "must join 'account' and 'credit-card'",
    ),
    (
        "join_on malformed",
        _set([*CARD_REL, "join_on"], "account.id == credit-card"),
        "$.relationships[0].relationships[0].join_on",
        "expected '<left slug>.<column>",
    ),
    (
        "top level with join_on",
        lambda d: d["relationships"][0].update(join_on="account.id = account.id"),
        "$.relationships[0]",
        "top-level relationship needs exactly one of external_id or trait",
    ),
    (
        "nested with external_id",
        lambda d: d["relationships"][0]["relationships"][0].update(
            external_id={"type": "email", "join_key": "email"}
        ),
        "$.relationships[0].relationships[0]",
        "nested relationship needs exactly one of join_on",
    ),
    (
        "no link",
        lambda d: d["relationships"][0].pop("external_id"),
        "$.relationships[0]",
        "needs exactly one of external_id or trait",
    ),
    (
        "trait link unknown trait",
        lambda d: d["relationships"][0].update(
            external_id=None, trait={"name": "nope", "join_key": "email"}
        ),
        "$.relationships[0].trait.name",
        "unknown trait 'nope'",
    ),
    (
        "junction wrong left",
        _set([*CART_PRODUCTS, "junction_table", "left_join_on"], "product.id = cart_id"),
        "$.relationships[1].relationships[0].junction_table.left_join_on",
        "must name 'cart'",
    ),
    (
        "junction wrong right",
        _set([*CART_PRODUCTS, "junction_table", "right_join_on"], "product_sku = cart.sku"),
        "$.relationships[1].relationships[0].junction_table.right_join_on",
        "must name 'product'",
    ),
    (
        "junction malformed",
        _set([*CART_PRODUCTS, "junction_table", "left_join_on"], "cart.id = x.cart_id"),
        "$.relationships[1].relationships[0].junction_table.left_join_on",
        "expected '<left slug>.<column>",
    ),
    (
        "event repeats",
        lambda d: d["events"].insert(1, copy.deepcopy(d["events"][0])),
        "$.events[1].name",
        "event 'Order Completed' repeats",
    ),
    (
        "event with two keys",
        lambda d: d["events"][0].update(profile_key="x"),
        "$.events[0]",
        "exactly one of profile_key or segment_id",
    ),
    (
        "segment_id without id graph",
        lambda d: d["profile"].pop("id_graph_table"),
        "$.events[0].segment_id",
        "needs profile.id_graph_table",
    ),
    (
        "bad slug",
        _set([*ACCOUNT_REL, "slug"], "user accounts"),
        "$.relationships[0].slug",
        "should match pattern",
    ),
    (
        "bad trait type",
        _set(["profile", "traits", "email"], "text"),
        "$.profile.traits.email",
        "Input should be",
    ),
    (
        "bad layout",
        _set(["profile", "traits_layout"], "tall"),
        "$.profile.traits_layout",
        "'wide' or 'long'",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"), [c[1:] for c in GRAPH_CASES], ids=[c[0] for c in GRAPH_CASES]
)
def test_graph_rule(mutate: Any, path: str, fragment: str) -> None:
    with pytest.raises(la.DefinitionError) as caught:
        validate_data(la.DataGraph, _mutated(mutate))
    paths = [p.path for p in caught.value.problems]
    assert path in paths, caught.value.problems
    problem = caught.value.problems[paths.index(path)]
    assert fragment in problem.rule, problem.rule


def test_graph_load_names_the_file(tmp_path: Path) -> None:
    file = tmp_path / "graph.yaml"
    file.write_text(yaml.safe_dump(_chain_graph(7)), encoding="utf-8")
    with pytest.raises(la.DefinitionError) as caught:
        la.DataGraph.load(file)
    assert str(caught.value).startswith(f"{file}: $.relationships[0]")


def test_model_validate_also_checks_graph_rules() -> None:
    with pytest.raises(ValueError, match="at most 6"):
        la.DataGraph.model_validate(_chain_graph(7))


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("a.json", "{not json", "not valid JSON"),
        ("a.yaml", "key: [unclosed", "not valid YAML"),
        ("a.txt", "{}", "expected a .json, .yaml or .yml file"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    with pytest.raises(la.DefinitionError, match=fragment):
        la.Audience.load(file)
