"""Where delivered events go: a JSON Lines file, a Python callable, or Segment's HTTP API.

An event is a JSON-serialisable dict as docs/runs.md describes: ``type`` ("track" or "identify"),
``event`` (Track), ``userId`` / ``anonymousId``, ``timestamp`` (ISO-8601 text),
``properties`` (Track) or ``traits`` (Identify), ``context`` and a stable ``messageId``.

Every sink keeps one contract (`Sink`): ``send(batch)`` returns only once the whole batch is
accepted, and raises otherwise. After a raise nothing of the batch counts as delivered, and
the caller sends it again later; events repeat their ``messageId``, so a receiver can tell
the copies of a partly accepted batch apart from new events.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Protocol, overload, runtime_checkable

import orjson

__all__ = [
    "CallableSink",
    "DeliveryError",
    "JsonLinesSink",
    "Sink",
]

log = logging.getLogger(__name__)

SEGMENT_INSTALL_HINT = 'pip install "linked-audiences[segment]"'
#: Environment variable naming the Segment API host for ``sink_from_spec("segment:KEY")``
#: (e.g. ``https://events.eu1.segmentapis.com`` for the EU region, or a proxy).
SEGMENT_HOST_ENV = "LA_SEGMENT_HOST"


@runtime_checkable
class Sink(Protocol):
    """Accepts batches of events; what a run hands its events to."""

    def send(self, events: Sequence[dict[str, Any]]) -> None:
        """Return only once every event of ``events`` is accepted (durably, for files).

        Raise on any failure; then none of the batch counts as delivered and it will be sent
        again, with the same ``messageId`` values.
        """
        ...

    def close(self) -> None:
        """Release files, threads and connections. Calling it twice is harmless."""
        ...


class DeliveryError(RuntimeError):
    """A sink's destination did not accept (all of) a batch; the batch is not delivered."""


class _ClosingSink:
    """``with sink: ...`` closes the sink at the end of the block."""

    def close(self) -> None:  # pragma: no cover - every sink overrides it
        raise NotImplementedError

    def __enter__(self) -> _ClosingSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# --- JSON Lines ---------------------------------------------------------------------------------

# JSON leaves these unescaped with ensure_ascii=False, but str.splitlines() (and many
# line-oriented tools) split on them; escaping keeps "one event per line" true for every reader.
_LINE_BREAKS_JSON_ALLOWS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_LINE_BREAKS_UTF8 = {k.encode(): v.encode() for k, v in _LINE_BREAKS_JSON_ALLOWS.items()}
#: orjson hands everything ``json`` would not write itself (datetimes, dataclasses, subclasses
#: of str/int/dict) back, so those fail — or are written — exactly as ``json`` does.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def json_line(event: dict[str, Any]) -> str:
    """One event as one line of JSON (no trailing newline), stable key order."""
    return json_line_bytes(event).decode("utf-8")


def json_line_bytes(event: dict[str, Any]) -> bytes:
    """:func:`json_line` as UTF-8. orjson writes a 500,000-event backfill in about a second
    where ``json`` takes several; what orjson refuses (integers beyond 64 bits, keys that are
    not text, lone surrogates, values it hands back) goes through ``json``, which writes it
    or raises as it always did."""
    try:
        data = orjson.dumps(event, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        text = json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        data = text.encode("utf-8")
    for char, escape in _LINE_BREAKS_UTF8.items():
        if char in data:
            data = data.replace(char, escape)
    return data


def json_lines(events: Sequence[dict[str, Any]]) -> bytes:
    """Events as JSON Lines (each line ends with a newline), ready to write in one call."""
    return b"".join([json_line_bytes(event) + b"\n" for event in events])


class JsonLinesSink(_ClosingSink):
    """Appends one JSON object per line to ``path`` (UTF-8), flushed and fsynced per batch.

    The file is created on the first non-empty batch (never truncated); its folder must
    already exist. A batch is serialised completely before anything is written, so an event
    that is not JSON-serialisable fails the batch without touching the file; if the write
    itself fails, the file is cut back to where the batch began (best effort), so a reader
    never sees half a line. Several sinks may append to one file in turn.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(
                f"cannot write events to {str(self.path)!r}: folder "
                f"{str(self.path.parent)!r} does not exist (create it first)"
            )
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"JsonLinesSink({str(self.path)!r})"

    def send(self, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        data = json_lines(events)
        with self._lock:
            handle = self._open()
            start = os.fstat(handle.fileno()).st_size
            try:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            except BaseException:
                self._cut_back(handle, start)
                raise

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                handle, self._file = self._file, None
                handle.close()

    def _open(self) -> IO[bytes]:
        if self._file is None:
            created = not self.path.exists()
            try:
                self._file = open(self.path, "ab")  # noqa: SIM115 (kept open across batches)
            except FileNotFoundError as exc:
                raise FileNotFoundError(
                    f"cannot write events to {str(self.path)!r}: folder "
                    f"{str(self.path.parent)!r} does not exist (create it first)"
                ) from exc
            if created:
                _fsync_folder(self.path.parent)
        return self._file

    def _cut_back(self, handle: IO[bytes], size: int) -> None:
        """Drop a partly written batch; if even that fails, reopen on the next send."""
        try:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())
        except OSError:
            self._file = None
            with contextlib.suppress(OSError):
                handle.close()


def _fsync_folder(folder: Path) -> None:
    """Make a new file's directory entry durable (POSIX); not possible, and not needed, on
    Windows."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# --- Python callables ---------------------------------------------------------------------------


class CallableSink(_ClosingSink):
    """Calls ``fn(event)`` for each event, or ``fn(events)`` once per batch with
    ``batch=True`` (a list). Whatever ``fn`` raises propagates, failing the batch."""

    @overload
    def __init__(
        self, fn: Callable[[dict[str, Any]], object], *, batch: Literal[False] = False
    ) -> None: ...

    @overload
    def __init__(
        self, fn: Callable[[list[dict[str, Any]]], object], *, batch: Literal[True]
    ) -> None: ...

    def __init__(self, fn: Callable[[Any], object], *, batch: bool = False) -> None:
        self.fn = fn
        self.batch = batch

    def __repr__(self) -> str:
        return f"CallableSink({self.fn!r}, batch={self.batch})"

    def send(self, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        if self.batch:
            self.fn(list(events))
        else:
            for event in events:
                self.fn(event)

    def close(self) -> None:
        pass


def __getattr__(name: str) -> Any:
    """``SegmentSink`` and ``sink_from_spec`` live in their own modules (the Segment client
    is an optional extra); they stay importable from here."""
    if name == "SegmentSink":
        from linked_audiences.runs.segment_sink import SegmentSink

        return SegmentSink
    if name == "sink_from_spec":
        from linked_audiences.runs.sink_spec import sink_from_spec

        return sink_from_spec
    raise AttributeError(name)
