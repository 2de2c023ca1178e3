"""Generated account audiences (SPEC §8) on top of the generated profile scenarios.

Each case takes a scenario of :mod:`tests.reference.strategies` (graph, data, a profile
audience and the audiences it may name), adds an accounts table and a memberships table over
its profiles — empty accounts, a profile in several accounts, repeated and NULL membership
rows, memberships of accounts without a traits row, members with no traits or identifiers —
and builds a random account audience: ``users`` nodes (any / all / none) whose trees are the
scenario's profile conditions or the scenario's audiences by name, account trait comparisons
(NULLs, references), and another account audience, under ``and`` / ``or`` groups.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from linked_audiences.accounts import Accounts
from linked_audiences.conditions import Audience
from linked_audiences.validation import validate_audience
from tests.reference.strategies import Scenario, scenarios

ACCOUNTS_TABLE = "acct_gen.accounts"
MEMBERS_TABLE = "acct_gen.members"
PLANS = ("free", "team", "enterprise", "Team", "")


@st.composite
def account_scenarios(draw: st.DrawFn) -> Scenario:
    base = draw(scenarios(max_depth=1))
    key = base.graph.profile.key
    profiles = sorted(
        {
            str(row[key])
            for table in (base.graph.profile.traits_table, base.graph.profile.identifiers_table)
            for row in base.tables.get(table, [])
            if row.get(key) is not None
        }
    )
    pool = [*profiles, "ghost"]  # a member the profile tables have never heard of
    n = draw(st.integers(1, 5))
    accounts = [f"a{i}" for i in range(n)]
    account_rows = [
        {
            "gid": a,
            "plan": draw(st.one_of(st.none(), st.sampled_from(PLANS))),
            "seats": draw(st.one_of(st.none(), st.integers(0, 20))),
        }
        for a in accounts
    ]
    member_rows: list[dict[str, Any]] = []
    for a in [*accounts, "orphan"]:  # "orphan" has memberships but no traits row
        for _ in range(draw(st.integers(0, 4))):
            member_rows.append({"gid": a, "pid": draw(st.one_of(st.none(), st.sampled_from(pool)))})
    graph = base.graph.model_copy(
        update={
            "accounts": Accounts(
                traits_table=ACCOUNTS_TABLE,
                key="gid",
                traits={"plan": "string", "seats": "number"},
                memberships_table=MEMBERS_TABLE,
                memberships={"account_key": "gid", "profile_key": "pid"},  # type: ignore[arg-type]
            )
        }
    )
    profile_audiences = (*base.audiences, base.audience)
    trees = [a.condition.model_dump(mode="json", exclude_defaults=True) for a in profile_audiences]
    names = [a.key for a in profile_audiences]

    def users() -> dict[str, Any]:
        where = (
            {"type": "audience", "key": draw(st.sampled_from(names))}
            if draw(st.booleans())
            else draw(st.sampled_from(trees))
        )
        quantifier = draw(st.sampled_from(["any", "all", "none"]))
        return {"type": "users", "quantifier": quantifier, "where": where}

    def trait() -> dict[str, Any]:
        if draw(st.booleans()):
            node: dict[str, Any] = {"type": "trait", "trait": "seats"}
            node["operator"] = draw(st.sampled_from(["less_than", "greater_than", "exists"]))
            if node["operator"] != "exists":
                node["value"] = draw(st.integers(0, 20))
        else:
            node = {"type": "trait", "trait": "plan"}
            node["operator"] = draw(st.sampled_from(["equals", "starts_with", "not_exists"]))
            if node["operator"] != "not_exists":
                node["value"] = draw(st.sampled_from(PLANS))
        if draw(st.booleans()):
            node["without"] = True
        return node

    def tree(depth: int, other: bool) -> dict[str, Any]:
        kinds = ["users", "users", "trait"] + (["audience"] if other else [])
        if depth > 0:
            kinds.append("group")
        kind = draw(st.sampled_from(kinds))
        if kind == "users":
            return users()
        if kind == "trait":
            return trait()
        if kind == "audience":
            return {"type": "audience", "key": "acc_other", "without": draw(st.booleans())}
        children = [tree(depth - 1, other) for _ in range(draw(st.integers(1, 3)))]
        return {
            "type": "group",
            "operator": draw(st.sampled_from(["and", "or"])),
            "conditions": children,
        }

    other = Audience.model_validate(
        {"key": "acc_other", "name": "other", "level": "account", "condition": tree(1, False)}
    )
    main = Audience.model_validate(
        {"key": "acc_main", "name": "main", "level": "account", "condition": tree(2, True)}
    )
    audiences = (*profile_audiences, other)
    validate_audience(main, graph, audiences)
    tables = {**base.tables, ACCOUNTS_TABLE: account_rows, MEMBERS_TABLE: member_rows}
    types = {
        **base.column_types,
        ACCOUNTS_TABLE: {"gid": "string", "plan": "string", "seats": "number"},
        MEMBERS_TABLE: {"gid": "string", "pid": "string"},
    }
    return replace(
        base, graph=graph, tables=tables, column_types=types, audience=main, audiences=audiences
    )


__all__ = ["account_scenarios"]
