"""Funnel steps and aggregate conditions in generated audiences, and event data they bite on.

:class:`ClassicNodes` is mixed into the audience builder of :mod:`tests.reference.strategies`:

* **steps** — an ``event`` inside an event's ``where`` (under groups too), chains of up to
  three events, sometimes ``within_days_after`` N, any count or ``without``, property
  conditions comparing with ``{"parent": p}`` properties of the same type;
* **aggregates** on event nodes (top level and steps) and entity nodes (any level): every
  function on an operand of a type it takes, compared with a literal drawn from what the data
  makes of it (per-profile sums, single values, small counts — so ``count_distinct`` often
  holds over no rows), sometimes with a trait or parent reference.

:func:`add_follow_ups` adds event rows that make steps bite: a row of the same owner as an
existing row at the same instant, exactly N days later, one microsecond either side of that,
or one microsecond later (often after ``as_of`` too), copying the row's values when in the
same table so that parent references compare equal values.

``sum``/``avg`` are only drawn over numbers whose sums are exact in binary (halves and whole
numbers): engines add floats in an order of their choosing, so a sum of ``0.1``\\ s may differ
in the last bit between Python and SQL — a difference no rule can fix, only hide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from linked_audiences.graph import DataGraph, EventSource, RelationshipPath
from linked_audiences.validation import REFERENCE_OPERATORS
from tests.reference.evaluator import Tables

if TYPE_CHECKING:
    from tests.reference.strategies import _EventPlan, _Pools

Draw = Callable[[st.SearchStrategy[Any]], Any]

#: Events in one generated funnel chain, at most (the rules allow five; three keep it cheap).
MAX_CHAIN = 3
AGGREGATE_OPERATORS = (
    "equals",
    "not_equals",
    "less_than",
    "greater_than",
    "less_than_or_equal",
    "greater_than_or_equal",
)
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "number": ("sum", "avg", "min", "max", "count_distinct"),
    "date": ("min", "max", "count_distinct"),
    "timestamp": ("min", "max", "count_distinct"),
}
#: Most rows one generated table holds (tests/test_reference_evaluator.py checks it).
MAX_ROWS = 12


def chance(draw: Draw, percent: int) -> bool:
    """True about ``percent`` times in a hundred."""
    return bool(draw(st.integers(0, 99)) < percent)


def properties_of(source: EventSource) -> list[str]:
    """Every property a condition may use on ``source`` (declared and implicit)."""
    props = sorted(source.properties)
    for implicit in ("page_name", "screen_name"):
        if source.property_column(implicit) is not None:
            props.append(implicit)
    return props


def _literal(value: Any) -> Any:
    """A stored value as a definition literal: dates and timestamps as ISO text."""
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def _exact(values: Sequence[Any]) -> bool:
    """Whether every number is a multiple of ½ (their sums are exact in binary)."""
    return all(float(v * 2).is_integer() for v in values)


def _summaries(function: str, groups: list[list[Any]]) -> list[Any]:
    """``function`` over each group of non-NULL values (empty groups skipped but for
    ``count_distinct``, which is 0 there)."""
    out: list[Any] = []
    for values in groups:
        if function == "count_distinct":
            out.append(len(set(values)))
        elif not values:
            continue
        elif function == "sum":
            out.append(sum(values))
        elif function == "avg":
            out.append(sum(values) / len(values))
        elif function == "min":
            out.append(min(values))
        else:
            out.append(max(values))
    return out


class ClassicNodes:
    """Funnel steps and aggregates for the audience builder (which provides these names)."""

    draw: Draw
    graph: DataGraph
    pools: _Pools
    tables: Tables

    def comparison(
        self, dtype: str, refs: list[dict[str, str]], observed: list[Any]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def trait_refs(self, dtype: str) -> list[dict[str, str]]:
        raise NotImplementedError

    def count(self, zero_ok: bool = True) -> dict[str, int] | None:
        raise NotImplementedError

    def window(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def entity_node(
        self, path: RelationshipPath, without: bool, depth: int, aggregate_percent: int = 15
    ) -> dict[str, Any]:
        raise NotImplementedError

    # -- focused --------------------------------------------------------------------------

    def classic_node(self, depth: int) -> dict[str, Any]:
        """An audience-level funnel (an event with at least one step) or a node with an
        aggregate: the focused exploration of these shapes, where random trees meet them
        only now and then."""
        draw = self.draw
        kind = draw(st.sampled_from(("plain", "funnel", "funnel", "event", "entity")))
        if kind == "plain":
            return self.plain_funnel()
        if kind == "entity":
            tops = [p for p in self.graph.relationship_paths() if p.parent is None]
            return self.entity_node(draw(st.sampled_from(tops)), chance(draw, 25), depth, 100)
        source = draw(st.sampled_from(self.graph.events))
        node: dict[str, Any] = {"type": "event", "event": source.name, "without": chance(draw, 25)}
        window = self.window() if chance(draw, 50) else None
        if window:
            node["window"] = window
        if kind == "event":
            self.event_body(node, source, None, 1, depth, aggregate_percent=100)
            return node
        self.event_body(node, source, None, 1, depth, where_percent=0)
        step = self.step(source, 1, depth)
        properties = properties_of(source)
        if depth > 0 and chance(draw, 50):
            other = self.event_where(source, properties, depth - 1) if properties else step
            step = {
                "type": "group",
                "operator": draw(st.sampled_from(("and", "or"))),
                "conditions": [step, other],
            }
        node["where"] = step
        return node

    def plain_funnel(self) -> dict[str, Any]:
        """ "A then B within N days" (or not), nothing else: one boundary decides it, so the
        data's ties at exactly N days, equal instants and ``as_of`` show."""
        draw = self.draw
        first = draw(st.sampled_from(self.graph.events))
        then = first if chance(draw, 33) else draw(st.sampled_from(self.graph.events))
        days = [d for d in self.pools.days if d >= 1]
        step: dict[str, Any] = {"type": "event", "event": then.name, "without": chance(draw, 25)}
        if chance(draw, 75):
            step["window"] = {"within_days_after": draw(st.sampled_from(days))}
        return {"type": "event", "event": first.name, "where": step}

    # -- steps -----------------------------------------------------------------------------

    def parent_refs(self, parent: EventSource | None, dtype: str) -> list[dict[str, str]]:
        """``{"parent": p}`` for every property of the parent event of type ``dtype``."""
        if parent is None:
            return []
        refs = []
        for prop in properties_of(parent):
            resolved = parent.property_column(prop)
            if resolved is not None and resolved[1] == dtype:
                refs.append({"parent": prop})
        return refs

    def can_step(self, chain: int) -> bool:
        """Whether an event that is event ``chain`` of its funnel may have a step below."""
        return chain < MAX_CHAIN

    def step(self, parent: EventSource, chain: int, depth: int) -> dict[str, Any]:
        """A funnel step after a row of ``parent``; the step is event ``chain + 1``."""
        draw = self.draw
        # The parent's own event often: its properties are the ones parent references fit.
        source = parent if chance(draw, 33) else draw(st.sampled_from(self.graph.events))
        node: dict[str, Any] = {"type": "event", "event": source.name}
        if chance(draw, 25):
            node["without"] = True
        if chance(draw, 50):
            days = [d for d in self.pools.days if d >= 1]
            node["window"] = {"within_days_after": draw(st.sampled_from(days))}
        self.event_body(node, source, parent, chain + 1, depth)
        return node

    def event_body(
        self,
        node: dict[str, Any],
        source: EventSource,
        parent: EventSource | None,
        chain: int,
        depth: int,
        aggregate_percent: int = 20,
        where_percent: int = 50,
    ) -> None:
        """``count`` or ``aggregate``, and ``where``, of an event node (``parent``: the event
        a step follows, None at audience level; ``chain``: the node's place in its funnel)."""
        draw = self.draw
        wanted = chance(draw, aggregate_percent)
        aggregate = self.event_aggregate(source, parent) if wanted else None
        if aggregate is not None:
            node["aggregate"] = aggregate
        else:
            count = self.count()
            if count:
                node["count"] = count
        properties = properties_of(source)
        if (properties or self.can_step(chain)) and chance(draw, where_percent):
            node["where"] = self.event_where(source, properties, min(depth, 2), parent, chain)

    def event_where(
        self,
        source: EventSource,
        properties: list[str],
        depth: int,
        parent: EventSource | None = None,
        chain: int = 1,
    ) -> dict[str, Any]:
        """A tree of ``group``/``property``/step nodes inside an event's ``where``; property
        conditions of a step may compare with the parent row's properties."""
        draw = self.draw
        if depth > 0 and chance(draw, 33):
            return {
                "type": "group",
                "operator": draw(st.sampled_from(("and", "or"))),
                "conditions": [
                    self.event_where(source, properties, depth - 1, parent, chain)
                    for _ in range(draw(st.integers(1, 3)))
                ],
            }
        if self.can_step(chain) and (not properties or chance(draw, 40)):
            return self.step(source, chain, depth)
        pairs = [
            (prop, ref)
            for prop in properties
            if self.property_type(source, prop) in REFERENCE_OPERATORS
            for ref in self.parent_refs(parent, self.property_type(source, prop))
        ]
        if pairs and chance(draw, 40):
            prop, ref = draw(st.sampled_from(pairs))
            dtype = self.property_type(source, prop)
            ops = sorted(REFERENCE_OPERATORS[dtype])
            op = "equals" if chance(draw, 40) else draw(st.sampled_from(ops))
            return {"type": "property", "property": prop, "operator": op, "reference": ref}
        prop = draw(st.sampled_from(properties))
        resolved = source.property_column(prop)
        assert resolved is not None
        column, dtype = resolved
        observed = [r.get(column) for r in self.tables.get(source.table, [])]
        refs = self.trait_refs(dtype) + self.parent_refs(parent, dtype)
        return {"type": "property", "property": prop, **self.comparison(dtype, refs, observed)}

    @staticmethod
    def property_type(source: EventSource, prop: str) -> str:
        resolved = source.property_column(prop)
        assert resolved is not None
        return resolved[1]

    # -- aggregates ------------------------------------------------------------------------

    def event_aggregate(
        self, source: EventSource, parent: EventSource | None
    ) -> dict[str, Any] | None:
        """An aggregate over a property of ``source``, or None when it has none to read.
        Literals come from the per-owner aggregates of the event's rows."""
        rows = [
            r
            for r in self.tables.get(source.table, [])
            if source.event_column is None or r.get(source.event_column) == source.name
        ]
        owner = source.profile_key or source.segment_id or ""
        operands = []
        for prop in properties_of(source):
            resolved = source.property_column(prop)
            assert resolved is not None
            column, dtype = resolved
            groups: dict[Any, list[Any]] = {}
            for row in rows:
                values = groups.setdefault(row.get(owner), [])
                if row.get(column) is not None:
                    values.append(row[column])
            operands.append((prop, dtype, list(groups.values())))
        return self.aggregate("property", operands, parent)

    def entity_aggregate(self, path: RelationshipPath) -> dict[str, Any] | None:
        """An aggregate over a declared column of the node's entity, or None. Literals come
        from single values and sums of pairs (a parent's rows are often one or two)."""
        rows = self.tables.get(path.entity.table, [])
        operands = []
        for column, dtype in sorted(path.entity.columns.items()):
            values = [r[column] for r in rows if r.get(column) is not None]
            groups = [[v] for v in values] + [values[:2], values[1:3], values, []]
            operands.append((column, dtype, groups))
        return self.aggregate("column", operands, None)

    def aggregate(
        self,
        field: str,
        operands: Sequence[tuple[str, str, list[list[Any]]]],
        parent: EventSource | None,
    ) -> dict[str, Any] | None:
        """``{function, field: name, operator, value|reference}``: a function that takes the
        operand's type, a literal of the result's type near what the data gives."""
        draw = self.draw
        choices: dict[str, list[tuple[str, str, list[list[Any]]]]] = {}
        for name, dtype, groups in operands:
            functions = FUNCTIONS.get(dtype, ("count_distinct",))
            if dtype == "number" and not _exact([v for g in groups for v in g]):
                functions = tuple(f for f in functions if f not in ("sum", "avg"))
            for function in functions:
                choices.setdefault(function, []).append((name, dtype, groups))
        if not choices:
            return None
        # The function first, so sum/avg/min/max come up as often as count_distinct.
        function = draw(st.sampled_from(sorted(choices)))
        name, dtype, groups = draw(st.sampled_from(choices[function]))
        result = dtype if function in ("min", "max") else "number"
        operator = draw(st.sampled_from(AGGREGATE_OPERATORS))
        out: dict[str, Any] = {"function": function, field: name, "operator": operator}
        refs = self.trait_refs(result) + self.parent_refs(parent, result)
        if refs and chance(draw, 25):
            out["reference"] = draw(st.sampled_from(refs))
            return out
        seen = [_literal(v) for v in _summaries(function, groups)]
        if function == "count_distinct":
            seen += [0, 1, 2]
        if seen and not chance(draw, 20):
            out["value"] = draw(st.sampled_from(seen))
        else:
            out["value"] = draw(self.pools.literal(result))
        return out


def adopt_rows(
    draw: Draw,
    tables: Tables,
    events: Sequence[_EventPlan],
    pools: _Pools,
    members: dict[bool, list[Any]],
) -> None:
    """Give about half the event rows to ``members`` (owners in the universe: profile keys
    under False, segment ids under True) and a table with fewer than two rows one of theirs:
    a funnel or an aggregate only bites on rows of profiles in the universe."""
    for table, plan in {e.table: e for e in events}.items():
        owners = members[plan.via_segment_id]
        if not owners:
            continue
        rows = tables.setdefault(table, [])
        for row in rows:
            if chance(draw, 50):
                row[plan.owner_column] = draw(st.sampled_from(owners))
        if len(rows) < 2:
            row = {c: draw(pools.data_value(t)) for c, t in plan.columns.items()}
            row[plan.owner_column] = draw(st.sampled_from(owners))
            row[plan.timestamp] = draw(st.sampled_from(pools.event_instants))
            if plan.event_column is not None:
                names = [e.name for e in events if e.table == table]
                row[plan.event_column] = draw(st.sampled_from(names))
            rows.append(row)


def add_follow_ups(
    draw: Draw,
    tables: Tables,
    events: Sequence[_EventPlan],
    pools: _Pools,
    members: dict[bool, list[Any]],
) -> None:
    """Rows that follow other rows of the same owner: N days later (N one of the scenario's
    day counts, the bound a ``within_days_after`` N puts there), N days ± 1 µs, at the same
    instant or 1 µs later. In the same table the row is a copy (equal properties, so parent
    references hold); in another table of the same kind of owner its other values are drawn
    afresh. Mostly rows of ``members`` are followed, and mostly so that the new row is not
    after ``as_of`` (where it would not count)."""
    one = timedelta(microseconds=1)
    spans = [timedelta(0), one]
    for d in pools.days:
        if d >= 1:
            span = timedelta(days=d)
            spans += [span, span, span, span - one, span + one]
    plans = {e.table: e for e in events}  # a shared table has one layout
    for table, plan in plans.items():
        rows = tables.get(table, [])
        room = MAX_ROWS - len(rows)
        if room <= 0 or not chance(draw, 80):
            continue
        sources = [
            (other, row)
            for other in plans.values()
            if other.via_segment_id == plan.via_segment_id
            for row in tables.get(other.table, [])
            if row.get(other.timestamp) is not None and row.get(other.owner_column) is not None
        ]
        names = sorted({e.name for e in events if e.table == table} | {"Other Event"})
        for _ in range(draw(st.integers(1, min(4, room))) if sources else 0):
            span = draw(st.sampled_from(spans))
            pool = sources
            preferred = [
                (o, r)
                for o, r in sources
                if r[o.owner_column] in members[o.via_segment_id]
                and r[o.timestamp] + span <= pools.as_of
            ]
            if preferred and chance(draw, 75):
                pool = preferred
            other, base = draw(st.sampled_from(pool))
            if other.table == table:
                row = dict(base)
            else:
                row = {c: draw(pools.data_value(t)) for c, t in plan.columns.items()}
                row[plan.owner_column] = base[other.owner_column]
            row[plan.timestamp] = base[other.timestamp] + span
            if plan.event_column is not None and (other.table != table or chance(draw, 30)):
                row[plan.event_column] = draw(st.sampled_from(names))
            rows.append(row)
        tables[table] = rows


__all__ = ["ClassicNodes", "add_follow_ups", "adopt_rows"]
