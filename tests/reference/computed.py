"""Reference values of computed traits, in plain Python over the evaluator's rows.

The rules, read off the code: the rows are the profile's events in the window up to
``as_of`` (SPEC §3 windows) that satisfy ``where``, or the entity rows the relationship path
reaches from the profile, each last-level primary key once. Then:

* ``count``: rows (rows whose value is not NULL, when a property/column is named);
* ``sum``/``avg``/``min``/``max``: over the non-NULL values, NULL when there are none;
* ``count_distinct``: distinct non-NULL values (0 over none);
* ``first``/``last``: the value on the earliest/latest event; events at that same instant
  give the greatest value (NULL only when all of them are NULL);
* ``most_frequent``: the non-NULL value on most rows, ties to the smaller value;
* ``unique_list``: the distinct non-NULL values sorted by code point, joined by ``,``
  (NULL when there are none).

SQL traits are not evaluated here (they are the warehouse's own SQL): tests give their
values as a table named ``sql_traits[i]`` with the key and trait columns.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from linked_audiences.graph import DataGraph
from linked_audiences.graph_traits import ComputedTrait
from tests.reference.evaluator import (
    Row,
    _Context,
    _Evaluator,
    as_instant,
    entity_key,
    in_window,
)


def derived_trait(evaluator: _Evaluator, profile: Any, name: str) -> Any:
    """The value of the computed or SQL trait ``name`` for ``profile``."""
    graph: DataGraph = evaluator.graph
    computed = graph.computed_traits.get(name)
    if computed is not None:
        return computed_value(evaluator, profile, computed)
    for i, sql in enumerate(graph.sql_traits):
        if name in sql.traits:
            rows = [r for r in evaluator.rows(f"sql_traits[{i}]") if r.get(sql.key) == profile]
            values = [r.get(name) for r in rows if r.get(name) is not None]
            return max(values) if values else None
    raise KeyError(name)


def computed_value(evaluator: _Evaluator, profile: Any, trait: ComputedTrait) -> Any:
    if trait.event is not None:
        pairs = _event_values(evaluator, profile, trait)
    else:
        pairs = [(None, v) for v in _entity_values(evaluator, profile, trait)]
    values = [v for _, v in pairs]
    present = [v for v in values if v is not None]
    fn = trait.function
    if fn == "count":
        return len(values) if trait.field is None else len(present)
    if fn == "count_distinct":
        return len(set(present))
    if fn == "sum":
        return sum(present) if present else None
    if fn == "avg":
        return sum(present) / len(present) if present else None
    if fn == "min":
        return min(present) if present else None
    if fn == "max":
        return max(present) if present else None
    if fn in ("first", "last"):
        if not pairs:
            return None
        times = [as_instant(t) for t, _ in pairs if t is not None]
        moment = min(times) if fn == "first" else max(times)
        tied = [v for t, v in pairs if t is not None and as_instant(t) == moment]
        tied_present = [v for v in tied if v is not None]
        return max(tied_present) if tied_present else None
    if fn == "most_frequent":
        if not present:
            return None
        counts = Counter(present)
        best = max(counts.values())
        return min(v for v, n in counts.items() if n == best)
    if fn == "unique_list":
        return ",".join(sorted(set(present))) if present else None
    raise ValueError(fn)


def _event_values(
    evaluator: _Evaluator, profile: Any, trait: ComputedTrait
) -> list[tuple[Any, Any]]:
    source = evaluator.graph.event(trait.event or "")
    assert source is not None
    column = None
    if trait.property is not None:
        resolved = source.property_column(trait.property)
        assert resolved is not None
        column = resolved[0]
    out = []
    for row in evaluator.event_rows(source, profile):
        if not in_window(row[source.timestamp], trait.window, evaluator.as_of):
            continue
        ctx = _Context(profile).with_event(source, row)
        if trait.where is not None and not evaluator.holds(trait.where, ctx):
            continue
        out.append((row[source.timestamp], row.get(column) if column else None))
    return out


def _entity_values(evaluator: _Evaluator, profile: Any, trait: ComputedTrait) -> list[Any]:
    """Each last-level row reached from the profile, once per primary key."""
    graph = evaluator.graph
    contexts = [_Context(profile)]
    last = None
    for slug in trait.slugs:
        path = graph.relationship(slug)
        assert path is not None
        last = path
        contexts = [
            ctx.with_entity(slug, row)
            for ctx in contexts
            for row in evaluator.related_rows(path, ctx)
        ]
    assert last is not None
    seen: dict[Any, Row] = {}
    for ctx in contexts:
        row = ctx.path[-1][1]
        if trait.where is not None and not evaluator.holds(trait.where, ctx):
            continue
        seen.setdefault(entity_key(last.entity, row), row)
    return [row.get(trait.column) if trait.column else None for row in seen.values()]


__all__ = ["computed_value", "derived_trait"]


def sql_trait_tables(con: Any, graph: DataGraph) -> dict[str, list[Row]]:
    """The rows of each SQL trait's query, run as written on a DuckDB connection, as the
    tables ``sql_traits[i]`` the reference reads (their SQL is the warehouse's own)."""
    out: dict[str, list[Row]] = {}
    for i, spec in enumerate(graph.sql_traits):
        cursor = con.execute(spec.sql)
        columns = [d[0] for d in cursor.description]
        out[f"sql_traits[{i}]"] = [
            dict(zip(columns, row, strict=True)) for row in cursor.fetchall()
        ]
    return out
