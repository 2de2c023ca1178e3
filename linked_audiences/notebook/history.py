"""The run history of one audience: its size and events per run as a small inline SVG chart,
and the runs as a compact table.

It takes the run log's dicts (``la.runs.run_log``, newest first) and tolerates what older or
newer logs leave out or add: a missing count is a gap, not a zero, and delivery figures are
shown from a ``delivery`` dict or from flat fields, whichever the entries carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linked_audiences.notebook.markup import (
    CODE,
    FAILS,
    MUTED,
    as_int,
    empty,
    esc,
    number,
    plural,
    table,
    title,
    view,
    when,
)

SIZE = "rgb(66,133,244)"
EVENTS = "rgb(230,145,56)"
#: Delivery figures, in the order a reader follows an event: made, held back, waiting, lost, sent.
DELIVERY_KEYS = ("created", "filtered", "pending", "failed", "delivered")
WIDTH, LEFT, RIGHT = 640, 56, 12
SIZE_TOP, SIZE_HEIGHT = 14, 110
EVENTS_TOP, EVENTS_HEIGHT = 150, 64
HEIGHT = 242


def run_history_html(entries: Sequence[Mapping[str, Any]]) -> str:
    """Oldest run on the left, newest on the right; failed runs marked ✗ above the line."""
    runs = list(reversed(list(entries)))
    key = next((str(r["audience_key"]) for r in runs if r.get("audience_key")), "")
    failed = sum(1 for r in runs if _failed(r))
    sub = plural(len(runs), "run") + (f", {failed} failed" if failed else "")
    head = title(
        (
            "Run history"
            + (f' of <span style="{CODE};font-size:14px">{esc(key)}</span>' if key else "")
        ),
        sub,
    )
    if not runs:
        return view("run-history", head + empty("No runs yet."))
    return view("run-history", head + _chart(runs) + _table(entries))


def _failed(run: Mapping[str, Any]) -> bool:
    return run.get("status") == "failed"


def _chart(runs: Sequence[Mapping[str, Any]]) -> str:
    n = len(runs)
    bar = max(1.0, min(14.0, (WIDTH - LEFT - RIGHT) / n * 0.6))
    # the first and last bars stay inside the axes
    start, span = LEFT + bar / 2 + 2, WIDTH - LEFT - RIGHT - bar - 4
    xs = [start + span / 2] if n == 1 else [start + span * i / (n - 1) for i in range(n)]
    sizes = [None if _failed(r) else as_int(r.get("members")) for r in runs]
    events = [None if _failed(r) else as_int(r.get("events")) for r in runs]
    top_size = _nice(max((s for s in sizes if s is not None), default=0))
    top_events = _nice(max((e for e in events if e is not None), default=0))

    def y_size(v: int) -> float:
        return SIZE_TOP + SIZE_HEIGHT * (1 - v / top_size)

    parts = [
        _axis(SIZE_TOP, SIZE_HEIGHT, top_size, "members", SIZE),
        _axis(EVENTS_TOP, EVENTS_HEIGHT, top_events, "events", EVENTS),
    ]
    # the size line joins consecutive committed runs; a failed or unknown one breaks it
    segment: list[str] = []
    lines = []
    for x, s in zip(xs, sizes, strict=True):
        if s is None:
            if len(segment) > 1:
                lines.append(segment)
            segment = []
            continue
        segment.append(f"{x:.1f},{y_size(s):.1f}")
    if len(segment) > 1:
        lines.append(segment)
    parts += [
        f'<polyline points="{" ".join(seg)}" fill="none" stroke="{SIZE}" stroke-width="1.5"/>'
        for seg in lines
    ]
    for x, run, s, e in zip(xs, runs, sizes, events, strict=True):
        tip = esc(_tooltip(run))
        mark = []
        if _failed(run):
            y = SIZE_TOP + 4
            mark.append(
                f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="12" '
                f'font-weight="700" fill="{FAILS}">✗</text>'
            )
        elif s is not None:
            mark.append(
                f'<circle data-la-point="size" cx="{x:.1f}" cy="{y_size(s):.1f}" r="3" '
                f'fill="{SIZE}"/>'
            )
        if e is not None:
            h = EVENTS_HEIGHT * e / top_events
            mark.append(
                f'<rect data-la-point="events" x="{x - bar / 2:.1f}" '
                f'y="{EVENTS_TOP + EVENTS_HEIGHT - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{EVENTS}" fill-opacity="0.8"/>'
            )
        parts.append(
            f'<g data-la-run="{esc(run.get("run_id"))}" data-la-status="{esc(run.get("status"))}">'
            f"<title>{tip}</title>{''.join(mark)}</g>"
        )
    first, last = when(runs[0].get("as_of")), when(runs[-1].get("as_of"))
    labels = [
        f'<text x="{LEFT}" y="{HEIGHT - 4}" font-size="10" fill="currentColor">{esc(first)}</text>'
    ]
    if n > 1:
        labels.append(
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" font-size="10" text-anchor="end" '
            f'fill="currentColor">{esc(last)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="audience size and events per run" '
        f'style="max-width:100%;height:auto;color:inherit;display:block">'
        f"{''.join(parts)}{''.join(labels)}</svg>"
    )


def _nice(top: int) -> int:
    """A round upper bound for an axis (1, 2, 5 × 10ⁿ), never zero so nothing divides by it."""
    if top <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= top:
                return m * step
        step *= 10


def _axis(top: float, height: float, maximum: int, label: str, colour: str) -> str:
    base = top + height
    return (
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="currentColor" '
        f'stroke-opacity="0.35"/>'
        f'<line x1="{LEFT}" y1="{top}" x2="{WIDTH - RIGHT}" y2="{top}" stroke="currentColor" '
        f'stroke-opacity="0.12"/>'
        f'<text x="{LEFT - 6}" y="{top + 4}" font-size="10" text-anchor="end" '
        f'fill="currentColor" fill-opacity="0.7">{maximum:,}</text>'
        f'<text x="{LEFT - 6}" y="{base}" font-size="10" text-anchor="end" '
        f'fill="currentColor" fill-opacity="0.7">0</text>'
        f'<text x="{LEFT - 6}" y="{top + height / 2 + 4}" font-size="10" text-anchor="end" '
        f'fill="{colour}">{label}</text>'
    )


def _tooltip(run: Mapping[str, Any]) -> str:
    text = f"{when(run.get('as_of'))} · {run.get('run_id') or ''}"
    if _failed(run):
        return f"{text} · failed: {run.get('error') or ''}"
    return (
        f"{text} · {number(run.get('members'))} members · +{number(run.get('entered'))} "
        f"−{number(run.get('exited'))} · {number(run.get('events'))} events"
    )


def _delivery(run: Mapping[str, Any]) -> dict[str, Any]:
    nested = run.get("delivery")
    source: Mapping[str, Any] = nested if isinstance(nested, Mapping) else run
    return {k: source[k] for k in DELIVERY_KEYS if source.get(k) is not None}


def _alerts(run: Mapping[str, Any]) -> list[str]:
    """Alerts the run raised: the size alert today (a flag), and whatever the log adds later
    as flags, messages or lists of them. Numbers (thresholds) are settings, not alerts."""
    out: list[str] = []

    def add(name: str, value: Any) -> None:
        if value is True:
            out.append(name.replace("_", " "))
        elif isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, Mapping):
            add(name, value.get("text") or value.get("message") or bool(value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                add(name, item)

    for k, v in run.items():
        if "alert" in k:
            add(k, v)
    return out


def _table(entries: Sequence[Mapping[str, Any]]) -> str:
    deliveries = [_delivery(r) for r in entries]
    with_delivery = any(deliveries)
    headers = ["as of", "status", "members", "entered", "exited", "events"]
    if with_delivery:
        headers.append("delivery")
    headers.append("run")
    rows = []
    for run, delivery in zip(entries, deliveries, strict=True):
        status = esc(run.get("status") or "")
        if _failed(run):
            status = f'<span style="color:{FAILS}">✗ failed</span>'
            error = run.get("error")
            if error:
                status += f'<div style="{MUTED};font-size:11px;max-width:260px">{esc(error)}</div>'
        alerts = _alerts(run)
        if alerts:
            status += f'<div style="font-size:11px">⚠ {esc(", ".join(alerts))}</div>'
        entered, exited = run.get("entered"), run.get("exited")
        row = [
            esc(when(run.get("as_of"))),
            status,
            number(run.get("members")),
            "" if entered is None else f"+{number(entered)}",
            "" if exited is None else f"−{number(exited)}",
            number(run.get("events")),
        ]
        if with_delivery:
            row.append(", ".join(f"{esc(k)} {number(v)}" for k, v in delivery.items()))
        row.append(f'<span style="{CODE};font-size:11px">{esc(run.get("run_id"))}</span>')
        rows.append(row)
    grid = table(headers, rows, numeric={2, 3, 4, 5})
    return f'<div style="max-height:320px;overflow-y:auto">{grid}</div>'
