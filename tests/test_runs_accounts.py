"""Runs of account audiences: a Group call per account that enters or exits, an Identify per
member profile of it, nothing else, exactly once (SPEC §8 with §4's delivery)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.loading import validate_data
from linked_audiences.runs.sinks import CallableSink

from .reference.evaluator import evaluate
from .test_runs import T1, T2, _tables

pytestmark = pytest.mark.duckdb

ACCOUNTS = validate_data(
    la.Audience,
    {
        "key": "active_accounts",
        "name": "Accounts with a recent buyer",
        "level": "account",
        "condition": {
            "type": "users",
            "quantifier": "any",
            "where": {
                "type": "event",
                "event": "Order Completed",
                "window": {"within_last_days": 14},
            },
        },
    },
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("accounts") / "template.duckdb"
    build_demo_warehouse(path, profiles=400, seed=5)
    return path


@pytest.fixture
def warehouse(template: Path, tmp_path: Path) -> Iterator[la.Warehouse]:
    db = tmp_path / "w.duckdb"
    db.write_bytes(template.read_bytes())
    with la.connect(f"duckdb:///{db}") as w:
        yield w


def _members(w: la.Warehouse) -> dict[str, set[str]]:
    """account → its member profiles, read straight from the memberships table."""
    found: dict[str, set[str]] = {}
    for account, profile in w.fetchall(
        "SELECT group_id, canonical_segment_id FROM ps_materialize.account_users "
        "WHERE group_id IS NOT NULL AND canonical_segment_id IS NOT NULL"
    ):
        found.setdefault(str(account), set()).add(str(profile))
    return found


def _user_ids(w: la.Warehouse) -> dict[str, str]:
    return {
        str(p): str(v)
        for p, v in w.fetchall(
            "SELECT canonical_segment_id, max(value) FROM ps_materialize.user_identifiers "
            "WHERE type = 'user_id' AND value IS NOT NULL GROUP BY 1"
        )
    }


def _calls(events: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    out = set()
    for e in events:
        if e["type"] == "group":
            out.add(("group", e["groupId"], None, e["traits"]["active_accounts"]))
        else:
            assert e["type"] == "identify", e
            out.add(("identify", e["userId"], e["anonymousId"], e["traits"]["active_accounts"]))
    return out


def test_backfill_then_changes_match_the_reference(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    tables = _tables(warehouse)
    before = evaluate(ACCOUNTS, graph, tables, la.compile(ACCOUNTS, graph, as_of=T1).as_of)
    after = evaluate(ACCOUNTS, graph, tables, la.compile(ACCOUNTS, graph, as_of=T2).as_of)
    entered, exited = after.members - before.members, before.members - after.members
    assert before.members and entered and exited  # the data makes both directions bite

    members, user_ids = _members(warehouse), _user_ids(warehouse)
    first = la.run(ACCOUNTS, graph, warehouse, as_of=T1)
    events = list(first.events)
    assert first.stats.members == len(before.members)
    assert all(e["type"] in ("group", "identify") for e in events)

    def expected(accounts: set[str], now: bool) -> set[tuple[Any, ...]]:
        calls = {("group", a, None, now) for a in accounts}
        for a in accounts:
            for p in members.get(a, set()):
                calls.add(("identify", user_ids.get(p), _anon(warehouse, p), now))
        return calls

    assert _calls(events) == expected(set(before.members), True)
    # one Identify per (account, member): a profile in two accounts gets two, ids differ
    identifies = [e for e in events if e["type"] == "identify"]
    assert len(identifies) == sum(len(members.get(a, ())) for a in before.members)
    assert len({e["messageId"] for e in events}) == len(events)

    second = la.run(ACCOUNTS, graph, warehouse, as_of=T2)
    changes = list(second.events)
    assert _calls(changes) == expected(entered, True) | expected(exited, False)
    assert (second.stats.entered, second.stats.exited) == (len(entered), len(exited))
    again = la.run(ACCOUNTS, graph, warehouse, as_of=T2)
    assert list(again.events) == []


def _anon(w: la.Warehouse, profile: str) -> str | None:
    row = w.fetchall(
        "SELECT max(value) FROM ps_materialize.user_identifiers "
        f"WHERE type = 'anonymous_id' AND canonical_segment_id = '{profile}'"
    )
    return None if row[0][0] is None else str(row[0][0])


def test_a_profile_in_two_accounts_gets_one_identify_per_account(
    warehouse: la.Warehouse,
) -> None:
    graph, _ = load_examples()
    everyone = validate_data(
        la.Audience,
        {
            "key": "active_accounts",
            "name": "All accounts",
            "level": "account",
            "condition": {"type": "trait", "trait": "plan", "operator": "exists"},
        },
    )
    members = _members(warehouse)
    doubles = {p for a in members for p in members[a] if sum(p in m for m in members.values()) > 1}
    assert doubles
    result = la.run(everyone, graph, warehouse, as_of=T2)
    per_profile: dict[str, int] = {}
    ids = _user_ids(warehouse)
    for e in result.events:
        if e["type"] == "identify" and e["userId"] is not None:
            per_profile[e["userId"]] = per_profile.get(e["userId"], 0) + 1
    traited = {
        str(a) for (a,) in warehouse.fetchall("SELECT group_id FROM ps_materialize.account_traits")
    }
    for p in doubles:
        if p in ids:
            assert per_profile[ids[p]] == sum(p in members[a] for a in traited if a in members)


def test_activations_and_enrichment(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    only_groups = [la.Activation(trigger="account_membership_changed", traits=["plan", "seats"])]
    result = la.run(ACCOUNTS, graph, warehouse, as_of=T1, activations=only_groups)
    events = list(result.events)
    assert events and all(e["type"] == "group" for e in events)
    plans = dict(warehouse.fetchall("SELECT group_id, plan FROM ps_materialize.account_traits"))
    for e in events:
        assert e["traits"]["plan"] == plans[e["groupId"]]
        assert e["traits"]["active_accounts"] is True


def test_profile_triggers_are_refused_on_account_audiences(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    with pytest.raises(la.DefinitionError) as caught:
        la.run(
            ACCOUNTS,
            graph,
            warehouse,
            as_of=T1,
            activations=[la.Activation(trigger="audience_entered")],
        )
    assert caught.value.problems[0].path == "$.activations[0].trigger"
    profile = load_examples()[1][0]
    with pytest.raises(la.DefinitionError) as caught:
        la.run(
            profile,
            graph,
            warehouse,
            as_of=T1,
            activations=[la.Activation(trigger="account_membership_changed")],
        )
    assert "trigger of account audiences" in caught.value.problems[0].rule


def test_delivery_to_a_sink_sends_each_call_once(warehouse: la.Warehouse) -> None:
    graph, _ = load_examples()
    sent: list[dict[str, Any]] = []
    result = la.run(ACCOUNTS, graph, warehouse, as_of=T1, sink=CallableSink(sent.append))
    assert sent and {e["type"] for e in sent} == {"group", "identify"}
    assert result.stats.delivered == len(sent) == len({e["messageId"] for e in sent})
    assert all(json.loads(json.dumps(e)) == e for e in sent)
    repeat = la.run(ACCOUNTS, graph, warehouse, as_of=T1, sink=CallableSink(sent.append))
    assert repeat.stats.delivered == 0
