"""``la.run``: evaluate, snapshot, diff, prepare events, commit — then deliver.

Order of a run (SPEC §4, DESIGN "Runs that cannot lose or duplicate"):

1. compile; ensure the state tables; find the baseline (last committed run);
2. deliver what earlier committed runs left pending (with a sink);
3. drop orphans of runs that never committed;
4. snapshot members and matched entities under a fresh ``run_id``;
5. count the changes and insert the events with their payloads;
6. **commit**: one INSERT into ``la_runs``; ``UNIQUE (audience_key, previous_run_id)`` makes
   it a compare-and-swap on the baseline, so two concurrent runs cannot both commit;
7. deliver this run's events (sink) or hand them to the caller.

A process killed anywhere before 6 leaves orphans only; killed after 6, its events are
pending and the next run (or ``deliver``) sends them first, with the same ``messageId``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlglot import exp

from linked_audiences.compiler import CompiledAudience, compile
from linked_audiences.compiler.context import col, string
from linked_audiences.compiler.membership import select
from linked_audiences.conditions import Audience
from linked_audiences.errors import DefinitionError, UnsupportedFeature
from linked_audiences.graph import DataGraph
from linked_audiences.runs.diff import NO_RUN, RunSql
from linked_audiences.runs.events import (
    MAX_EVENT_BYTES,
    Activation,
    activation_problems,
    default_activations,
)
from linked_audiences.runs.state import (
    DEFAULT_SCHEMA,
    DELIVERIES,
    ENTITIES,
    EVENTS,
    FAILURES,
    MEMBERS,
    RUN_STARTS,
    RUNS,
    State,
    TableSpec,
)
from linked_audiences.warehouse import Warehouse

KEEP_RUNS = 50
BATCH = 5_000


class EventSink(Protocol):
    def send(self, events: Sequence[dict[str, Any]]) -> None: ...


class RunConflict(RuntimeError):
    """Another run of the audience committed from the same baseline first."""


class RunInProgress(RuntimeError):
    """Another run of the same audience holds the run lock."""


class DeliveryFailed(RuntimeError):
    """The run committed, but its sink failed: the events stay pending for the next run."""


@dataclass(frozen=True)
class RunStats:
    members: int
    entered: int
    exited: int
    entities_added: int
    entities_removed: int
    entities_changed: int
    events: int
    skipped_events: int
    delivered: int
    seconds: dict[str, float] = field(default_factory=dict)
    size_alert: bool = False


@dataclass
class RunResult:
    """A committed run. ``events`` reads this run's events lazily, in batches."""

    run_id: str
    audience_key: str
    as_of: datetime
    previous_run_id: str | None
    stats: RunStats
    _ledger: Ledger
    #: (run_id, after seq) to read: earlier runs' pending events first, then this run's.
    _segments: list[tuple[str, int]] = field(default_factory=list)

    @property
    def events(self) -> Iterator[dict[str, Any]]:
        for run_id, after in self._segments:
            for batch in self._ledger.event_batches(run_id, after):
                yield from (json.loads(payload) for _, payload in batch)


class Ledger:
    """Reads and writes the run state of one audience."""

    def __init__(self, state: State, key: str) -> None:
        self.state, self.key = state, key
        self.w = state.warehouse

    def _of(self, spec: Any, alias: str) -> tuple[exp.Table, exp.Expr]:
        return self.state.table(spec, alias), exp.EQ(
            this=col(alias, "audience_key"), expression=string(self.key)
        )

    def committed(self) -> list[tuple[str, int]]:
        """(run_id, members) of committed runs, oldest first."""
        runs, mine = self._of(RUNS, "r")
        query = select([col("r", "run_id"), col("r", "members")], runs, where=[mine])
        query = query.order_by(exp.Ordered(this=col("r", "committed_at")), copy=False)
        return [(str(r), int(m)) for r, m in self.w.fetchall(query)]

    def _committed_ids(self) -> exp.Subquery:
        runs, mine = self._of(RUNS, "cr")
        return select([col("cr", "run_id")], runs, where=[mine]).subquery()

    def watermark(self, run_id: str) -> int:
        """Highest seq of ``run_id`` delivered by a sink or by a committed run's caller."""
        table, mine = self._of(DELIVERIES, "d")
        valid = exp.or_(
            exp.Is(this=col("d", "via_run"), expression=exp.null()),
            exp.In(this=col("d", "via_run"), query=self._committed_ids()),
        )
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

    def last_seq(self, run_id: str) -> int:
        table, mine = self._of(EVENTS, "e")
        query = select(
            [exp.Coalesce(this=exp.Max(this=col("e", "seq")), expressions=[exp.Literal.number(0)])],
            table,
            where=[mine, exp.EQ(this=col("e", "run_id"), expression=string(run_id))],
        )
        return int(self.w.scalar(query))

    def event_batches(
        self, run_id: str, after: int = 0, *, skipped: bool = False
    ) -> Iterator[list[tuple[int, str]]]:
        """(seq, payload) of a run's events after ``after``, in seq order, in batches."""
        table, mine = self._of(EVENTS, "e")
        while True:
            where = [
                mine,
                exp.EQ(this=col("e", "run_id"), expression=string(run_id)),
                exp.GT(this=col("e", "seq"), expression=exp.Literal.number(after)),
            ]
            if not skipped:
                where.append(exp.Not(this=col("e", "skipped")))
            query = select([col("e", "seq"), col("e", "payload")], table, where=where)
            query = query.order_by(exp.Ordered(this=col("e", "seq")), copy=False).limit(
                BATCH, copy=False
            )
            rows = [(int(s), str(p)) for s, p in self.w.fetchall(query)]
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def record_delivery(self, run_id: str, through: int, via_run: str | None) -> None:
        row = exp.Tuple(
            expressions=[
                string(self.key),
                string(run_id),
                exp.Literal.number(through),
                string(via_run) if via_run else exp.cast(exp.null(), "TEXT"),
                exp.cast(string(datetime.now(timezone.utc).isoformat()), "TIMESTAMPTZ"),
            ]
        )
        self.w.execute(
            exp.Insert(this=self.state.table(DELIVERIES), expression=exp.Values(expressions=[row]))
        )

    def deliver_pending(self, sink: EventSink) -> int:
        """Send every undelivered event of committed runs, oldest run first."""
        sent = 0
        for run_id, _ in self.committed():
            last = self.last_seq(run_id)
            mark = self.watermark(run_id)
            if mark >= last:
                continue
            for batch in self.event_batches(run_id, mark, skipped=True):
                events = [json.loads(p) for s, p in batch if len(p) <= MAX_EVENT_BYTES]
                if events:
                    sink.send(events)
                self.record_delivery(run_id, batch[-1][0], None)
                sent += len(events)
        return sent

    def record_start(self, run_id: str, started_at: datetime) -> None:
        """Before a run writes anything: lets :meth:`drop_orphans` find its rows by id."""
        row = exp.Tuple(
            expressions=[
                string(self.key),
                string(run_id),
                exp.cast(string(started_at.isoformat()), "TIMESTAMPTZ"),
            ]
        )
        self.w.execute(
            exp.Insert(this=self.state.table(RUN_STARTS), expression=exp.Values(expressions=[row]))
        )

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
        for spec in specs:
            self.w.execute(
                exp.Delete(
                    this=self.state.table(spec),
                    where=exp.Where(
                        this=exp.and_(
                            exp.EQ(
                                this=exp.column("audience_key", quoted=True),
                                expression=string(self.key),
                            ),
                            exp.In(
                                this=exp.column("run_id", quoted=True),
                                expressions=[string(r) for r in run_ids],
                            ),
                        )
                    ),
                )
            )

    def prune(self, keep_snapshots: list[str]) -> None:
        """Keep the run log's last 50 runs, and snapshots only of runs a diff may still need."""
        committed = [r for r, _ in self.committed()]
        stale = [r for r in committed if r not in keep_snapshots]
        if stale:
            self._delete_runs((MEMBERS, ENTITIES), stale)
        old = committed[:-KEEP_RUNS]
        if old:
            self._delete_runs((RUNS, EVENTS, RUN_STARTS, DELIVERIES), old)


def deliver(
    warehouse: Warehouse, audience_key: str, sink: EventSink, *, state_schema: str = DEFAULT_SCHEMA
) -> int:
    """Send the pending events of committed runs (``linked-audiences deliver``)."""
    state = State(warehouse, state_schema)
    state.ensure()
    with _run_lock(warehouse, audience_key):
        return Ledger(state, audience_key).deliver_pending(sink)


def run(
    audience: Audience,
    graph: DataGraph,
    warehouse: Warehouse,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
    send_backfill: bool = True,
    activations: Sequence[Activation] | None = None,
    sink: EventSink | None = None,
    *,
    state_schema: str = DEFAULT_SCHEMA,
    size_alert_percent: float | None = None,
) -> RunResult:
    """Run ``audience`` once at ``as_of`` (SPEC §4); see the module docstring for the steps."""
    seconds: dict[str, float] = {}
    started_at = datetime.now(timezone.utc)
    clock = time.perf_counter()
    compiled = compile(
        audience, graph, dialect=warehouse.dialect.name, as_of=as_of, audiences=audiences
    )
    seconds["compile"] = time.perf_counter() - clock
    problems = activation_problems(
        list(activations) if activations is not None else default_activations(audience), graph
    )
    if problems:
        raise DefinitionError(problems)
    if not warehouse.dialect.SUPPORTS_RUNS:
        raise UnsupportedFeature(
            warehouse.dialect.name, "runs", "runs work on DuckDB and PostgreSQL today"
        )
    state = State(warehouse, state_schema)
    state.ensure()
    ledger = Ledger(state, audience.key)
    with _run_lock(warehouse, audience.key):
        return _locked_run(
            ledger,
            compiled,
            graph,
            audience,
            send_backfill,
            activations,
            sink,
            size_alert_percent,
            seconds,
            started_at,
        )


_PROCESS_LOCKS: dict[tuple[int, str], threading.Lock] = {}


@contextmanager
def _run_lock(warehouse: Warehouse, key: str) -> Iterator[None]:
    """One run of an audience at a time: in this process, and across sessions where the
    warehouse offers a lock (PostgreSQL advisory locks)."""
    local = _PROCESS_LOCKS.setdefault((id(warehouse.connection), key), threading.Lock())
    if not local.acquire(blocking=False):
        raise RunInProgress(f"a run of {key!r} is already in progress in this process")
    try:
        query = warehouse.dialect.run_lock(key)
        if query is not None and not warehouse.scalar(query):
            raise RunInProgress(f"another session is running {key!r}; try again when it ends")
        yield
    finally:
        local.release()


def _locked_run(
    ledger: Ledger,
    compiled: CompiledAudience,
    graph: DataGraph,
    audience: Audience,
    send_backfill: bool,
    activations: Sequence[Activation] | None,
    sink: EventSink | None,
    size_alert_percent: float | None,
    seconds: dict[str, float],
    started_at: datetime,
) -> RunResult:
    state = ledger.state
    try:
        delivered = ledger.deliver_pending(sink) if sink is not None else 0
    except Exception as exc:
        raise DeliveryFailed(
            f"delivering earlier runs' pending events failed: {exc}; nothing was run"
        ) from exc
    ledger.drop_orphans()
    history = ledger.committed()
    previous, previous_members = history[-1] if history else (None, 0)
    run_id = f"{compiled.as_of:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:12]}"
    ledger.record_start(run_id, started_at)
    sql = RunSql(state, compiled, graph, run_id, previous or NO_RUN)
    audience = compiled.audience
    chosen = list(activations) if activations is not None else default_activations(audience)
    try:
        stats = _evaluate(
            ledger, sql, compiled, chosen, seconds, emit=previous is not None or send_backfill
        )
        size_alert = bool(
            size_alert_percent is not None
            and previous is not None
            and abs(stats["members"] - previous_members) * 100
            > size_alert_percent * max(previous_members, 1)
        )
        segments: list[tuple[str, int]] = []
        if sink is None:
            # The caller receives earlier runs' pending events and this run's: watermarks
            # that count only if this run commits.
            for earlier, _ in history:
                mark, last = ledger.watermark(earlier), ledger.last_seq(earlier)
                if mark < last:
                    segments.append((earlier, mark))
                    ledger.record_delivery(earlier, last, run_id)
            ledger.record_delivery(run_id, stats["events"], run_id)
        segments.append((run_id, 0))
        _commit(ledger, run_id, previous, compiled, started_at, stats, seconds, size_alert)
    except Exception as exc:
        _record_failure(ledger, run_id, compiled, started_at, exc)
        raise
    ledger.prune(keep_snapshots=[run_id])
    if sink is not None:
        try:
            delivered += ledger.deliver_pending(sink)
        except Exception as exc:
            raise DeliveryFailed(
                f"run {run_id} committed, but delivering its events failed: "
                f"{exc}; they stay pending for the next run"
            ) from exc
    result_stats = RunStats(**stats, delivered=delivered, seconds=seconds, size_alert=size_alert)
    return RunResult(run_id, audience.key, compiled.as_of, previous, result_stats, ledger, segments)


def _evaluate(
    ledger: Ledger,
    sql: RunSql,
    compiled: CompiledAudience,
    activations: list[Activation],
    seconds: dict[str, float],
    *,
    emit: bool,
) -> dict[str, int]:
    w = ledger.w
    clock = time.perf_counter()
    w.execute(sql.members_snapshot())
    w.execute(sql.entities_snapshot({}))
    seconds["warehouse_query"] = time.perf_counter() - clock

    clock = time.perf_counter()
    counts = _diff_counts(ledger, sql)
    seconds["diff"] = time.perf_counter() - clock

    clock = time.perf_counter()
    offset = 0
    if emit:
        for activation in activations:
            w.execute(sql.events(activation, compiled.as_of, offset))
            offset = ledger.last_seq(sql.run_id)
    table, mine = ledger._of(EVENTS, "e")
    skipped = w.scalar(
        select(
            [exp.Count(this=exp.Star())],
            table,
            where=[
                mine,
                exp.EQ(this=col("e", "run_id"), expression=string(sql.run_id)),
                col("e", "skipped"),
            ],
        )
    )
    seconds["event_preparation"] = time.perf_counter() - clock
    return {**counts, "events": offset, "skipped_events": int(skipped or 0)}


def _diff_counts(ledger: Ledger, sql: RunSql) -> dict[str, int]:
    """Counts for the run log, whatever the activations (SPEC §4 run record)."""
    table, mine = ledger._of(MEMBERS, "m")
    members = ledger.w.scalar(
        select(
            [exp.Count(this=exp.Star())],
            table,
            where=[mine, exp.EQ(this=col("m", "run_id"), expression=string(sql.run_id))],
        )
    )
    counts = {"members": int(members)}
    for name, trigger in (("entered", "audience_entered"), ("exited", "audience_exited")):
        query = sql.changes(Activation(trigger=trigger))
        counts[name] = int(
            ledger.w.scalar(select([exp.Count(this=exp.Star())], query.subquery("x")))
        )
    for name, trigger in (
        ("entities_added", "entity_added"),
        ("entities_removed", "entity_removed"),
        ("entities_changed", "entity_values_changed"),
    ):
        total = 0
        for level in {lv.slug for lv in sql.compiled.levels}:
            query = sql.changes(Activation(trigger=trigger, relationship=level))
            total += int(ledger.w.scalar(select([exp.Count(this=exp.Star())], query.subquery("x"))))
        counts[name] = total
    return counts


def _commit(
    ledger: Ledger,
    run_id: str,
    previous: str | None,
    compiled: CompiledAudience,
    started_at: datetime,
    stats: dict[str, int],
    seconds: dict[str, float],
    size_alert: bool,
) -> None:
    now = datetime.now(timezone.utc)

    def ts(moment: datetime) -> exp.Expr:
        return exp.cast(string(moment.isoformat()), "TIMESTAMPTZ")

    values = [
        string(run_id),
        string(ledger.key),
        string(previous or NO_RUN),
        ts(compiled.as_of),
        ts(started_at),
        ts(now),
        *(
            exp.Literal.number(stats[k])
            for k in (
                "members",
                "entered",
                "exited",
                "entities_added",
                "entities_removed",
                "entities_changed",
                "events",
                "skipped_events",
            )
        ),
        *(
            exp.Literal.number(round(seconds.get(k, 0.0), 6))
            for k in ("compile", "warehouse_query", "diff", "event_preparation")
        ),
        exp.true() if size_alert else exp.false(),
    ]
    insert = exp.Insert(
        this=ledger.state.table(RUNS),
        expression=exp.Values(expressions=[exp.Tuple(expressions=values)]),
    )
    try:
        ledger.w.execute(insert)
    except Exception as exc:
        if "constraint" in str(exc).lower() or "unique" in str(exc).lower():
            raise RunConflict(
                f"another run of {ledger.key!r} committed from the same baseline first; run again"
            ) from exc
        raise


def _record_failure(
    ledger: Ledger,
    run_id: str,
    compiled: CompiledAudience,
    started_at: datetime,
    exc: BaseException,
) -> None:
    """Best effort: a failed run is logged when the warehouse still answers."""
    try:
        now = datetime.now(timezone.utc)
        row = exp.Tuple(
            expressions=[
                string(run_id),
                string(ledger.key),
                exp.cast(string(compiled.as_of.isoformat()), "TIMESTAMPTZ"),
                exp.cast(string(started_at.isoformat()), "TIMESTAMPTZ"),
                exp.cast(string(now.isoformat()), "TIMESTAMPTZ"),
                string(" ".join(f"{type(exc).__name__}: {exc}".split())[:2000]),
            ]
        )
        ledger.w.execute(
            exp.Insert(this=ledger.state.table(FAILURES), expression=exp.Values(expressions=[row]))
        )
    except Exception:
        pass
