"""Reading events back and writing them out: pages by seq range, orjson with exact fallbacks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

import linked_audiences as la
from linked_audiences.runs import ledger as ledger_module
from linked_audiences.runs.commit import timestamp
from linked_audiences.runs.events import MAX_EVENT_BYTES
from linked_audiences.runs.ledger import Ledger, decode_event
from linked_audiences.runs.sinks import CallableSink, json_line, json_line_bytes, json_lines
from linked_audiences.runs.state import EVENTS, RUNS, State
from linked_audiences.sql import string
from linked_audiences.warehouse import Warehouse

KEY = "aud"
RUN = "20261101T000000Z-000000000001"


# --- decoding -----------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    "text",
    [
        '{"a":1,"b":[1.5,null,true],"c":{"d":"é\\u2028"}}',
        '{"big":18446744073709551616}',  # beyond 64 bits: orjson would make it a float
        '{"big" : [ -123456789012345678901234 ]}',  # PostgreSQL's spacing
        '{"nan":NaN}',  # orjson refuses it; json reads it
        '{"s":"\\ud800"}',  # a lone surrogate: orjson refuses it
        '{"id":"1234567890123456789012"}',  # digits in text: exact either way
    ],
)
def test_decode_event_reads_every_payload_as_json_does(text: str) -> None:
    got, want = decode_event(text), json.loads(text)
    assert repr(got) == repr(want)  # repr: NaN != NaN, and 1 == 1.0 would hide a float


# --- encoding -----------------------------------------------------------------------------


def _stdlib_line(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@pytest.mark.unit
@pytest.mark.parametrize(
    "event",
    [
        {"z": 1, "a": {"y": [1, 2.5, None, True], "b": "é ü 中"}, "m": -0.0},
        {"big": 2**70, "neg": -(2**70)},  # orjson refuses these; json writes them exactly
        {"int_keys": {1: "a"}},  # keys that are not text: json turns them into text
        {"tab": "a\tb\x00c\x1f", "quote": '"\\/'},
    ],
)
def test_json_line_is_the_stdlib_line(event: dict[str, Any]) -> None:
    assert json_line(event) == _stdlib_line(event)
    assert json_line_bytes(event) == _stdlib_line(event).encode("utf-8")


@pytest.mark.unit
def test_json_line_escapes_line_separators_and_refuses_what_json_refuses() -> None:
    assert json_line({"a": "x\u2028y\u2029z\u0085"}) == '{"a":"x\\u2028y\\u2029z\\u0085"}'
    with pytest.raises(TypeError):
        json_line_bytes({"when": datetime(2026, 1, 1)})
    with pytest.raises(UnicodeEncodeError):
        json_line_bytes({"s": "\ud800"})
    assert json_lines([{"b": 1}, {"a": 2}]) == b'{"b":1}\n{"a":2}\n'


# --- pages --------------------------------------------------------------------------------


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with la.connect("duckdb://") as warehouse:
        state = State(warehouse, "s")
        state.ensure()
        yield Ledger(state, KEY)


def _add_events(w: Warehouse, state: State, count: int, skipped: set[int]) -> None:
    for seq in range(1, count + 1):
        big = seq in skipped  # skipped: over the size limit, never sent
        values = [
            string(RUN),
            string(KEY),
            exp.Literal.number(seq),
            string("audience_entered"),
            string(f"p{seq}"),
            exp.null(),
            exp.null(),
            string(f"m{seq}"),
            string(json.dumps({"n": seq, **({"pad": "x" * MAX_EVENT_BYTES} if big else {})})),
            exp.true() if big else exp.false(),
        ]
        w.execute(state.insert(EVENTS, values))


@pytest.mark.duckdb
def test_pages_are_seq_ranges_and_a_page_of_skipped_events_still_moves_on(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module, "BATCH", 4)
    _add_events(ledger.w, ledger.state, 10, skipped={5, 6, 7, 8})
    pages = list(ledger.event_batches(RUN, 0))
    assert [through for through, _ in pages] == [4, 8, 10]
    assert [[json.loads(p)["n"] for p in rows] for _, rows in pages] == [[1, 2, 3, 4], [], [9, 10]]
    with_skipped = list(ledger.event_batches(RUN, 2, skipped=True))
    assert [[json.loads(p)["n"] for p in rows] for _, rows in with_skipped] == [
        [3, 4, 5, 6],
        [7, 8, 9, 10],
    ]
    assert list(ledger.event_batches(RUN, 10)) == []


@pytest.mark.duckdb
def test_delivery_sends_page_by_page_and_marks_each_page_end(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module, "BATCH", 4)
    _add_events(ledger.w, ledger.state, 10, skipped={5, 6, 7, 8})
    moment = timestamp(datetime(2026, 11, 1, tzinfo=timezone.utc))
    run_row = [string(RUN), string(KEY), string(""), moment, moment.copy(), moment.copy()]
    run_row += [exp.Literal.number(0)] * 8 + [exp.null()] * (len(RUNS.columns) - 14)
    ledger.w.execute(ledger.state.insert(RUNS, run_row))
    batches: list[list[dict[str, Any]]] = []
    assert ledger.deliver_pending(CallableSink(batches.append, batch=True)) == 6
    assert batches == [[{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}], [{"n": 9}, {"n": 10}]]
    marks = ledger.w.fetchall(
        "SELECT through_seq FROM s.la_deliveries WHERE via_run IS NULL ORDER BY through_seq"
    )
    assert [m for (m,) in marks] == [4, 8, 10]
    assert ledger.watermark(RUN) == 10
    assert ledger.deliver_pending(CallableSink(batches.append, batch=True)) == 0


# --- statements a run sends ---------------------------------------------------------------


@pytest.mark.duckdb
def test_a_run_where_nothing_changed_sends_no_event_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Activations whose changes were counted as none are not evaluated again with their
    payloads; the run's counts and events stay what they were."""
    from linked_audiences.demo import load_examples
    from linked_audiences.examples.generator import build_demo_warehouse

    db = tmp_path / "w.duckdb"
    build_demo_warehouse(db, profiles=60, seed=3)
    graph, audiences = load_examples()
    audience = next(a for a in audiences if a.key == "premium_cardholders")
    sent: list[str] = []
    execute = Warehouse.execute

    def recording(self: Warehouse, query: Any) -> None:
        sent.append(self.sql(query))
        execute(self, query)

    monkeypatch.setattr(Warehouse, "execute", recording)
    with la.connect(f"duckdb:///{db}") as w:
        first = la.run(audience, graph, w, as_of="2026-11-01T00:00:00Z", audiences=audiences)
        assert first.stats.events > 0
        assert any("la_events" in s.split("SELECT")[0] for s in sent if s.startswith("INSERT"))
        sent.clear()
        again = la.run(audience, graph, w, as_of="2026-11-01T00:00:00Z", audiences=audiences)
        assert list(again.events) == []
    assert again.stats.events == again.stats.entered == again.stats.exited == 0
    assert again.stats.members == first.stats.members
    assert not [s for s in sent if s.startswith('INSERT INTO "linked_audiences"."la_events"')]
