"""``send_test``: the events a run would send for one profile as if it entered now, marked as
tests, sent to a sink; nothing is stored.

The events come from the run's own SQL (:func:`linked_audiences.runs.event_sql.events_insert`,
its SELECT without the INSERT), with the run's snapshots and baseline replaced by the one
profile: its identifiers, and its matched entities at ``as_of``. The payload builder is the
run's, so a test event and a real one cannot differ in shape: they differ only in
``messageId`` (the hash of a run id that starts with ``test-``, never a real run's) and in
``context.test: true``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from linked_audiences.catalog import raise_on_mismatch
from linked_audiences.compiler import CompiledAudience
from linked_audiences.conditions import Audience
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.runs.diff import NO_RUN, RunSql
from linked_audiences.runs.event_sql import events_insert
from linked_audiences.runs.events import (
    MAX_EVENT_BYTES,
    Activation,
    activation_problems,
    default_activations,
)
from linked_audiences.runs.ledger import EventSink, decode_event
from linked_audiences.runs.state import ENTITIES, MEMBERS, State, TableSpec
from linked_audiences.sql import col, select, string
from linked_audiences.validation import validate_audience
from linked_audiences.warehouse import Warehouse

__all__ = ["NotAMember", "SendTestResult", "send_test"]

#: Run ids of test events start with this: real run ids start with their as_of's digits.
TEST_RUN_PREFIX = "test-"


class NotAMember(DefinitionError):
    """The profile is not a member at ``as_of``: a test of it would show events no run sends
    it (``force=True`` / ``--force`` sends them anyway)."""


@dataclass(frozen=True)
class SendTestResult:
    profile: str
    #: whether the profile is a member at ``as_of`` (False only with ``force``)
    member: bool
    as_of: datetime
    #: the test events, in the order a run inserts them, as sent to the sink
    events: list[dict[str, Any]]
    #: events over 32 KB: not sent, as a run would not send them
    skipped_events: int


def send_test(
    audience: Audience,
    graph: DataGraph,
    warehouse: Warehouse,
    profile: str,
    activations: Sequence[Activation] | None = None,
    sink: EventSink | None = None,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
    *,
    force: bool = False,
) -> SendTestResult:
    """Build the events a run would send for ``profile`` entering now (Audience Entered,
    the Identify, Entity Added for each matched entity; an account audience: the Group call
    and its members' Identify calls), each activation's enrichment included; mark them as
    tests and send them to ``sink`` (if given). Only reads the warehouse."""
    validate_audience(audience, graph, audiences)
    chosen = list(activations) if activations is not None else default_activations(audience)
    problems = activation_problems(chosen, graph, audience.level)
    if problems:
        raise DefinitionError(problems)
    catalog = raise_on_mismatch(graph, warehouse)
    compiled = catalog.compile(
        audience, graph, warehouse.dialect.name, as_of=as_of, audiences=audiences
    )
    sql = _TestSql(
        State(warehouse),
        compiled,
        graph,
        f"{TEST_RUN_PREFIX}{uuid.uuid4().hex}",
        NO_RUN,
        profile,
    )
    member = bool(warehouse.scalar(sql.membership()))
    if not member and not force:
        what = "account" if audience.level == "account" else "profile"
        raise NotAMember(
            [
                Problem(
                    "profile",
                    f"{what} {profile!r} is not a member of audience {audience.key!r} at "
                    f"{compiled.as_of.isoformat().replace('+00:00', 'Z')}; force the test "
                    "to send its events anyway",
                )
            ]
        )
    rows: list[tuple[int, str]] = []
    offset = 0
    for activation in chosen:
        statement = events_insert(sql, activation, compiled.as_of, offset).expression
        found = [(int(r[2]), str(r[8])) for r in warehouse.fetchall(statement)]
        rows += found
        offset += len(found)
    events, skipped = [], 0
    for _, text in sorted(rows):
        if len(text) > MAX_EVENT_BYTES:
            skipped += 1
            continue
        event = decode_event(text)
        event.setdefault("context", {})["test"] = True
        events.append(event)
    if sink is not None and events:
        sink.send(events)
    return SendTestResult(profile, member, compiled.as_of, events, skipped)


@dataclass
class _TestSql(RunSql):
    """A run's SQL whose snapshot is one profile entering, against an empty baseline."""

    profile: str = ""

    def _is_profile(self, value: exp.Expr) -> exp.Expr:
        return exp.EQ(this=self._text(value), expression=string(self.profile))

    def membership(self) -> exp.Expr:
        """1 when the profile is a member at ``as_of``, else 0."""
        compiled: CompiledAudience = self.compiled
        column = "account_id" if compiled.level == "account" else "profile_id"
        found = select(
            [exp.Literal.number(1)],
            compiled.expression.subquery("a"),
            where=[self._is_profile(col("a", column))],
        )
        query = exp.select(
            exp.Case(
                ifs=[exp.If(this=exp.Exists(this=found), true=exp.Literal.number(1))],
                default=exp.Literal.number(0),
            )
        )
        return self.compiled.names.apply(query)

    def _members(self) -> exp.Select:
        """The profile with the ids its events carry (a run's members snapshot, for one)."""
        one = exp.select(exp.alias_(string(self.profile), "profile_id", quoted=True)).subquery("o")
        if self.compiled.level == "account":
            null = exp.cast(exp.null(), "TEXT")
            return select(
                [
                    col("o", "profile_id"),
                    exp.alias_(null, "user_id", quoted=True),
                    exp.alias_(null.copy(), "anonymous_id", quoted=True),
                ],
                one,
            )
        only = self._is_profile(col("i", self.graph.profile.key))
        ids = self._identifiers(only).subquery("ids")
        return select(
            [col("o", "profile_id"), col("ids", "user_id"), col("ids", "anonymous_id")],
            one,
            [
                exp.Join(
                    this=ids,
                    side="LEFT",
                    on=exp.EQ(this=self._text(col("ids", "k")), expression=col("o", "profile_id")),
                )
            ],
        )

    def _entities(self) -> exp.Select:
        """The profile's matched entities at ``as_of`` (a run's entities snapshot, for one)."""
        return select(
            [
                exp.alias_(self._text(col("e", "profile_id")), "profile_id", quoted=True),
                col("e", "relationship"),
                col("e", "entity_id"),
            ],
            self.compiled.entities_expression.subquery("e"),
            where=[self._is_profile(col("e", "profile_id"))],
        )

    def _snapshot(
        self, spec: TableSpec, alias: str, run_id: str
    ) -> tuple[exp.Expr, list[exp.Expr]]:
        body = self._members() if spec is MEMBERS else self._entities()
        assert spec in (MEMBERS, ENTITIES)
        if run_id != self.run_id:  # the baseline: empty
            body = body.where(exp.false(), copy=False)
        return body.subquery(alias), []

    def _member_changes(self, now: str, then: str, member_now: exp.Expr) -> exp.Select:
        """Entered: the profile; exited: nobody (the baseline is empty)."""
        source, _ = self._snapshot(MEMBERS, "c", now)
        return select(
            [
                col("c", "profile_id"),
                exp.alias_(exp.cast(exp.null(), "TEXT"), "entity_id", quoted=True),
                col("c", "user_id"),
                col("c", "anonymous_id"),
                exp.alias_(member_now, "member_now", quoted=True),
            ],
            source,
        )

    def _entity_changes(self, trigger: str, relationship: str) -> exp.Select:
        """Added: each matched entity of the relationship; removed or changed: none."""
        entities, _ = self._snapshot(
            ENTITIES, "c", self.run_id if trigger == "entity_added" else NO_RUN
        )
        members, _ = self._snapshot(MEMBERS, "mn", self.run_id)
        return select(
            [
                col("c", "profile_id"),
                col("c", "entity_id"),
                col("mn", "user_id"),
                col("mn", "anonymous_id"),
                exp.alias_(exp.true(), "member_now", quoted=True),
            ],
            entities,
            [
                exp.Join(
                    this=members,
                    on=exp.EQ(this=col("mn", "profile_id"), expression=col("c", "profile_id")),
                )
            ],
            where=[exp.EQ(this=col("c", "relationship"), expression=string(relationship))],
        )
