"""``la.run``: evaluate, snapshot, diff, prepare events, commit — then deliver.

Order of a run (docs/runs.md):

1. compile; ensure the state tables; take the run lock; find the baseline (last committed
   run) and refuse a run backdated before it unless asked for;
2. deliver what earlier committed runs left pending (with a sink);
3. drop orphans of runs that never committed;
4. snapshot members and matched entities under a fresh ``run_id``;
5. count the changes and insert the events with their payloads;
6. **commit**: one INSERT into ``la_runs``; ``UNIQUE (audience_key, previous_run_id)`` makes
   it a compare-and-swap on the baseline, so two concurrent runs cannot both commit;
7. deliver this run's events (sink) or hand them to the caller; release the run lock.

A process killed anywhere before 6 leaves orphans only; killed after 6, its events are
pending and the next run (or ``deliver``) sends them first, with the same ``messageId``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlglot import exp

from linked_audiences.catalog import raise_on_mismatch
from linked_audiences.compiler import CompiledAudience
from linked_audiences.conditions import Audience
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.runs.alerts import (
    Alert,
    check_webhook,
    events_alert,
    post_alerts,
    record_alerts,
    size_alert,
)
from linked_audiences.runs.commit import RunConflict, commit, record_failure, timestamp
from linked_audiences.runs.diff import NO_RUN, RunSql
from linked_audiences.runs.events import Activation, activation_problems, default_activations
from linked_audiences.runs.fingerprint import definition_fingerprint
from linked_audiences.runs.ledger import Committed, EventSink, Ledger, decode_event
from linked_audiences.runs.lock import Held, RunInProgress, run_lock
from linked_audiences.runs.overview import Delivery, delivery_overview
from linked_audiences.runs.session import RunSession
from linked_audiences.runs.state import DEFAULT_SCHEMA, EVENTS, RUNS, State
from linked_audiences.sql import col, select, string
from linked_audiences.validation import validate_audience
from linked_audiences.warehouse import Warehouse

log = logging.getLogger(__name__)

__all__ = [
    "DeliveryFailed",
    "EventSink",
    "RunConflict",
    "RunInProgress",
    "RunResult",
    "RunStats",
    "deliver",
    "run",
]


class DeliveryFailed(RuntimeError):
    """The run committed, but its sink failed: the events stay pending for the next run.

    ``alerts`` are those the committed run raised (a failed delivery is what the events
    alert is for); ``webhook_error`` why posting them failed, if it did."""

    alerts: tuple[Alert, ...] = ()
    webhook_error: str | None = None


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
    #: changes counted that no activation selected (or an unsent backfill): no event made
    unselected_changes: int = 0
    events_alert: bool = False
    #: the alerts this run raised, size first (see linked_audiences/runs/alerts.py)
    alerts: tuple[Alert, ...] = ()
    #: why posting the alerts to the webhook failed (a warning: the run stands)
    alert_webhook_error: str | None = None
    #: this run's delivery overview when the run returned (``run_log`` has the latest)
    delivery: Delivery | None = None


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
            for _, batch in self._ledger.event_batches(run_id, after):
                yield from (decode_event(payload) for payload in batch)


def deliver(
    warehouse: Warehouse, audience_key: str, sink: EventSink, *, state_schema: str = DEFAULT_SCHEMA
) -> int:
    """Send the pending events of committed runs (``linked-audiences deliver``)."""
    state = State(warehouse, state_schema)
    state.ensure()
    with (
        run_lock(state, audience_key, f"deliver-{uuid.uuid4().hex[:12]}"),
        RunSession(warehouse) as session,
    ):
        session.for_delivery()
        return Ledger(state, audience_key).deliver_pending(sink)


@dataclass
class _Request:
    """What one run was asked to do, as the locked part of it needs it."""

    compiled: CompiledAudience
    graph: DataGraph
    activations: Sequence[Activation] | None
    send_backfill: bool
    sink: EventSink | None
    size_alert_percent: float | None
    events_alert_percent: float | None
    alert_webhook: str | None
    allow_backdated: bool
    fingerprint: str
    started_at: datetime
    seconds: dict[str, float]
    run_id: str


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
    allow_backdated: bool = False,
    events_alert_percent: float | None = None,
    alert_webhook: str | None = None,
) -> RunResult:
    """Run ``audience`` once at ``as_of``; see the module docstring for the steps.

    A run whose ``as_of`` is earlier than the last committed run's is a DefinitionError
    unless ``allow_backdated``: its events would report changes out of order. The same
    ``as_of`` again is a normal repeat run.

    ``size_alert_percent`` / ``events_alert_percent`` raise alerts (docs/runs.md#alerts),
    posted to ``alert_webhook`` when given."""
    check_webhook(alert_webhook)
    seconds: dict[str, float] = {}
    started_at = datetime.now(timezone.utc)
    clock = time.perf_counter()
    validate_audience(audience, graph, audiences)
    problems = activation_problems(
        list(activations) if activations is not None else default_activations(audience),
        graph,
        audience.level,
    )
    if problems:
        raise DefinitionError(problems)
    # A graph that no longer matches the warehouse (a dropped column, a number column turned
    # BOOLEAN) would make members exit silently: refuse before anything is written.
    catalog = raise_on_mismatch(graph, warehouse)
    compiled = catalog.compile(
        audience, graph, warehouse.dialect.name, as_of=as_of, audiences=audiences
    )
    seconds["compile"] = time.perf_counter() - clock
    request = _Request(
        compiled,
        graph,
        activations,
        send_backfill,
        sink,
        size_alert_percent,
        events_alert_percent,
        alert_webhook,
        allow_backdated,
        definition_fingerprint(audience, graph, audiences),
        started_at,
        seconds,
        f"{compiled.as_of:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:12]}",
    )
    state = State(warehouse, state_schema)
    state.ensure()
    with (
        warehouse.tagged({"audience": audience.key, "run": request.run_id}),
        run_lock(state, audience.key, request.run_id) as held,
        RunSession(warehouse) as session,
    ):
        return _locked_run(Ledger(state, audience.key), request, held, session)


def _refuse_backdated(request: _Request, baseline: Committed | None) -> None:
    """Before anything is written or sent (backdated runs only when asked for)."""
    as_of = request.compiled.as_of
    if baseline is None or request.allow_backdated or as_of >= baseline.as_of:
        return

    def text(moment: datetime) -> str:
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")

    raise DefinitionError(
        [
            Problem(
                "$",
                f"as_of {text(as_of)} is earlier than {text(baseline.as_of)}, the as_of of the "
                f"last committed run {baseline.run_id}; its events would report changes out "
                "of order. To run it anyway pass allow_backdated=True (on the command line "
                "--allow-backdated)",
            )
        ]
    )


def _locked_run(ledger: Ledger, request: _Request, held: Held, session: RunSession) -> RunResult:
    compiled, sink, seconds = request.compiled, request.sink, request.seconds
    history = ledger.committed()
    baseline = history[-1] if history else None
    _refuse_backdated(request, baseline)
    try:
        delivered = 0
        if sink is not None:
            session.for_delivery()
            delivered = ledger.deliver_pending(sink)
            session.for_queries()
    except Exception as exc:
        raise DeliveryFailed(
            f"delivering earlier runs' pending events failed: {exc}; nothing was run"
        ) from exc
    ledger.drop_orphans()
    previous = baseline.run_id if baseline else None
    run_id = request.run_id
    ledger.record_start(run_id, request.started_at)
    sql = RunSql(ledger.state, compiled, request.graph, run_id, previous or NO_RUN)
    audience = compiled.audience
    # The diff compares snapshots, not definitions: relationships the baseline matched
    # entities of are compared too, so an edit that drops one removes its entities.
    before = ledger.snapshot_relationships(previous) if previous else []
    slugs = list(dict.fromkeys([*(lv.slug for lv in compiled.levels), *before]))
    if request.activations is not None:
        chosen = list(request.activations)
    else:
        chosen = default_activations(audience)
        named = {a.relationship for a in chosen}
        if audience.level != "account":
            chosen += [
                Activation(trigger="entity_removed", relationship=s)
                for s in before
                if s not in named
            ]
    try:
        held.renew()
        stats = _evaluate(
            ledger,
            session,
            sql,
            chosen,
            slugs,
            seconds,
            emit=previous is not None or request.send_backfill,
            account=audience.level == "account",
        )
        held.renew()
        size = None
        if request.size_alert_percent is not None and baseline is not None:
            size = size_alert(
                audience.key,
                run_id,
                stats["members"],
                baseline.members,
                request.size_alert_percent,
                "accounts" if audience.level == "account" else "members",
            )
        segments: list[tuple[str, int]] = []
        if sink is None:
            # The caller receives earlier runs' pending events and this run's: watermarks
            # that count only if this run commits.
            for earlier in history:
                mark, last = ledger.watermark(earlier.run_id), ledger.last_seq(earlier.run_id)
                if mark < last:
                    segments.append((earlier.run_id, mark))
                    ledger.record_delivery(earlier.run_id, last, run_id)
            ledger.record_delivery(run_id, stats["events"], run_id)
        segments.append((run_id, 0))
        held.renew()
        _commit(ledger, run_id, previous, request, stats, size is not None)
    except Exception as exc:
        record_failure(ledger, run_id, compiled.as_of, request.started_at, exc, request.fingerprint)
        raise
    try:
        ledger.prune(keep_snapshots=[run_id])
    except Exception as exc:  # committed: its events must still reach the caller or sink
        log.warning(
            "run %s committed; cleaning up older runs failed (%s), the next run tries again",
            run_id,
            exc,
        )
    failed: Exception | None = None
    if sink is not None:
        try:
            session.for_delivery()
            delivered += ledger.deliver_pending(sink)
        except Exception as exc:
            failed = exc
    delivery, alerts, webhook_error = _after_delivery(ledger, request, run_id, history, size)
    if failed is not None:
        failure = DeliveryFailed(
            f"run {run_id} committed, but delivering its events failed: "
            f"{failed}; they stay pending for the next run"
        )
        failure.alerts, failure.webhook_error = alerts, webhook_error
        raise failure from failed
    result_stats = RunStats(
        **stats,
        delivered=delivered,
        seconds=seconds,
        size_alert=size is not None,
        events_alert=any(a.kind == "events" for a in alerts),
        alerts=alerts,
        alert_webhook_error=webhook_error,
        delivery=delivery,
    )
    return RunResult(run_id, audience.key, compiled.as_of, previous, result_stats, ledger, segments)


def _after_delivery(
    ledger: Ledger,
    request: _Request,
    run_id: str,
    history: list[Committed],
    size: Alert | None,
) -> tuple[Delivery | None, tuple[Alert, ...], str | None]:
    """The committed run's delivery overview and alerts, recorded and posted. Nothing here
    may fail the run: it has committed, and its events were delivered or stay pending."""
    alerts = [size] if size is not None else []
    delivery: Delivery | None = None
    try:
        wanted = None if request.events_alert_percent is not None else [run_id]
        overview = delivery_overview(ledger, wanted)
        delivery = overview.get(run_id)
        if request.events_alert_percent is not None and delivery is not None:
            firsts = _first_runs(ledger)
            earlier = [
                overview[c.run_id].delivered
                for c in history
                if c.run_id in overview and c.run_id not in firsts
            ]
            events = events_alert(
                ledger.key, run_id, delivery.delivered, earlier, request.events_alert_percent
            )
            if events is not None:
                alerts.append(events)
    except Exception as exc:
        log.warning("run %s committed; its delivery overview failed: %s", run_id, exc)
    if alerts:
        record_alerts(ledger, alerts)
    for alert in alerts:
        log.warning("%s", alert.message)
    webhook_error = None
    if alerts and request.alert_webhook:
        webhook_error = post_alerts(request.alert_webhook, alerts)
    return delivery, tuple(alerts), webhook_error


def _first_runs(ledger: Ledger) -> set[str]:
    """Runs that had no baseline: their events are a backfill."""
    runs, mine = ledger._of(RUNS, "r")
    first = exp.EQ(this=col("r", "previous_run_id"), expression=string(NO_RUN))
    return {
        str(r)
        for (r,) in ledger.w.fetchall(select([col("r", "run_id")], runs, where=[mine, first]))
    }


def _evaluate(
    ledger: Ledger,
    session: RunSession,
    sql: RunSql,
    activations: list[Activation],
    slugs: list[str],
    seconds: dict[str, float],
    *,
    emit: bool,
    account: bool = False,
) -> dict[str, int]:
    w = ledger.w
    clock = time.perf_counter()
    session.heavy(sql.members_snapshot())
    session.heavy(sql.entities_snapshot({}))
    seconds["warehouse_query"] = time.perf_counter() - clock

    clock = time.perf_counter()
    counts, changed = _diff_counts(ledger, sql, slugs)
    seconds["diff"] = time.perf_counter() - clock

    clock = time.perf_counter()
    offset = skipped = 0
    if emit:
        for activation in activations:
            # An activation whose changes were counted as none inserts nothing: its
            # statement (the diff again, with payloads) is skipped — every one of them in
            # a run where nothing changed.
            key = (activation.trigger, activation.relationship)
            if key in changed and changed[key] == 0:
                continue
            session.heavy(sql.events(activation, sql.compiled.as_of, offset))
            offset = ledger.last_seq(sql.run_id)
    if offset:
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
    unselected = _unselected(changed, activations, slugs, emit=emit, account=account)
    return {
        **counts,
        "events": offset,
        "skipped_events": int(skipped or 0),
        "unselected_changes": unselected,
    }


def _unselected(
    changed: dict[tuple[str, str | None], int],
    activations: list[Activation],
    slugs: list[str],
    *,
    emit: bool,
    account: bool,
) -> int:
    """Changes the diff counted for which no event was created: their trigger was not
    activated (Entity Values Changed by default), or nothing is emitted (a backfill not
    sent). Each trigger's changes count apart: a profile that entered with only Audience
    Entered activated is one unselected change (the Identify's), not zero.

    An account audience's triggers are the Group call per account that entered or exited
    and its members' Identify calls; how many member Identify calls an unactivated trigger
    would have made is not counted (the diff counts accounts), so only the Group call's
    changes are."""
    chosen = {(a.trigger, a.relationship) for a in activations}
    if account:
        moved = changed[("audience_membership_changed", None)]
        if not emit:
            return moved
        return 0 if ("account_membership_changed", None) in chosen else moved
    possible = [
        ("audience_entered", None),
        ("audience_exited", None),
        ("audience_membership_changed", None),
        *(
            (trigger, slug)
            for slug in slugs
            for trigger in ("entity_added", "entity_removed", "entity_values_changed")
        ),
    ]
    return sum(changed.get(k, 0) for k in possible if not emit or k not in chosen)


def _diff_counts(
    ledger: Ledger, sql: RunSql, slugs: list[str]
) -> tuple[dict[str, int], dict[tuple[str, str | None], int]]:
    """Counts for the run log, whatever the activations, over the relationships of this
    run's definition and of the baseline's snapshot; and the number of changes of each
    (trigger, relationship) counted, so activations with none can be skipped."""
    members, entered, exited = (int(n or 0) for n in ledger.w.fetchall(sql.member_counts())[0])
    counts = {"members": members, "entered": entered, "exited": exited}
    changed: dict[tuple[str, str | None], int] = {
        ("audience_entered", None): entered,
        ("audience_exited", None): exited,
        ("audience_membership_changed", None): entered + exited,
    }
    triggers = ("entity_added", "entity_removed", "entity_values_changed")
    for slug in slugs:
        for trigger in triggers:
            changed[(trigger, slug)] = 0
    if slugs:
        for slug, *numbers in ledger.w.fetchall(sql.entity_counts(slugs)):
            for trigger, number in zip(triggers, numbers, strict=True):
                changed[(trigger, str(slug))] = int(number or 0)
    for name, trigger in zip(
        ("entities_added", "entities_removed", "entities_changed"), triggers, strict=True
    ):
        counts[name] = sum(changed[(trigger, slug)] for slug in slugs)
    return counts, changed


def _commit(
    ledger: Ledger,
    run_id: str,
    previous: str | None,
    request: _Request,
    stats: dict[str, int],
    size_alert: bool,
) -> None:
    counted = (
        "members",
        "entered",
        "exited",
        "entities_added",
        "entities_removed",
        "entities_changed",
        "events",
        "skipped_events",
    )
    steps = ("compile", "warehouse_query", "diff", "event_preparation")
    values = [
        string(run_id),
        string(ledger.key),
        string(previous or NO_RUN),
        timestamp(request.compiled.as_of),
        timestamp(request.started_at),
        timestamp(datetime.now(timezone.utc)),
        *(exp.Literal.number(stats[k]) for k in counted),
        *(exp.Literal.number(round(request.seconds.get(k, 0.0), 6)) for k in steps),
        exp.true() if size_alert else exp.false(),
        string(request.fingerprint),
        exp.Literal.number(stats["unselected_changes"]),
    ]
    commit(ledger, run_id, previous or NO_RUN, values)
