"""``la.suggest``: the values a condition could compare with, most frequent first.

While writing ``plan = …`` an analyst wants to see what the column holds — its spelling,
its case, how common each value is — as Segment's builder suggests values while typing.
Segment's limits are kept: 65 values of a trait or an event property, 100 of an entity
column. NULL is never offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.insights.sets import member_sets
from linked_audiences.insights.values import plain
from linked_audiences.sql import col, named, not_null, select, string, table
from linked_audiences.warehouse import Warehouse

TRAIT_LIMIT = 65
EVENT_PROPERTY_LIMIT = 65
ENTITY_COLUMN_LIMIT = 100


@dataclass(frozen=True)
class Suggestions:
    #: ``trait``, ``event property`` or ``entity column``.
    kind: str
    #: What was asked: the trait, ``event.property`` or ``relationship.column``.
    source: str
    #: (value, count), most frequent first, ties by value. Counts are profiles for a trait,
    #: event rows for an event property, entity rows for an entity column.
    values: tuple[tuple[Any, int], ...]
    limit: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "limit": self.limit,
            "values": [{"value": plain(v), "count": n} for v, n in self.values],
        }


def suggest(
    graph: DataGraph,
    warehouse: Warehouse,
    *,
    trait: str | None = None,
    event: str | None = None,
    property: str | None = None,
    relationship: str | None = None,
    column: str | None = None,
    as_of: datetime | str | None = None,
) -> Suggestions:
    """The most frequent values of one trait, event property or entity column.

    Exactly one of ``trait``, ``event`` with ``property``, ``relationship`` with ``column``.
    ``as_of`` matters only for computed traits with a time window."""
    chosen = [
        name
        for name, given in (
            ("trait", trait is not None),
            ("event", event is not None or property is not None),
            ("relationship", relationship is not None or column is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise DefinitionError(
            [
                Problem(
                    "$",
                    "suggest takes exactly one of: a trait; an event and a property; a "
                    "relationship and a column",
                )
            ]
        )
    sets = member_sets({}, graph, warehouse, as_of=as_of, audiences=())
    if trait is not None:
        if graph.trait_type(trait) is None:
            raise _unknown("trait", trait, graph.trait_names())
        value = sets.trait("t", trait)
        query = _top(value, sets.traits("t"), [], TRAIT_LIMIT, distinct_of=col("t", "profile_id"))
        rows = warehouse.fetchall(sets.query(query))
        return Suggestions("trait", trait, _values(rows), TRAIT_LIMIT)
    if event is not None and property is not None:
        source = graph.event(event)
        if source is None:
            raise _unknown("event", event, [e.name for e in graph.events])
        found = source.property_column(property)
        if found is None:
            raise _unknown("property", property, list(source.properties), f"of event {event!r}")
        where: list[exp.Expr] = []
        if source.event_column is not None:
            where.append(exp.EQ(this=col("e", source.event_column), expression=string(event)))
        query = _top(col("e", found[0]), table(source.table, "e"), where, EVENT_PROPERTY_LIMIT)
        rows = warehouse.fetchall(sets.query(query))
        return Suggestions(
            "event property", f"{event}.{property}", _values(rows), EVENT_PROPERTY_LIMIT
        )
    if relationship is not None and column is not None:
        path = graph.relationship(relationship)
        if path is None:
            raise _unknown(
                "relationship", relationship, [p.slug for p in graph.relationship_paths()]
            )
        if column not in path.entity.columns:
            raise _unknown(
                "column", column, list(path.entity.columns), f"of entity {path.entity.slug!r}"
            )
        query = _top(col("e", column), table(path.entity.table, "e"), [], ENTITY_COLUMN_LIMIT)
        rows = warehouse.fetchall(sets.query(query))
        return Suggestions(
            "entity column", f"{relationship}.{column}", _values(rows), ENTITY_COLUMN_LIMIT
        )
    missing = (
        "property"
        if event is not None
        else "event"
        if property is not None
        else ("column" if relationship is not None else "relationship")
    )
    raise DefinitionError([Problem(missing, f"suggest needs a {missing} here")])


def _top(
    value: exp.Expr,
    source: exp.Expr,
    where: list[exp.Expr],
    limit: int,
    distinct_of: exp.Expr | None = None,
) -> exp.Select:
    """``value, count`` of the ``limit`` most frequent non-NULL values, ties by value."""
    counted = (
        exp.Count(this=exp.Distinct(expressions=[distinct_of]))
        if distinct_of is not None
        else exp.Count(this=exp.Star())
    )
    query = select(
        [named(value, "value"), named(counted, "n")],
        source,
        where=[*where, not_null(value)],
        group=[value],
    )
    query.set(
        "order",
        exp.Order(
            expressions=[
                exp.Ordered(this=exp.column("n", quoted=True), desc=True),
                exp.Ordered(this=exp.column("value", quoted=True)),
            ]
        ),
    )
    query.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    return query


def _values(rows: list[tuple[Any, ...]]) -> tuple[tuple[Any, int], ...]:
    return tuple((value, int(n)) for value, n in rows)


def _unknown(what: str, name: str, known: list[str], of: str = "") -> DefinitionError:
    listed = ", ".join(repr(k) for k in known[:20]) or "none"
    where = f" {of}" if of else ""
    return DefinitionError(
        [Problem(what, f"no {what} {name!r}{where} in the data graph (known: {listed})")]
    )
