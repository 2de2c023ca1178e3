"""A run killed with SIGKILL at any point loses no event and emits no state change twice.

Each test kills real subprocesses (tests/harness/run_and_die.py), then lets one run complete,
and checks what reached the JSON Lines sink (SPEC §4, Delivery):

* every state change is delivered under exactly one messageId (re-sends repeat the id);
* replaying the delivered events gives the membership and matched entities that the
  compiled queries return at the last committed ``as_of`` — nothing lost, nothing extra.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.runs.sinks import JsonLinesSink

from .conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.duckdb

AUDIENCE = {
    "key": "recent_cart_browsers",
    "name": "Recent cart browsers",
    "condition": {
        "type": "group",
        "operator": "or",
        "conditions": [
            {
                "type": "entity",
                "relationship": "user-carts",
                "where": {
                    "type": "column",
                    "column": "updated_at",
                    "operator": "within_last",
                    "value": 7,
                },
            },
            {
                "type": "event",
                "event": "Page Viewed",
                "count": {"at_least": 2},
                "window": {"within_last_days": 7},
            },
        ],
    },
}
#: the same key edited to name no relationship: its runs match no entities
EDITED = {**AUDIENCE, "name": "Browsers", "condition": AUDIENCE["condition"]["conditions"][1]}
T1, T2 = "2026-10-20T00:00:00Z", "2026-11-01T00:00:00Z"
GRAPH = EXAMPLES / "graph.yaml"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kill")
    build_demo_warehouse(folder / "template.duckdb", profiles=150, seed=5)
    (folder / "audience.json").write_text(json.dumps(AUDIENCE), encoding="utf-8")
    (folder / "edited.json").write_text(json.dumps(EDITED), encoding="utf-8")
    return folder


def _copy(template: Path, tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "w.duckdb"
    shutil.copy(template / "template.duckdb", db)
    return db


def _harness(
    template: Path, db: Path, as_of: str, out: Path, *flags: str, audience: str = "audience.json"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.harness.run_and_die",
            str(db),
            str(GRAPH),
            str(template / audience),
            as_of,
            str(out),
            *flags,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _run(
    template: Path, db: Path, as_of: str, out: Path, audience_file: str = "audience.json"
) -> la.RunResult:
    audience = la.Audience.load(template / audience_file)
    with la.connect(f"duckdb:///{db}") as warehouse:
        return la.run(
            audience, la.DataGraph.load(GRAPH), warehouse, as_of=as_of, sink=JsonLinesSink(out)
        )


def _events(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _change(event: dict[str, Any]) -> tuple[Any, ...]:
    """What state change an event reports, and when (its messageId aside). A profile may
    enter, exit and enter again over several runs: those are different changes."""
    props = event.get("properties") or event.get("traits") or {}
    return (
        event["timestamp"],
        event["type"],
        event.get("event"),
        event.get("userId"),
        event.get("anonymousId"),
        props.get("relationship"),
        props.get("entity_id"),
        props.get(AUDIENCE["key"]) if event["type"] == "identify" else None,
    )


def _profile(event: dict[str, Any]) -> tuple[Any, Any]:
    return event.get("userId"), event.get("anonymousId")


def check_exactly_once(
    events: list[dict[str, Any]], db: Path, as_of: str, definition: dict[str, Any] = AUDIENCE
) -> None:
    ids_by_change: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for event in events:
        ids_by_change[_change(event)].add(event["messageId"])
    twice = {c: ids for c, ids in ids_by_change.items() if len(ids) > 1}
    assert not twice, f"state changes emitted under two messageIds: {twice}"

    # Replay, once per messageId, in delivery order.
    seen: set[str] = set()
    members: set[tuple[Any, Any]] = set()
    entities: set[tuple[Any, ...]] = set()
    for event in events:
        if event["messageId"] in seen:
            continue
        seen.add(event["messageId"])
        name, who = event.get("event"), _profile(event)
        if name == "Audience Entered":
            assert who not in members, f"entered twice: {who}"
            members.add(who)
        elif name == "Audience Exited":
            assert who in members, f"exited without entering: {who}"
            members.remove(who)
        elif name in ("Entity Added", "Entity Removed"):
            key = (*who, event["properties"]["relationship"], event["properties"]["entity_id"])
            if name == "Entity Added":
                assert key not in entities, f"added twice: {key}"
                entities.add(key)
            else:
                assert key in entities, f"removed without being added: {key}"
                entities.remove(key)

    graph, audience = la.DataGraph.load(GRAPH), la.Audience.model_validate(definition)
    compiled = la.compile(audience, graph, as_of=as_of)
    with la.connect(f"duckdb:///{db}") as warehouse:
        ids = dict(
            warehouse.fetchall(
                "SELECT profile_id, struct_pack(u := user_id, a := anonymous_id) "
                "FROM linked_audiences.la_members m WHERE run_id = (SELECT run_id FROM "
                "linked_audiences.la_runs ORDER BY committed_at DESC LIMIT 1)"
            )
        )
        expected_members = {
            (ids[p]["u"], ids[p]["a"]) for (p,) in warehouse.fetchall(compiled.profiles_sql)
        }
        expected_entities = {
            (ids[p]["u"], ids[p]["a"], rel, ent)
            for p, rel, ent in warehouse.fetchall(compiled.entities_sql)
        }
    assert members == expected_members
    assert entities == expected_entities


def _committed_as_of(db: Path) -> str:
    with la.connect(f"duckdb:///{db}") as warehouse:
        moment = warehouse.scalar(
            "SELECT strftime(max(as_of), '%Y-%m-%dT%H:%M:%SZ') FROM linked_audiences.la_runs"
        )
    return str(moment)


def test_clean_runs_are_the_baseline(template: Path, tmp_path: Path) -> None:
    db, out = _copy(template, tmp_path), tmp_path / "events.jsonl"
    first = _run(template, db, T1, out)
    second = _run(template, db, T2, out)
    assert first.stats.entered > 0 and second.stats.entered > 0 and second.stats.exited > 0
    check_exactly_once(_events(out), db, T2)
    # the harness itself completes a run when told not to die
    result = _harness(template, db, "2026-11-02T00:00:00Z", out)
    assert result.returncode == 0, result.stderr
    check_exactly_once(_events(out), db, "2026-11-02T00:00:00Z")


def test_killed_after_every_write(template: Path, tmp_path: Path) -> None:
    """Kill the second run after its 1st, 2nd, … warehouse write; then run it again."""
    probe_db, probe_out = _copy(template, tmp_path / "probe"), tmp_path / "probe.jsonl"
    _run(template, probe_db, T1, probe_out)
    probe = _harness(template, probe_db, T2, probe_out)
    writes = int(probe.stdout.split("writes=")[1].split()[0])
    assert writes > 10
    for n in range(1, writes + 1):
        case = tmp_path / f"w{n}"
        db, out = _copy(template, case), case / "events.jsonl"
        _run(template, db, T1, out)
        killed = _harness(template, db, T2, out, "--die-after-write", str(n))
        assert killed.returncode == -9, (n, killed.stderr)
        _run(template, db, T2, out)
        check_exactly_once(_events(out), db, T2)


def test_killed_after_sink_accepted_a_batch(template: Path, tmp_path: Path) -> None:
    """The sink has the batch, the watermark does not: the batch is re-sent, same ids."""
    db, out = _copy(template, tmp_path), tmp_path / "events.jsonl"
    _run(template, db, T1, out)
    before = len(_events(out))
    killed = _harness(template, db, T2, out, "--die-after-send", "1")
    assert killed.returncode == -9
    resent = _events(out)[before:]
    assert resent, "the killed run delivered its first batch before dying"
    _run(template, db, T2, out)
    events = _events(out)
    assert len(events) > len({e["messageId"] for e in events})  # a re-send happened…
    check_exactly_once(events, db, T2)  # …under the same messageIds


def test_killed_at_random_instants(template: Path, tmp_path: Path) -> None:
    """Runs at later and later as_of, each SIGKILLed after a random delay; one completes."""
    db, out = _copy(template, tmp_path), tmp_path / "events.jsonl"
    chance = random.Random(20261124)
    for day in range(20, 32):
        as_of = f"2026-10-{day:02d}T00:00:00Z"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.harness.run_and_die",
                str(db),
                str(GRAPH),
                str(template / "audience.json"),
                as_of,
                str(out),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(chance.uniform(0.3, 2.5))
        process.kill()
        process.wait(timeout=60)
    _run(template, db, "2026-11-01T00:00:00Z", out)
    assert _committed_as_of(db) == "2026-11-01T00:00:00Z"
    check_exactly_once(_events(out), db, "2026-11-01T00:00:00Z")


def test_killed_after_every_write_of_an_edited_definition(template: Path, tmp_path: Path) -> None:
    """The definition loses its entity branch between runs; the run after the edit is
    killed after its 1st, 2nd, … write. The completing run emits the difference of the two
    snapshots once: every matched cart is removed, nothing twice, nothing lost. Restoring
    the definition then adds them again (the edited snapshot held none), once."""
    probe_db, probe_out = _copy(template, tmp_path / "probe"), tmp_path / "probe.jsonl"
    _run(template, probe_db, T1, probe_out)
    probe = _harness(template, probe_db, T2, probe_out, audience="edited.json")
    writes = int(probe.stdout.split("writes=")[1].split()[0])
    assert writes > 10
    removed = [e for e in _events(probe_out) if e.get("event") == "Entity Removed"]
    assert removed, "the edit removes the matched carts"
    for n in range(1, writes + 1):
        case = tmp_path / f"w{n}"
        db, out = _copy(template, case), case / "events.jsonl"
        _run(template, db, T1, out)
        killed = _harness(
            template, db, T2, out, "--die-after-write", str(n), audience="edited.json"
        )
        assert killed.returncode == -9, (n, killed.stderr)
        _run(template, db, T2, out, "edited.json")
        check_exactly_once(_events(out), db, T2, EDITED)
        if n % 4 == 1:  # and back, killed at the same point
            restore = "2026-11-02T00:00:00Z"
            _harness(template, db, restore, out, "--die-after-write", str(n))
            _run(template, db, restore, out)
            check_exactly_once(_events(out), db, restore)


#: An account audience (SPEC §8): Group calls per account, an Identify per member.
ACCOUNTS = {
    "key": "accounts_with_views",
    "name": "Accounts with recent page views",
    "level": "account",
    "condition": {
        "type": "users",
        "quantifier": "any",
        "where": {"type": "event", "event": "Page Viewed", "window": {"within_last_days": 2}},
    },
}


def check_accounts_exactly_once(events: list[dict[str, Any]], db: Path, as_of: str) -> None:
    """Replayed once per messageId, the Group calls leave exactly the accounts the audience
    has now, each change under one messageId; every Identify reports its account's change
    (context.groupId) once per member."""
    key = ACCOUNTS["key"]
    ids_by_change: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for event in events:
        context = event["context"]
        who = event.get("groupId") or (event.get("userId"), event.get("anonymousId"))
        change = (event["timestamp"], event["type"], context.get("groupId"), str(who))
        ids_by_change[(*change, event["traits"][key])].add(event["messageId"])
    twice = {c: ids for c, ids in ids_by_change.items() if len(ids) > 1}
    assert not twice, f"state changes emitted under two messageIds: {twice}"
    seen: set[str] = set()
    accounts: set[str] = set()
    for event in events:
        if event["messageId"] in seen or event["type"] != "group":
            continue
        seen.add(event["messageId"])
        if event["traits"][key]:
            assert event["groupId"] not in accounts, f"entered twice: {event['groupId']}"
            accounts.add(event["groupId"])
        else:
            assert event["groupId"] in accounts, f"exited without entering: {event['groupId']}"
            accounts.remove(event["groupId"])
    graph, audience = la.DataGraph.load(GRAPH), la.Audience.model_validate(ACCOUNTS)
    with la.connect(f"duckdb:///{db}") as warehouse:
        expected = {
            str(a)
            for (a,) in warehouse.fetchall(la.compile(audience, graph, as_of=as_of).profiles_sql)
        }
        members = warehouse.fetchall(
            "SELECT DISTINCT group_id, canonical_segment_id FROM ps_materialize.account_users "
            "WHERE canonical_segment_id IS NOT NULL"
        )
    assert accounts == expected
    identified = {event["context"]["groupId"] for event in events if event["type"] == "identify"}
    with_members = {str(a) for a, _ in members}
    changed = {event["groupId"] for event in events if event["type"] == "group"}
    assert identified == changed & with_members


def test_account_runs_killed_after_its_writes(template: Path, tmp_path: Path) -> None:
    """The account audience's second run, killed after every other write, then run again:
    its Group and Identify calls are each delivered under one messageId."""
    (template / "accounts.json").write_text(json.dumps(ACCOUNTS), encoding="utf-8")
    probe_db, probe_out = _copy(template, tmp_path / "probe"), tmp_path / "probe.jsonl"
    _run(template, probe_db, T1, probe_out, "accounts.json")
    probe = _harness(template, probe_db, T2, probe_out, audience="accounts.json")
    assert probe.returncode == 0, probe.stderr
    check_accounts_exactly_once(_events(probe_out), probe_db, T2)
    assert {e["traits"][ACCOUNTS["key"]] for e in _events(probe_out)} == {True, False}
    writes = int(probe.stdout.split("writes=")[1].split()[0])
    for n in range(1, writes + 1, 2):
        case = tmp_path / f"a{n}"
        db, out = _copy(template, case), case / "events.jsonl"
        _run(template, db, T1, out, "accounts.json")
        killed = _harness(
            template, db, T2, out, "--die-after-write", str(n), audience="accounts.json"
        )
        assert killed.returncode == -9, (n, killed.stderr)
        _run(template, db, T2, out, "accounts.json")
        check_accounts_exactly_once(_events(out), db, T2)
