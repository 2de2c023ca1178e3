"""The run state of one audience: committed runs, watermarks, events, orphans, pruning.

Every read filters on the audience key, so audiences share the state tables safely; every
write appends rows keyed by ``run_id`` (nothing is updated in place), so a run that never
commits leaves only orphans, found by id in ``la_run_starts`` and deleted by the next run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple, Protocol

import orjson
from sqlglot import exp

from linked_audiences.runs.events import MAX_EVENT_BYTES
from linked_audiences.runs.state import (
    ALERTS,
    DELIVERIES,
    DELIVERY_FAILURES,
    ENTITIES,
    EVENTS,
    FAILURES,
    MEMBERS,
    RUN_STARTS,
    RUNS,
    State,
    TableSpec,
)
from linked_audiences.sql import col, select, string

log = logging.getLogger(__name__)

KEEP_RUNS = 50
#: Events per page read back and per sink batch (one watermark and, for files, one fsync
#: each): about 16 MB of decoded events in Python at the demo's payload sizes.
BATCH = 10_000


class EventSink(Protocol):
    def send(self, events: Sequence[dict[str, Any]]) -> None: ...


class Committed(NamedTuple):
    """A committed run, as the next run needs it."""

    run_id: str
    members: int
    as_of: datetime


class Ledger:
    """Reads and writes the run state of one audience."""

    def __init__(self, state: State, key: str) -> None:
        self.state, self.key = state, key
        self.w = state.warehouse

    def _of(self, spec: Any, alias: str) -> tuple[exp.Table, exp.Expr]:
        return self.state.table(spec, alias), exp.EQ(
            this=col(alias, "audience_key"), expression=string(self.key)
        )

    def committed(self) -> list[Committed]:
        """Committed runs, oldest first; the last is the next run's baseline.

        Ordered by the chain of ``previous_run_id`` links, not by ``committed_at``: that is
        the committing machine's clock, and two machines' clocks may disagree. The compare-
        and-swap on the baseline makes the chain a single line; its head is the run that
        no other committed run follows."""
        runs, mine = self._of(RUNS, "r")
        names = ("run_id", "previous_run_id", "members", "as_of", "committed_at")
        live = exp.Not(this=exp.In(this=col("r", "run_id"), query=self.withdrawn_ids()))
        query = select([col("r", c) for c in names], runs, where=[mine, live])
        rows = self.w.fetchall(query)
        by_id = {str(r[0]): r for r in rows}
        followed = {str(r[1]) for r in rows}
        heads = sorted((r for r in rows if str(r[0]) not in followed), key=lambda r: _aware(r[4]))
        chain: list[Any] = []
        link = str(heads[-1][0]) if heads else None
        while link in by_id and len(chain) < len(rows):
            chain.append(by_id[link])
            link = str(by_id[link][1])
        on_chain = {id(r) for r in chain}
        rest = sorted((r for r in rows if id(r) not in on_chain), key=lambda r: _aware(r[4]))
        return [Committed(str(r[0]), int(r[2]), _aware(r[3])) for r in [*rest, *chain[::-1]]]

    def snapshot_relationships(self, run_id: str) -> list[str]:
        """Relationships a run's snapshot holds matched entities of, sorted."""
        table, mine = self._of(ENTITIES, "s")
        query = select(
            [col("s", "relationship")],
            table,
            where=[mine, exp.EQ(this=col("s", "run_id"), expression=string(run_id))],
        )
        query = query.distinct(copy=False)
        return sorted(str(r) for (r,) in self.w.fetchall(query))

    def _committed_ids(self) -> exp.Subquery:
        runs, mine = self._of(RUNS, "cr")
        live = exp.Not(this=exp.In(this=col("cr", "run_id"), query=self.withdrawn_ids()))
        return select([col("cr", "run_id")], runs, where=[mine, live]).subquery()

    def withdrawn_ids(self) -> exp.Subquery:
        """Runs that failed: on warehouses without enforced UNIQUE, a run that lost the
        commit race may have left an ``la_runs`` row, which its failure row withdraws."""
        failures, mine = self._of(FAILURES, "wf")
        return select([col("wf", "run_id")], failures, where=[mine]).subquery()

    def watermark(self, run_id: str) -> int:
        """Highest seq of ``run_id`` delivered by a sink or by a committed run's caller."""
        table, mine = self._of(DELIVERIES, "d")
        valid = self.valid_delivery("d")
        query = select(
            [
                exp.Coalesce(
                    this=exp.Max(this=col("d", "through_seq")), expressions=[exp.Literal.number(0)]
                )
            ],
            table,
            where=[mine, exp.EQ(this=col("d", "run_id"), expression=string(run_id)), valid],
        )
        return int(self.w.scalar(query))

    def valid_delivery(self, alias: str) -> exp.Expr:
        """A watermark row that counts: a sink's (``via_run`` NULL), or one written for a
        caller by a run that then committed."""
        return exp.or_(
            exp.Is(this=col(alias, "via_run"), expression=exp.null()),
            exp.In(this=col(alias, "via_run"), query=self._committed_ids()),
        )

    def last_seq(self, run_id: str) -> int:
        table, mine = self._of(EVENTS, "e")
        query = select(
            [exp.Coalesce(this=exp.Max(this=col("e", "seq")), expressions=[exp.Literal.number(0)])],
            table,
            where=[mine, exp.EQ(this=col("e", "run_id"), expression=string(run_id))],
        )
        return int(self.w.scalar(query))

    def event_batches(
        self, run_id: str, after: int = 0, *, skipped: bool = False, last: int | None = None
    ) -> Iterator[tuple[int, list[str]]]:
        """(through, payloads): a run's events with ``after < seq <= through``, in seq
        order, one page of ``BATCH`` seqs at a time.

        A run's seqs are dense (1 … its event count), so a page is a range of seqs, not
        ``ORDER BY seq LIMIT n`` from ``after``: no page sorts or scans past its own range,
        and the cost of reading a run's events grows linearly, not with the square. ``through``
        is where the next page starts, also when every event of a page was skipped."""
        table, mine = self._of(EVENTS, "e")
        end = self.last_seq(run_id) if last is None else last
        while after < end:
            through = min(after + BATCH, end)
            where = [
                mine,
                exp.EQ(this=col("e", "run_id"), expression=string(run_id)),
                exp.GT(this=col("e", "seq"), expression=exp.Literal.number(after)),
                exp.LTE(this=col("e", "seq"), expression=exp.Literal.number(through)),
            ]
            if not skipped:
                where.append(exp.Not(this=col("e", "skipped")))
            query = select([col("e", "payload")], table, where=where)
            query = query.order_by(exp.Ordered(this=col("e", "seq")), copy=False)
            yield through, [p if isinstance(p, str) else str(p) for (p,) in self.w.fetchall(query)]
            after = through

    def record_delivery(self, run_id: str, through: int, via_run: str | None) -> None:
        values = [
            string(self.key),
            string(run_id),
            exp.Literal.number(through),
            string(via_run) if via_run else exp.cast(exp.null(), "TEXT"),
            exp.cast(string(datetime.now(timezone.utc).isoformat()), "TIMESTAMPTZ"),
        ]
        self.w.execute(self.state.insert(DELIVERIES, values))

    def deliver_pending(self, sink: EventSink) -> int:
        """Send every undelivered event of committed runs, oldest run first."""
        sent = 0
        for run_id, *_ in self.committed():
            last = self.last_seq(run_id)
            mark = self.watermark(run_id)
            if mark >= last:
                continue
            after = mark
            for through, batch in self.event_batches(run_id, mark, skipped=True, last=last):
                events = [decode_event(p) for p in batch if len(p) <= MAX_EVENT_BYTES]
                if events:
                    try:
                        sink.send(events)
                    except Exception as exc:
                        self.record_delivery_failure(run_id, after, through, len(events), exc)
                        raise
                self.record_delivery(run_id, through, None)
                sent += len(events)
                after = through
        return sent

    def record_delivery_failure(
        self, run_id: str, after: int, through: int, events: int, error: BaseException
    ) -> None:
        """The sink rejected the batch ``after < seq <= through``: appended at once, before
        the error goes on, for the delivery overview. Best effort: a warehouse that no
        longer answers must not hide the sink's error behind its own."""
        values = [
            string(self.key),
            string(run_id),
            exp.Literal.number(after),
            exp.Literal.number(through),
            exp.Literal.number(events),
            string(" ".join(f"{type(error).__name__}: {error}".split())[:2000]),
            exp.cast(string(datetime.now(timezone.utc).isoformat()), "TIMESTAMPTZ"),
        ]
        try:
            self.w.execute(self.state.insert(DELIVERY_FAILURES, values))
        except Exception as exc:
            log.warning("could not record the failed delivery of run %s: %s", run_id, exc)

    def record_start(self, run_id: str, started_at: datetime) -> None:
        """Before a run writes anything: lets :meth:`drop_orphans` find its rows by id."""
        values = [
            string(self.key),
            string(run_id),
            exp.cast(string(started_at.isoformat()), "TIMESTAMPTZ"),
        ]
        self.w.execute(self.state.insert(RUN_STARTS, values))

    def drop_orphans(self) -> None:
        """Rows of runs that started but never committed (killed or failed): never read, now
        gone. Usually there are none, and then no snapshot table is touched."""
        starts, mine = self._of(RUN_STARTS, "s")
        uncommitted = exp.Not(this=exp.In(this=col("s", "run_id"), query=self._committed_ids()))
        orphans = [
            str(r)
            for (r,) in self.w.fetchall(
                select([col("s", "run_id")], starts, where=[mine, uncommitted])
            )
        ]
        if orphans:
            self._delete_runs((MEMBERS, ENTITIES, EVENTS, RUN_STARTS), orphans)

    def _delete_runs(self, specs: Sequence[TableSpec], run_ids: list[str]) -> None:
        """Delete rows of ``run_ids``; on append-only state they stay, never read again."""
        of_runs = exp.In(
            this=exp.column("run_id", quoted=True), expressions=[string(r) for r in run_ids]
        )
        for spec in specs:
            self.state.delete(spec, self.key, of_runs.copy())

    def prune(self, keep_snapshots: list[str]) -> None:
        """Keep the run log's last 50 runs, and snapshots only of runs a diff may still need."""
        committed = [r.run_id for r in self.committed()]
        stale = [r for r in committed if r not in keep_snapshots]
        if stale:
            self._delete_runs((MEMBERS, ENTITIES), stale)
        old = committed[:-KEEP_RUNS]
        if old:
            self._delete_runs(
                (RUNS, EVENTS, RUN_STARTS, DELIVERIES, DELIVERY_FAILURES, ALERTS), old
            )


def decode_event(payload: str) -> dict[str, Any]:
    """An event's stored JSON text as a dict: orjson (twice as fast as ``json``, which a
    million-event backfill notices), ``json`` where orjson refuses the text (NaN, lone
    surrogates) or may have lost exactness, so every payload reads back as it always did.

    orjson reads an integer beyond 64 bits as a float, and writes every float of 1e16 or
    more with an exponent (``e+``): an event whose compact re-encoding (a fraction of a
    microsecond) holds no ``e+`` has no such float, and one that does is read again by
    ``json`` (text that merely contains ``e+`` only takes the slower, exact path)."""
    event: dict[str, Any]
    try:
        event = orjson.loads(payload)
        if b"e+" not in orjson.dumps(event):
            return event
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        pass
    event = json.loads(payload)
    return event


def _aware(moment: Any) -> datetime:
    """A TIMESTAMPTZ as read back: some clients return it naive, in the session's UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a timestamp, got {moment!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
