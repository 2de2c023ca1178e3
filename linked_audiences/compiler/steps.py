"""Funnel steps: an ``event`` inside an event's ``where``, tested per parent event row.

A step holds for a parent row when the same profile has child events strictly after it (and
no later than ``within_days_after`` days after it, and never after ``as_of``), counted or
aggregated like any event condition. Event rows have no key to group a CTE by, so a step is a
correlated subquery on the parent row: ``EXISTS`` for "at least one" and "none" (every
engine plans these as semi-/anti-joins on the profile), a scalar ``COUNT``/aggregate for the
other counts. A step's subquery names only its immediate parent row (the profile, the
timestamp, ``{"parent": …}`` properties), so a chain of steps never correlates across more
than one query level — a form every warehouse accepts (docs/compiler.md, "Funnels").
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from linked_audiences.compiler.context import col, string, table
from linked_audiences.compiler.scope import Scope
from linked_audiences.conditions import EventCondition
from linked_audiences.sql import not_null, select

if TYPE_CHECKING:
    from linked_audiences.compiler.membership import Membership

#: ``within_days_after`` beyond this many days bounds nothing (every stored timestamp lies in
#: the years 1–9999), and an interval of that many hours would overflow some engines.
MAX_DAYS_AFTER = 3_660_000


def step(membership: Membership, node: EventCondition, parent: Scope) -> exp.Expr:
    """The step's holds-expression for the parent event row of ``parent``."""
    ctx = membership.ctx
    source = ctx.graph.event(node.event)
    assert source is not None and parent.event is not None and parent.profile is not None
    alias, graph_alias = parent.alias("ev"), parent.alias("g")
    profile, joins = ctx.event_profile(source, alias, graph_alias)
    scope = Scope(
        ctx,
        profile,
        [profile],
        joins=joins,
        event=source,
        _counter=parent._counter,
        event_alias=alias,
        parent=parent,
    )
    ts = col(alias, source.timestamp)
    storage = ctx.storage(source.table, source.timestamp, "timestamp")
    parent_ts = col(parent.event_alias, parent.event.timestamp)
    parent_storage = ctx.storage(parent.event.table, parent.event.timestamp, "timestamp")
    child, _, earlier = ctx.same_kind(ts.copy(), storage, parent_ts, parent_storage)
    where: list[exp.Expr] = [
        exp.EQ(this=profile.copy(), expression=parent.profile.copy()),
        not_null(ts),
        *membership.window(ts, None, storage),
        exp.GT(this=child, expression=earlier),
    ]
    days = node.window.within_days_after if node.window is not None else None
    if days is not None and days <= MAX_DAYS_AFTER:
        hours = exp.Interval(this=exp.Literal.string(str(days * 24)), unit=exp.Var(this="HOUR"))
        where.append(
            exp.LTE(this=child.copy(), expression=exp.Add(this=earlier.copy(), expression=hours))
        )
    if source.event_column is not None:
        where.append(exp.EQ(this=col(alias, source.event_column), expression=string(source.name)))
    if node.where is not None:
        where.append(membership.condition(node.where, scope, {}, required=True))
    from_ = table(source.table, alias)
    if node.aggregate is not None:
        value = membership.measure(node, alias)
        sub = exp.Subquery(this=select([value], from_, scope.joins, where))
        outer = replace(parent, parent=parent)
        return membership.compare_aggregate(node, node.aggregate, sub, outer, node.without)
    count = node.count
    if (count.kind == "at_least" and count.n == 1) or count.is_zero:
        test: exp.Expr = exp.Exists(this=select([exp.Literal.number(1)], from_, scope.joins, where))
        holds = not count.is_zero
    else:
        counted = exp.Subquery(this=select([exp.Count(this=exp.Star())], from_, scope.joins, where))
        n = exp.Literal.number(count.n)
        ops = {"at_least": exp.GTE, "exactly": exp.EQ, "at_most": exp.LTE}
        test, holds = ops[count.kind](this=counted, expression=n), True
    return test if holds != node.without else exp.Not(this=test)
