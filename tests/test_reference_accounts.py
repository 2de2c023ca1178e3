"""Account audiences (SPEC §8) against hand-computed answers, on the reference evaluator and
on the compiled SQL (DuckDB).

Every expected answer below was worked out by hand from the tables in this file.

Accounts (traits table ``acct.traits``):

=======  ==========  =====  ======================================================
account  plan        seats  members (``acct.users``)
=======  ==========  =====  ======================================================
a1       enterprise  50     p1 (vip), p2 (vip)
a2       team        5      p2 (vip), p3 (not vip)
a3       enterprise  NULL   none (one membership row with a NULL profile)
a4       free        5      p4 (vip, but no identifier: outside the profile universe)
=======  ==========  =====  ======================================================

``a9`` has memberships (p1) but no traits row: it is no account. p2 belongs to two accounts.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import duckdb
import pytest

import linked_audiences as la
from linked_audiences.loading import validate_data
from tests.reference.duckdb_loader import load_tables
from tests.reference.evaluator import evaluate

AS_OF = datetime(2024, 3, 10, tzinfo=timezone.utc)

GRAPH = la.DataGraph.model_validate(
    {
        "profile": {
            "traits_table": "ps.traits",
            "identifiers_table": "ps.ids",
            "key": "pid",
            "traits": {"vip": "boolean"},
        },
        "events": [{"name": "Login", "table": "ev.login", "profile_key": "pid", "timestamp": "ts"}],
        "accounts": {
            "traits_table": "acct.traits",
            "key": "gid",
            "traits": {"plan": "string", "seats": "number", "tier": "string"},
            "memberships_table": "acct.users",
            "memberships": {"account_key": "gid", "profile_key": "pid"},
        },
    }
)
TABLES: dict[str, list[dict[str, Any]]] = {
    "ps.traits": [
        {"pid": "p1", "vip": True},
        {"pid": "p2", "vip": True},
        {"pid": "p3", "vip": False},
        {"pid": "p4", "vip": True},
    ],
    "ps.ids": [
        {"pid": "p1", "type": "user_id", "value": "u1"},
        {"pid": "p2", "type": "email", "value": "p2@example.com"},
        {"pid": "p3", "type": "user_id", "value": "u3"},
    ],
    "ev.login": [
        {"pid": "p3", "ts": datetime(2024, 3, 9, tzinfo=timezone.utc)},
        {"pid": "p4", "ts": datetime(2024, 3, 9, tzinfo=timezone.utc)},
    ],
    "acct.traits": [
        {"gid": "a1", "plan": "enterprise", "seats": 50, "tier": "enterprise"},
        {"gid": "a2", "plan": "team", "seats": 5, "tier": "gold"},
        {"gid": "a3", "plan": "enterprise", "seats": None, "tier": None},
        {"gid": "a4", "plan": "free", "seats": 5, "tier": "free"},
    ],
    "acct.users": [
        {"gid": "a1", "pid": "p1"},
        {"gid": "a1", "pid": "p2"},
        {"gid": "a1", "pid": "p2"},  # a repeated row: still one member
        {"gid": "a2", "pid": "p2"},
        {"gid": "a2", "pid": "p3"},
        {"gid": "a3", "pid": None},
        {"gid": "a4", "pid": "p4"},
        {"gid": "a9", "pid": "p1"},
    ],
}
TYPES = {
    "ps.traits": {"pid": "string", "vip": "boolean"},
    "ps.ids": {"pid": "string", "type": "string", "value": "string"},
    "ev.login": {"pid": "string", "ts": "timestamp"},
    "acct.traits": {"gid": "string", "plan": "string", "seats": "number", "tier": "string"},
    "acct.users": {"gid": "string", "pid": "string"},
}

VIP = {"type": "trait", "trait": "vip", "operator": "equals", "value": True}
LOGGED_IN = {"type": "event", "event": "Login", "window": {"within_last_days": 7}}


def users(quantifier: str, where: dict[str, Any]) -> dict[str, Any]:
    return {"type": "users", "quantifier": quantifier, "where": where}


def account(key: str, condition: dict[str, Any]) -> la.Audience:
    return validate_data(
        la.Audience, {"key": key, "name": key, "level": "account", "condition": condition}
    )


PROFILE_VIPS = validate_data(la.Audience, {"key": "vips", "name": "VIPs", "condition": VIP})
ENTERPRISE = account(
    "enterprise", {"type": "trait", "trait": "plan", "operator": "equals", "value": "enterprise"}
)

# (id, condition, accounts expected by hand)
CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    # a3 has no member: any is false. a9 is no account. p2 counts once in a1 and in a2.
    ("any vip", users("any", VIP), {"a1", "a2", "a4"}),
    # all: a1 (p1, p2 vip); a2 no (p3); a3 no (no members); a4 yes (p4 needs no identifier).
    ("all vip", users("all", VIP), {"a1", "a4"}),
    # none: a3 (no members) holds; a2 has p2: no.
    ("none vip", users("none", VIP), {"a3"}),
    ("none logged in", users("none", LOGGED_IN), {"a1", "a3"}),
    # a profile audience inside users keeps its universe: p4 (no identifier) is not a VIP
    # member, so a4 has no member in that audience; p2's email puts it in the universe.
    ("any in the vips audience", users("any", {"type": "audience", "key": "vips"}), {"a1", "a2"}),
    ("all in the vips audience", users("all", {"type": "audience", "key": "vips"}), {"a1"}),
    # account traits, NULL, and a reference between account traits
    (
        "seats under ten",
        {"type": "trait", "trait": "seats", "operator": "less_than", "value": 10},
        {"a2", "a4"},
    ),
    (
        "seats without",
        {"type": "trait", "trait": "seats", "operator": "less_than", "value": 10, "without": True},
        {"a1", "a3"},
    ),
    (
        "plan equals tier",
        {"type": "trait", "trait": "plan", "operator": "equals", "reference": {"trait": "tier"}},
        {"a1", "a4"},
    ),
    # another account audience, and its complement over the accounts
    (
        "enterprise and vip",
        {
            "type": "group",
            "operator": "and",
            "conditions": [{"type": "audience", "key": "enterprise"}, users("any", VIP)],
        },
        {"a1"},
    ),
    ("not enterprise", {"type": "audience", "key": "enterprise", "without": True}, {"a2", "a4"}),
]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    load_tables(connection, GRAPH, TABLES, TYPES)
    return connection


@pytest.mark.parametrize(
    ("condition", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reference_and_compiled_sql_agree_with_the_hand_answer(
    con: duckdb.DuckDBPyConnection, condition: dict[str, Any], expected: set[str]
) -> None:
    audience = account("case", condition)
    others = [PROFILE_VIPS, ENTERPRISE]
    result = evaluate(audience, GRAPH, TABLES, AS_OF, others)
    assert set(result.members) == expected
    assert result.entities == frozenset()
    compiled = la.compile(audience, GRAPH, as_of=AS_OF, audiences=others)
    assert {r[0] for r in con.execute(compiled.profiles_sql).fetchall()} == expected
    assert con.execute(compiled.entities_sql).fetchall() == []
