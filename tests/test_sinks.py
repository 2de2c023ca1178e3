"""Sinks: JSON Lines files, Python callables, and Segment's API against a local HTTP server."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from linked_audiences.runs import sinks
from linked_audiences.runs.sinks import (
    CallableSink,
    DeliveryError,
    JsonLinesSink,
    Sink,
    sink_from_spec,
)


def track(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Audience Entered",
        "userId": f"user-{n}",
        "anonymousId": None,
        "timestamp": "2026-11-01T00:00:00.000Z",
        "properties": {"audience_key": "vip", "audience_name": "VIP", "vip": True},
        "context": {"personas": {"computation_key": "vip", "computation_class": "audience"}},
        "messageId": f"msg-track-{n}",
        **extra,
    }


def identify(n: int) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": None,
        "anonymousId": f"anon-{n}",
        "timestamp": "2026-11-01T12:34:56.789+00:00",
        "traits": {"vip": False},
        "context": {"personas": {"computation_key": "vip", "computation_class": "audience"}},
        "messageId": f"msg-identify-{n}",
    }


HOSTILE = [
    "it's",
    'say "hi"',
    "back\\slash",
    "C:\\new\\table",
    "line\nbreak",
    "crlf\r\nend",
    "tab\tand\x00nul\x1fus",
    "ünïcödé ☃ 日本語 עברית 😀",
    "separators \u2028 and \u2029 and \u0085",
    "\\n is not a newline",
    "',\"); DROP TABLE users; --",
    "",
]


# --- JSON Lines ---------------------------------------------------------------------------------


def read_events(path: Path) -> list[dict[str, Any]]:
    # splitlines() also splits on U+2028/U+2029/U+0085: one event per line must still hold.
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_line_format(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with JsonLinesSink(path) as sink:
        sink.send([{"b": "ü", "a": 1, "c": {"z": None, "y": [1.5, True]}}])
    assert path.read_bytes() == '{"a":1,"b":"ü","c":{"y":[1.5,true],"z":null}}\n'.encode()


def test_jsonl_appends_across_sinks_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    first = JsonLinesSink(path)
    first.send([track(1), identify(1)])
    first.close()
    second = JsonLinesSink(path)
    second.send([track(2)])
    # A sink that is still open keeps appending after another sink wrote.
    reopened = JsonLinesSink(path)
    reopened.send([track(3)])
    second.send([track(4)])
    second.close()
    reopened.close()
    assert read_events(path) == [track(1), identify(1), track(2), track(3), track(4)]


def test_jsonl_hostile_strings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    events = [
        track(n, properties={value: value, "nested": {"list": [value, {value: value}]}})
        for n, value in enumerate(HOSTILE)
    ]
    with JsonLinesSink(path) as sink:
        sink.send(events)
    raw = path.read_bytes()
    assert raw.count(b"\n") == len(events)
    assert read_events(path) == events
    # Non-ASCII stays readable (ensure_ascii=False); only the line separators are escaped.
    assert "日本語".encode() in raw and "😀".encode() in raw
    assert "\u2028".encode() not in raw and b"\\u2028" in raw


def test_jsonl_batch_is_flushed_and_fsynced_when_send_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(sinks.os, "fsync", recording_fsync)
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    sink.send([track(1), track(2)])
    with open(path, encoding="utf-8") as reader:  # a second handle, before close
        assert [json.loads(line) for line in reader] == [track(1), track(2)]
    assert sink._file is not None
    assert sink._file.fileno() in synced
    synced.clear()
    sink.send([track(3)])
    assert sink._file.fileno() in synced
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3
    sink.close()


def test_jsonl_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(FileNotFoundError, match=r"folder .*such.* does not exist"):
        JsonLinesSink(missing / "events.jsonl")
    # The folder vanishing after the sink was made fails the first send just as clearly.
    folder = tmp_path / "gone"
    folder.mkdir()
    sink = JsonLinesSink(folder / "events.jsonl")
    folder.rmdir()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sink.send([track(1)])
    assert not folder.exists()


def test_jsonl_opens_lazily_and_ignores_empty_batches(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    sink.send([])
    sink.close()
    assert not path.exists()


def test_jsonl_unserialisable_event_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    sink.send([track(1)])
    before = path.read_bytes()
    with pytest.raises(TypeError):
        sink.send([track(2), track(3, properties={"when": datetime(2026, 1, 1)})])
    with pytest.raises(UnicodeEncodeError):
        sink.send([track(4, event="lone surrogate \ud800")])
    assert path.read_bytes() == before
    sink.close()


class _FailingHalfway:
    """A file handle that writes half of what it is given, then fails (a full disk)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def write(self, data: bytes) -> int:
        self.inner.write(data[: len(data) // 2])
        self.inner.flush()
        raise OSError(28, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_jsonl_failed_write_leaves_no_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    sink.send([track(1)])
    assert sink._file is not None
    sink._file = _FailingHalfway(sink._file)
    with pytest.raises(OSError, match="No space left"):
        sink.send([track(2), track(3)])
    assert read_events(path) == [track(1)]
    sink._file = sink._file.inner
    sink.send([track(2), track(3)])  # the re-send after the failure
    assert read_events(path) == [track(1), track(2), track(3)]
    sink.close()
    sink.close()  # twice is harmless
    sink.send([track(4)])  # and a closed sink reopens on demand
    sink.close()
    assert len(read_events(path)) == 4


# --- callables ----------------------------------------------------------------------------------


def test_callable_per_event() -> None:
    received: list[dict[str, Any]] = []
    sink = CallableSink(received.append)
    sink.send([track(1), identify(1)])
    sink.send([])
    sink.send([track(2)])
    sink.close()
    assert received == [track(1), identify(1), track(2)]


def test_callable_batch() -> None:
    batches: list[list[dict[str, Any]]] = []
    sink = CallableSink(batches.append, batch=True)
    sink.send((track(1), identify(1)))
    sink.send([])
    sink.send([track(2)])
    assert batches == [[track(1), identify(1)], [track(2)]]
    assert all(type(batch) is list for batch in batches)


@pytest.mark.parametrize("batch", [False, True])
def test_callable_exception_propagates(batch: bool) -> None:
    class Boom(Exception):
        pass

    def fail(_: object) -> None:
        raise Boom("receiver is down")

    sink = CallableSink(fail, batch=batch)  # type: ignore[call-overload]
    with pytest.raises(Boom, match="receiver is down"):
        sink.send([track(1)])


def test_sinks_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(JsonLinesSink(tmp_path / "x.jsonl"), Sink)
    assert isinstance(CallableSink(print), Sink)


# --- sink_from_spec -----------------------------------------------------------------------------


def test_sink_from_spec_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plain = sink_from_spec("events.jsonl")
    assert isinstance(plain, JsonLinesSink) and plain.path == Path("events.jsonl")
    prefixed = sink_from_spec(f"jsonl:{tmp_path / 'out.txt'}")
    assert isinstance(prefixed, JsonLinesSink) and prefixed.path == tmp_path / "out.txt"
    # The prefix wins over anything that follows it.
    odd = sink_from_spec("jsonl:segment:x.jsonl")
    assert isinstance(odd, JsonLinesSink) and odd.path == Path("segment:x.jsonl")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("events.csv", "unknown sink"),
        ("kafka:topic", "unknown sink"),
        ("", "unknown sink"),
        ("jsonl:", "needs a file path"),
        ("segment:", "needs a write key"),
    ],
)
def test_sink_from_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sink_from_spec(spec)


# --- Segment ------------------------------------------------------------------------------------


class Recorder(ThreadingHTTPServer):
    """Records every POST and answers with the next status of `statuses` (then 200)."""

    daemon_threads = True

    def __init__(self, statuses: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statuses = list(statuses)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for request in self.requests for m in request["body"]["batch"]]


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        with self.server.lock:
            self.server.requests.append(
                {"path": self.path, "encoding": encoding, "body": json.loads(raw)}
            )
            status = self.server.statuses.pop(0) if self.server.statuses else 200
        body = (
            b'{"success": true}'
            if status == 200
            else b'{"code": "server_error", "message": "test server says no"}'
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def segment(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    return pytest.importorskip("segment.analytics")


@contextlib.contextmanager
def serve(statuses: list[int] | None = None) -> Iterator[Recorder]:
    server = Recorder(statuses or [])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server(segment: Any) -> Iterator[Recorder]:
    with serve() as recorder:
        yield recorder


@pytest.fixture
def failing_server(segment: Any) -> Iterator[Recorder]:
    with serve([500] * 10) as recorder:
        yield recorder


FAST = {"timeout": 2.0, "max_wait": 5.0, "upload_interval": 0.01}


def segment_sink(url: str | None, **options: Any) -> sinks.SegmentSink:
    return sinks.SegmentSink("test-write-key", host=url, **{**FAST, **options})


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("compress", [True, False])
def test_segment_delivers_track_and_identify(server: Recorder, compress: bool) -> None:
    events = [track(1), identify(1), track(2, userId="user-2", anonymousId="anon-2")]
    originals = json.loads(json.dumps(events))
    sink = segment_sink(server.url, gzip=compress, max_retries=0)
    sink.send(events)
    # send() returned: the server already has everything, no waiting.
    received = {m["messageId"]: m for m in server.messages}
    sink.close()
    assert all(r["path"] == "/v1/batch" for r in server.requests)
    assert {r["encoding"] for r in server.requests} == ({"gzip"} if compress else {None})
    assert all(r["body"]["writeKey"] == "test-write-key" for r in server.requests)
    assert sorted(received) == ["msg-identify-1", "msg-track-1", "msg-track-2"]

    one = received["msg-track-1"]
    assert one["type"] == "track"
    assert one["event"] == "Audience Entered"
    assert one["userId"] == "user-1"
    assert one.get("anonymousId") is None
    assert one["properties"] == {"audience_key": "vip", "audience_name": "VIP", "vip": True}
    assert one["context"]["personas"] == {"computation_key": "vip", "computation_class": "audience"}
    assert instant(one["timestamp"]) == datetime(2026, 11, 1, tzinfo=timezone.utc)

    who = received["msg-identify-1"]
    assert who["type"] == "identify"
    assert who.get("userId") is None
    assert who["anonymousId"] == "anon-1"
    assert who["traits"] == {"vip": False}
    assert instant(who["timestamp"]) == datetime(2026, 11, 1, 12, 34, 56, 789_000, timezone.utc)

    both = received["msg-track-2"]
    assert (both["userId"], both["anonymousId"]) == ("user-2", "anon-2")
    # The caller's events are untouched (the client adds context.library to what it is given).
    assert events == originals


def test_segment_delivers_account_group_calls(server: Recorder) -> None:
    """An account audience's Group call has no user: the account id stands in as the
    anonymousId Segment's API requires; a Group call with a user keeps it."""
    group = {
        "type": "group",
        "groupId": "grp_1",
        "userId": None,
        "anonymousId": None,
        "timestamp": "2026-11-01T00:00:00.000Z",
        "messageId": "msg-group-1",
        "context": {"personas": {"computation_key": "b2b", "computation_class": "audience"}},
        "traits": {"b2b": True, "plan": "enterprise"},
    }
    with_user = {**group, "messageId": "msg-group-2", "userId": "user-9"}
    sink = segment_sink(server.url, max_retries=0)
    sink.send([group, with_user])
    sink.close()
    received = {m["messageId"]: m for m in server.messages}
    one = received["msg-group-1"]
    assert (one["type"], one["groupId"], one["anonymousId"]) == ("group", "grp_1", "grp_1")
    assert one["traits"] == {"b2b": True, "plan": "enterprise"}
    two = received["msg-group-2"]
    assert (two["userId"], two.get("anonymousId")) == ("user-9", None)
    with pytest.raises(ValueError, match="a group call needs a groupId"):
        segment_sink(server.url, max_retries=0).send([{**with_user, "groupId": None}])


def test_segment_hostile_values_and_many_batches(server: Recorder) -> None:
    events = [track(n, properties={"name": HOSTILE[n % len(HOSTILE)]}) for n in range(250)]
    sink = segment_sink(server.url, upload_size=40, max_retries=0)
    sink.send(events)
    sink.close()
    received = server.messages
    assert len(server.requests) >= 7  # 250 events, at most 40 per upload
    assert sorted(m["messageId"] for m in received) == sorted(e["messageId"] for e in events)
    by_id = {m["messageId"]: m for m in received}
    for event in events:
        assert by_id[event["messageId"]]["properties"] == event["properties"]


def test_segment_server_error_raises(failing_server: Recorder) -> None:
    sink = segment_sink(failing_server.url, max_retries=1)
    with pytest.raises(DeliveryError, match=r"did not accept 2 event\(s\).*500"):
        sink.send([track(1), identify(1)])
    sink.close()
    # One attempt and one retry per event (in one upload or two), with the same messageId.
    ids = sorted(m["messageId"] for m in failing_server.messages)
    assert ids == ["msg-identify-1", "msg-identify-1", "msg-track-1", "msg-track-1"]


def test_segment_retry_then_success(segment: Any) -> None:
    with serve([503]) as recorder:
        sink = segment_sink(recorder.url, max_retries=2)
        sink.send([track(1)])
        sink.close()
        assert [m["messageId"] for m in recorder.messages] == ["msg-track-1", "msg-track-1"]


def test_segment_refused_connection_raises(segment: Any) -> None:
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = segment_sink(f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(DeliveryError, match="did not accept 1 event"):
        sink.send([track(1)])
    sink.close()


def test_segment_later_batch_is_judged_on_its_own(segment: Any) -> None:
    with serve([500]) as recorder:
        sink = segment_sink(recorder.url, max_retries=0)
        with pytest.raises(DeliveryError):
            sink.send([track(1)])
        sink.send([track(1), track(2)])  # the re-send succeeds
        sink.close()
        assert [m["messageId"] for m in recorder.messages] == [
            "msg-track-1",
            "msg-track-1",
            "msg-track-2",
        ]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({**track(1), "messageId": None}, "needs a messageId"),
        ({**track(1), "userId": None, "anonymousId": None}, "needs a userId or an anonymousId"),
        ({**track(1), "type": "page"}, "type must be 'track', 'identify' or 'group'"),
        ({**track(1), "event": ""}, "needs an event name"),
        ({**track(1), "timestamp": "yesterday"}, "not ISO-8601"),
        ({**identify(1), "traits": ["vip"]}, "traits must be an object"),
    ],
)
def test_segment_malformed_event_fails_before_sending(
    server: Recorder, event: dict[str, Any], message: str
) -> None:
    sink = segment_sink(server.url)
    with pytest.raises(ValueError, match=message):
        sink.send([track(2), event])
    sink.close()
    assert server.requests == []


def test_segment_skips_events_over_32_kb(server: Recorder) -> None:
    huge = track(1, properties={"blob": "é" * 6_000})  # 6,000 chars; 36 KB once \u-escaped
    sink = segment_sink(server.url)
    sink.send([huge, track(2)])
    sink.close()
    assert sink.skipped_message_ids == ["msg-track-1"]
    assert [m["messageId"] for m in server.messages] == ["msg-track-2"]


def test_segment_sink_from_spec_reads_host_from_env(
    server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LA_SEGMENT_HOST", server.url)
    sink = sink_from_spec("segment:spec-key")
    assert isinstance(sink, sinks.SegmentSink) and isinstance(sink, Sink)
    assert (sink.write_key, sink.host) == ("spec-key", server.url)
    sink.send([identify(7)])
    sink.close()
    assert [m["messageId"] for m in server.messages] == ["msg-identify-7"]


def test_segment_missing_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "segment", None)
    monkeypatch.setitem(sys.modules, "segment.analytics", None)
    with pytest.raises(ImportError, match=r'pip install "linked-audiences\[segment\]"'):
        sinks.SegmentSink("key")
    with pytest.raises(ImportError, match=r'pip install "linked-audiences\[segment\]"'):
        sink_from_spec("segment:key")
