"""Events as JSON lines on a stream (``linked-audiences run`` without ``--events-out``).

An event written to stdout counts as delivered only once the write and the flush succeeded:
when the reader goes away (``run … | head -1``), ``send`` raises, the batch stays pending in
the warehouse, and ``linked-audiences deliver`` sends it later. Printing events after the
run committed them as delivered would lose every event the reader never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from linked_audiences.runs.sinks import json_lines

__all__ = ["StreamSink", "pending_events"]


class StreamSink:
    """Writes each batch as JSON lines (the format of ``JsonLinesSink``) to a binary stream
    and flushes it; any write or flush error propagates, so the batch is not delivered."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.written = 0  # events written and flushed

    def __repr__(self) -> str:
        return f"StreamSink({getattr(self.stream, 'name', '?')!r})"

    def send(self, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        data = memoryview(json_lines(events))
        # A raw (unbuffered) stream may write only part of the data and return the count —
        # on a pipe whose reader left, the rest is silently dropped unless we write it again
        # (and then get the BrokenPipeError).
        while data:
            count = self.stream.write(data)
            if count is None or count <= 0:
                raise BlockingIOError("the output stream accepted nothing")
            data = data[count:]
        self.stream.flush()
        self.written += len(events)

    def close(self) -> None:
        """Flush, but leave the stream open: it belongs to the caller (stdout)."""
        self.stream.flush()


def pending_events(warehouse: Any, audience_key: str, *, state_schema: str) -> int:
    """How many events of committed runs are still undelivered (what ``deliver`` would send,
    events over the size limit excepted): told to the user when stdout closed early."""
    from linked_audiences.runs.ledger import Ledger
    from linked_audiences.runs.state import State

    ledger = Ledger(State(warehouse, state_schema), audience_key)
    return sum(
        len(batch)
        for run in ledger.committed()
        for _, batch in ledger.event_batches(run.run_id, ledger.watermark(run.run_id))
    )
