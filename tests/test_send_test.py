"""send-test: a profile's events as a run would send them entering now, marked as tests,
sent to a sink, nothing stored; and the payload preview of each activation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.cli import main as cli_main
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.loading import load_audience_folder
from linked_audiences.runs.payloads import payload_preview
from linked_audiences.runs.sinks import CallableSink
from linked_audiences.runs.testing import NotAMember, send_test

from .conftest import EXAMPLES
from .harness.pg import demo_postgres
from .test_runs import AUDIENCE, ENRICHED, T1

KEY = AUDIENCE.key
HOSTILE = "o'hare\\%_;\u00e9\u202e"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("send_test") / "template.duckdb"
    build_demo_warehouse(path, profiles=120, seed=9)
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    shutil.copy(template, path)
    return path


def _without_test_marks(event: dict[str, Any]) -> dict[str, Any]:
    context = {k: v for k, v in event["context"].items() if k != "test"}
    return {**{k: v for k, v in event.items() if k != "messageId"}, "context": context}


def _state_rows(w: la.Warehouse) -> dict[str, int]:
    names = [
        n
        for (n,) in w.fetchall(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'linked_audiences'"
        )
    ]
    return {n: int(w.scalar(f'SELECT count(*) FROM linked_audiences."{n}"')) for n in names}


def _real_run(w: la.Warehouse, activations: Any = ENRICHED) -> tuple[list[Any], dict[str, Any]]:
    """A real first run at T1: its events, and each member's (userId, anonymousId)."""
    graph, _ = load_examples()
    result = la.run(AUDIENCE, graph, w, as_of=T1, activations=activations)
    ids = {
        p: (u, a)
        for p, u, a in w.fetchall(
            "SELECT profile_id, user_id, anonymous_id FROM linked_audiences.la_members"
        )
    }
    return list(result.events), ids


def _facts(w: la.Warehouse) -> tuple[list[Any], dict[str, Any], list[str]]:
    """A real run's events, member ids, and two members: one with and one without
    matched entities."""
    events, ids = _real_run(w)
    with_entities = w.fetchall(
        "SELECT profile_id FROM linked_audiences.la_entities GROUP BY 1 ORDER BY count(*) DESC, 1"
    )
    without = w.fetchall(
        "SELECT profile_id FROM linked_audiences.la_members WHERE profile_id NOT IN "
        "(SELECT profile_id FROM linked_audiences.la_entities) ORDER BY 1"
    )
    assert with_entities and without
    return events, ids, [with_entities[0][0], without[0][0]]


def _check_same_as_the_run(
    w: la.Warehouse, facts: tuple[list[Any], dict[str, Any], list[str]]
) -> None:
    graph, _ = load_examples()
    events, ids, profiles = facts
    before = _state_rows(w)
    real_ids = {e["messageId"] for e in events}
    for profile in profiles:
        real = [e for e in events if (e["userId"], e["anonymousId"]) == ids[profile]]
        sent: list[dict[str, Any]] = []
        test = send_test(
            AUDIENCE,
            graph,
            w,
            profile,
            activations=ENRICHED,
            sink=CallableSink(sent.append),
            as_of=T1,
        )
        assert test.member and sent == test.events and real
        assert [_without_test_marks(e) for e in test.events] == [
            _without_test_marks(e) for e in real
        ]
        assert all(e["context"]["test"] is True for e in test.events)
        assert not {e["messageId"] for e in test.events} & real_ids
        assert len({e["messageId"] for e in test.events}) == len(test.events)
    assert _state_rows(w) == before


def test_test_events_are_a_runs_events(db: Path) -> None:
    with la.connect(f"duckdb:///{db}") as w:
        facts = _facts(w)
    with la.connect(f"duckdb:///{db}", read_only=True) as w:
        _check_same_as_the_run(w, facts)


def test_default_activations_and_plain_sql(db: Path) -> None:
    """Entered, the Identify, then Entity Added per matched entity (the compiled entities
    query, as plain SQL) — on a read-only connection to a database no run ever touched."""
    graph, _ = load_examples()
    compiled = la.compile(AUDIENCE, graph, as_of=T1)
    with la.connect(f"duckdb:///{db}", read_only=True) as w:
        entities = w.fetchall(compiled.entities_sql)
        profile = sorted({p for p, _, _ in entities})[0]
        mine = sorted(e for p, r, e in entities if p == profile)
        test = send_test(AUDIENCE, graph, w, profile, as_of=T1)
        schemas = {s for (s,) in w.fetchall("SELECT schema_name FROM information_schema.schemata")}
    kinds = [(e["type"], e.get("event")) for e in test.events]
    assert kinds == [
        ("track", "Audience Entered"),
        ("identify", None),
        *[("track", "Entity Added")] * len(mine),
    ]
    assert [e["properties"]["entity_id"] for e in test.events[2:]] == mine
    assert test.events[1]["traits"] == {KEY: True}
    assert "linked_audiences" not in schemas  # nothing stored


def test_a_profile_that_is_not_a_member(db: Path) -> None:
    graph, _ = load_examples()
    with la.connect(f"duckdb:///{db}", read_only=True) as w:
        members = {p for (p,) in w.fetchall(la.compile(AUDIENCE, graph, as_of=T1).profiles_sql)}
        outsider = next(
            p
            for (p,) in w.fetchall(
                "SELECT DISTINCT canonical_segment_id FROM ps_materialize.user_identifiers "
                "WHERE type = 'user_id' ORDER BY 1"
            )
            if p not in members
        )
        with pytest.raises(NotAMember, match=f"profile '{outsider}' is not a member"):
            send_test(AUDIENCE, graph, w, outsider, as_of=T1)
        with pytest.raises(NotAMember):
            send_test(AUDIENCE, graph, w, HOSTILE, as_of=T1)
        forced = send_test(AUDIENCE, graph, w, outsider, as_of=T1, force=True)
        user_id = w.scalar(
            "SELECT max(value) FROM ps_materialize.user_identifiers "
            f"WHERE type = 'user_id' AND canonical_segment_id = '{outsider}'"
        )
        hostile = send_test(AUDIENCE, graph, w, HOSTILE, as_of=T1, force=True)
    assert not forced.member
    assert [e.get("event") for e in forced.events] == ["Audience Entered", None]
    assert forced.events[0]["userId"] == user_id
    assert [(e["userId"], e["anonymousId"]) for e in hostile.events] == [(None, None)] * 2


def _files(tmp_path: Path) -> tuple[str, str]:
    audience = tmp_path / "a.json"
    audience.write_text(AUDIENCE.model_dump_json(), encoding="utf-8")
    return str(EXAMPLES / "graph.yaml"), str(audience)


def test_send_test_command(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    graph_file, audience_file = _files(tmp_path)
    graph, _ = load_examples()
    with la.connect(f"duckdb:///{db}", read_only=True) as w:
        profile = w.fetchall(la.compile(AUDIENCE, graph, as_of=T1).profiles_sql)[0][0]
    base = ["send-test", graph_file, audience_file, "--warehouse", f"duckdb:///{db}"]
    base += ["--as-of", T1]
    out = tmp_path / "test.jsonl"
    assert cli_main([*base, "--profile", profile, "--events-out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    err = capsys.readouterr().err.strip()
    assert err == f"sent {len(lines)} test events for {profile}" and len(lines) >= 2
    assert all(e["context"]["test"] for e in lines)

    assert cli_main([*base, "--profile", profile]) == 0  # stdout by default
    captured = capsys.readouterr()
    stdout = [json.loads(x) for x in captured.out.splitlines()]
    assert [_without_test_marks(e) for e in stdout] == [_without_test_marks(e) for e in lines]

    assert cli_main([*base, "--profile", HOSTILE]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: profile \"o'hare\\\\%_;") and line.endswith("anyway")
    assert "not a member of audience 'cart_or_browse' at 2026-10-20T00:00:00Z" in line
    assert "\u202e" not in line and captured.out == ""
    assert cli_main([*base, "--profile", HOSTILE, "--force"]) == 0
    assert "(not a member: forced)" in capsys.readouterr().err
    with la.connect(f"duckdb:///{db}", read_only=True) as w:
        schemas = {s for (s,) in w.fetchall("SELECT schema_name FROM information_schema.schemata")}
    assert "linked_audiences" not in schemas


def test_account_audience(db: Path) -> None:
    graph, _ = load_examples()
    audiences = load_audience_folder(EXAMPLES / "audiences")
    (accounts,) = [a for a in audiences if a.level == "account"]
    with la.connect(f"duckdb:///{db}") as w:
        result = la.run(accounts, graph, w, as_of=T1, audiences=audiences)
        events = list(result.events)
        account = w.scalar("SELECT min(profile_id) FROM linked_audiences.la_members")
        test = send_test(accounts, graph, w, account, as_of=T1, audiences=audiences)
    real = [
        e for e in events if e.get("groupId") == account or e["context"].get("groupId") == account
    ]
    assert real
    assert [_without_test_marks(e) for e in test.events] == [_without_test_marks(e) for e in real]


def test_payload_preview_has_the_shape_of_real_events(db: Path) -> None:
    graph, _ = load_examples()
    with la.connect(f"duckdb:///{db}") as w:
        events, _ = _real_run(w)
    shapes = payload_preview(AUDIENCE, graph, ENRICHED)
    assert [(s["trigger"], s["relationship"]) for s in shapes] == [
        (a.trigger, a.relationship) for a in ENRICHED
    ]

    def keys(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: keys(v) for k, v in value.items()}
        if isinstance(value, list):
            return [keys(value[0])] if value else []
        return None

    for shape in shapes:
        real = next(
            e
            for e in events
            if (e["type"], e.get("event")) == (shape["type"], shape["event"])
            and e["properties"]["user-carts"]  # an example array holds one item
        )
        assert list(keys(shape["example"])) == list(keys(real))
        assert keys(shape["example"]) == keys(real)
    entered, added = shapes
    assert entered["fields"]["properties.loyalty_tier"] == graph.trait_type("loyalty_tier")
    rel = graph.relationship("user-carts")
    assert rel is not None
    assert added["fields"]["properties.user-carts__total"] == rel.entity.columns["total"]
    assert added["fields"]["properties.user-carts[].id"] == "string"
    assert (
        entered["example"]["properties"]["loyalty_tier"] == f"<{graph.trait_type('loyalty_tier')}>"
    )


def test_payload_preview_defaults_and_account_calls() -> None:
    graph, _ = load_examples()
    shapes = payload_preview(AUDIENCE, graph)
    assert [(s["type"], s["event"]) for s in shapes] == [
        ("track", "Audience Entered"),
        ("track", "Audience Exited"),
        ("identify", None),
        ("track", "Entity Added"),
        ("track", "Entity Removed"),
    ]
    assert shapes[2]["example"]["traits"] == {KEY: True}
    audiences = load_audience_folder(EXAMPLES / "audiences")
    (accounts,) = [a for a in audiences if a.level == "account"]
    group, identify = payload_preview(accounts, graph)
    assert group["type"] == "group" and group["example"]["groupId"] == "<string>"
    assert identify["example"]["context"]["groupId"] == "<string>"
    with pytest.raises(la.DefinitionError, match="unknown trait"):
        payload_preview(AUDIENCE, graph, [la.Activation(trigger="audience_entered", traits=["x"])])


@pytest.mark.postgres
def test_test_events_are_a_runs_events_on_postgres(template: Path, postgres_dsn: str) -> None:
    with demo_postgres(template, postgres_dsn) as w:
        _check_same_as_the_run(w, _facts(w))
