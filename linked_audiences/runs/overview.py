"""The delivery overview of each committed run: what became of the changes it found.

Read from the state, never kept in a row of its own: ``la_runs`` is written once, at the
commit, before anything is delivered, so counts that move afterwards (delivered, pending,
failed) are worked out from the append-only watermarks (``la_deliveries``) and rejected
batches (``la_delivery_failures``) each time they are asked for. A killed process therefore
cannot leave them wrong: whatever it recorded is all there is to count.

For a run, ``created = delivered + pending_retry + filtered_over_32kb``; ``failed`` is
history: the events a sink rejected at least once, also counted in ``delivered`` once a
later attempt got them through, or in ``pending_retry`` until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlglot import exp

from linked_audiences.runs.ledger import Ledger
from linked_audiences.runs.state import DELIVERIES, DELIVERY_FAILURES, EVENTS, RUNS
from linked_audiences.sql import col, select, string


@dataclass(frozen=True)
class Delivery:
    #: events the run inserted (its ``events`` count)
    created: int
    #: ``filtered_over_32kb + filtered_unselected``
    filtered: int
    #: events not sent because their JSON is over 32 KB (``skipped_events``)
    filtered_over_32kb: int
    #: changes the diff counted that no event was created for: no activation of the run
    #: selected their trigger (say, Entity Values Changed by default), or the first run's
    #: backfill was not sent
    filtered_unselected: int
    #: created, not filtered, not yet delivered: the next run or ``deliver`` sends them
    pending_retry: int
    #: distinct events of the run a sink rejected at least once
    failed: int
    #: sink batches of the run that were rejected (every attempt counts)
    failed_attempts: int
    delivered: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def delivery_overview(ledger: Ledger, run_ids: Sequence[str] | None = None) -> dict[str, Delivery]:
    """Per committed run of the ledger's audience (those the log keeps, or those of
    ``run_ids``): its overview. A run's events are counted by a range scan of its rows
    (PostgreSQL's ``la_events_page`` index), so asking for one run costs one run's scan."""
    w = ledger.w

    def only(alias: str) -> list[exp.Expr]:
        if run_ids is None:
            return []
        return [exp.In(this=col(alias, "run_id"), expressions=[string(r) for r in run_ids])]

    runs, mine = ledger._of(RUNS, "r")
    names = ("run_id", "events", "skipped_events", "unselected_changes")
    rows = w.fetchall(select([col("r", c) for c in names], runs, where=[mine, *only("r")]))
    delivered = _per_run(w, _delivered_query(ledger, only("e")))
    failed = _per_run(w, _failed_query(ledger, only("e")))
    failures, of_audience = ledger._of(DELIVERY_FAILURES, "f")
    attempts = _per_run(
        w,
        select(
            [col("f", "run_id"), exp.Count(this=exp.Star())],
            failures,
            where=[of_audience, *only("f")],
            group=[col("f", "run_id")],
        ),
    )
    overview: dict[str, Delivery] = {}
    for run_id, events, skipped, unselected in rows:
        key = str(run_id)
        created, over = int(events or 0), int(skipped or 0)
        done = delivered.get(key, 0)
        overview[key] = Delivery(
            created=created,
            filtered=over + int(unselected or 0),
            filtered_over_32kb=over,
            filtered_unselected=int(unselected or 0),
            pending_retry=max(created - over - done, 0),
            failed=failed.get(key, 0),
            failed_attempts=attempts.get(key, 0),
            delivered=done,
        )
    return overview


def _per_run(w: Any, query: exp.Select) -> dict[str, int]:
    return {str(run_id): int(n or 0) for run_id, n in w.fetchall(query)}


def _delivered_query(ledger: Ledger, only: list[exp.Expr]) -> exp.Select:
    """Events (not skipped) at or below their run's watermark, per run."""
    deliveries, of_audience = ledger._of(DELIVERIES, "d")
    marks = select(
        [
            col("d", "run_id"),
            exp.alias_(exp.Max(this=col("d", "through_seq")), "mark", quoted=True),
        ],
        deliveries,
        where=[of_audience, ledger.valid_delivery("d")],
        group=[col("d", "run_id")],
    ).subquery("m")
    events, mine = ledger._of(EVENTS, "e")
    return select(
        [col("e", "run_id"), exp.Count(this=exp.Star())],
        events,
        [exp.Join(this=marks, on=exp.EQ(this=col("m", "run_id"), expression=col("e", "run_id")))],
        where=[
            mine,
            *only,
            exp.Not(this=col("e", "skipped")),
            exp.LTE(this=col("e", "seq"), expression=col("m", "mark")),
        ],
        group=[col("e", "run_id")],
    )


def _failed_query(ledger: Ledger, only: list[exp.Expr]) -> exp.Select:
    """Distinct events (not skipped) inside a rejected batch, per run."""
    failures, of_audience = ledger._of(DELIVERY_FAILURES, "f")
    events, mine = ledger._of(EVENTS, "e")
    inside = exp.and_(
        of_audience,
        exp.EQ(this=col("f", "run_id"), expression=col("e", "run_id")),
        exp.GT(this=col("e", "seq"), expression=col("f", "after_seq")),
        exp.LTE(this=col("e", "seq"), expression=col("f", "through_seq")),
    )
    return select(
        [col("e", "run_id"), exp.Count(this=exp.Distinct(expressions=[col("e", "seq")]))],
        events,
        [exp.Join(this=failures, on=inside)],
        where=[mine, *only, exp.Not(this=col("e", "skipped"))],
        group=[col("e", "run_id")],
    )
