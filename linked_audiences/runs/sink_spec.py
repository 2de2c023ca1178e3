"""A sink from a short text, as the command line and project files name it."""

from __future__ import annotations

import os

from linked_audiences.runs.segment_sink import SegmentSink
from linked_audiences.runs.sinks import SEGMENT_HOST_ENV, JsonLinesSink, Sink


def sink_from_spec(spec: str) -> Sink:
    """A sink from a short text, as the command line takes it.

    - ``events.jsonl`` (any path ending in ``.jsonl``) or ``jsonl:PATH`` → `JsonLinesSink`
    - ``segment:WRITE_KEY`` → `SegmentSink`, sending to ``$LA_SEGMENT_HOST`` when that is set
    """
    text = spec.strip()
    if text.startswith("jsonl:"):
        path = text[len("jsonl:") :]
        if not path:
            raise ValueError("jsonl: needs a file path, e.g. jsonl:events.jsonl")
        return JsonLinesSink(path)
    if text.startswith("segment:"):
        write_key = text[len("segment:") :]
        if not write_key:
            raise ValueError("segment: needs a write key, e.g. segment:YOUR_WRITE_KEY")
        return SegmentSink(write_key, host=os.environ.get(SEGMENT_HOST_ENV) or None)
    if text.lower().endswith(".jsonl"):
        return JsonLinesSink(text)
    raise ValueError(f"unknown sink {spec!r}: expected FILE.jsonl, jsonl:PATH or segment:WRITE_KEY")
