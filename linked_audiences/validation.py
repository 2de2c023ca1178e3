"""Every definition rule of data graphs and audiences, checked before any SQL exists.

Checks collect :class:`Problem`\\ s instead of stopping at the first, so a user sees all of a
definition's mistakes at once, each with the JSON path of the offending node and the rule.
Node checks are looked up by class in :data:`_NODE_CHECKS`; a new node kind adds one entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from linked_audiences.conditions import (
    Audience,
    AudienceCondition,
    ColumnCondition,
    ColumnReference,
    Comparison,
    Condition,
    EntityCondition,
    EventCondition,
    GroupCondition,
    PropertyCondition,
    TraitCondition,
    TraitReference,
    iter_children,
    walk,
)
from linked_audiences.datatypes import (
    DATE_LIKE_TYPES,
    ORDERED_TYPES,
    DataType,
    OutOfRange,
    parse_iso_date,
    parse_iso_time,
    parse_iso_timestamp,
)
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import (
    MAX_DEPTH,
    DataGraph,
    Entity,
    EventSource,
    Relationship,
    RelationshipPath,
    parse_join_on,
    parse_junction_left,
    parse_junction_right,
    relationship_json_paths,
)

ALL_TYPES: frozenset[str] = frozenset({"string", "number", "boolean", "date", "time", "timestamp"})
_ORDERINGS = ("less_than", "greater_than", "less_than_or_equal", "greater_than_or_equal")
_DATE_OPS = ("before_date", "after_date")
_DAY_OPS = ("within_last", "within_next", "before_last", "after_next")
_TEXT_OPS = ("contains", "does_not_contain", "starts_with", "ends_with")

#: Which column types each operator accepts.
OPERATOR_TYPES: dict[str, frozenset[str]] = {
    "equals": ALL_TYPES,
    "not_equals": ALL_TYPES,
    **{op: ORDERED_TYPES for op in _ORDERINGS},
    "equals_any_of": frozenset({"string", "number"}),
    "contains_any_of": frozenset({"string"}),
    **{op: frozenset({"string"}) for op in _TEXT_OPS},
    "exists": ALL_TYPES,
    "not_exists": ALL_TYPES,
    **{op: DATE_LIKE_TYPES for op in (*_DATE_OPS, *_DAY_OPS)},
}

#: Operators that may compare with a reference instead of a value, by type (Segment's table).
REFERENCE_OPERATORS: dict[str, frozenset[str]] = {
    **{t: frozenset({"equals", "not_equals", *_ORDERINGS}) for t in ORDERED_TYPES},
    "string": frozenset({"equals", "not_equals", *_TEXT_OPS}),
}

#: The identifier types that put a profile in the universe.
UNIVERSE_IDENTIFIER_TYPES = ("user_id", "email", "android.idfa", "ios.idfa")
ANONYMOUS_IDENTIFIER_TYPE = "anonymous_id"

Place = Literal["audience", "event", "entity"]


# --------------------------------------------------------------------------------------------
# Data graph
# --------------------------------------------------------------------------------------------


def graph_problems(graph: DataGraph) -> list[Problem]:
    """All rule breaks of a data graph, in document order."""
    problems: list[Problem] = []
    add = problems.append
    entities = {e.slug: e for e in graph.entities}

    for slug, n in Counter(e.slug for e in graph.entities).items():
        if n > 1:
            second = [i for i, e in enumerate(graph.entities) if e.slug == slug][1]
            add(Problem(f"$.entities[{second}].slug", f"entity slug {slug!r} repeats"))

    first_seen: dict[str, str] = {}
    for path, level, rel, parent in relationship_json_paths(graph.relationships):
        if rel.slug in first_seen:
            add(
                Problem(
                    f"{path}.slug",
                    f"relationship slug {rel.slug!r} repeats (first at {first_seen[rel.slug]})",
                )
            )
        first_seen.setdefault(rel.slug, path)
        if level > MAX_DEPTH:
            add(
                Problem(
                    path,
                    f"nesting is {level} levels deep; at most {MAX_DEPTH} (the profile is level 1)",
                )
            )
        entity = entities.get(rel.related_entity)
        if entity is None:
            add(Problem(f"{path}.related_entity", f"unknown entity {rel.related_entity!r}"))
        links = [
            k
            for k in ("external_id", "trait", "join_on", "junction_table")
            if getattr(rel, k) is not None
        ]
        allowed = ("external_id", "trait") if parent is None else ("join_on", "junction_table")
        if len(links) != 1 or links[0] not in allowed:
            where = "a top-level" if parent is None else "a nested"
            add(
                Problem(
                    path,
                    f"{where} relationship needs exactly one of "
                    f"{' or '.join(allowed)}" + (f", got {', '.join(links)}" if links else ""),
                )
            )
            continue
        parent_entity = entities.get(parent.related_entity) if parent else None
        problems.extend(_link_problems(graph, path, rel, entity, parent_entity))

    seen_events: set[str] = set()
    for i, event in enumerate(graph.events):
        path = f"$.events[{i}]"
        if event.name in seen_events:
            add(Problem(f"{path}.name", f"event {event.name!r} repeats"))
        seen_events.add(event.name)
        if (event.profile_key is None) == (event.segment_id is None):
            add(Problem(path, "an event source needs exactly one of profile_key or segment_id"))
        if event.segment_id is not None and graph.profile.id_graph_table is None:
            add(Problem(f"{path}.segment_id", "segment_id needs profile.id_graph_table"))
    return problems


def _link_problems(
    graph: DataGraph,
    path: str,
    rel: Relationship,
    entity: Entity | None,
    parent_entity: Entity | None,
) -> Iterator[Problem]:
    """How one relationship attaches to its parent (profile or entity).

    Join columns are not required among an entity's declared ``columns``: those list what
    conditions may filter on (joining on an undeclared ``email`` is common).
    """
    if rel.trait is not None:
        if rel.trait.name not in graph.profile.traits:
            yield Problem(f"{path}.trait.name", f"unknown trait {rel.trait.name!r}")
    elif rel.join_on is not None:
        try:
            left, right = parse_join_on(rel.join_on)
        except ValueError as exc:
            yield Problem(f"{path}.join_on", str(exc))
            return
        if parent_entity is None or entity is None:
            return
        pair = {left.slug, right.slug}
        if pair != {parent_entity.slug, entity.slug}:
            yield Problem(
                f"{path}.join_on",
                f"join_on must join {parent_entity.slug!r} and "
                f"{entity.slug!r}, got {left.slug!r} and {right.slug!r}",
            )
            return
    elif rel.junction_table is not None:
        junction = rel.junction_table
        try:
            parent_ref, _ = parse_junction_left(junction.left_join_on)
            _, child_ref = parse_junction_right(junction.right_join_on)
        except ValueError as exc:
            yield Problem(f"{path}.junction_table", str(exc))
            return
        if parent_entity is not None and parent_ref.slug != parent_entity.slug:
            yield Problem(
                f"{path}.junction_table.left_join_on",
                f"left_join_on must name {parent_entity.slug!r}, got {parent_ref.slug!r}",
            )
        if entity is not None and child_ref.slug != entity.slug:
            yield Problem(
                f"{path}.junction_table.right_join_on",
                f"right_join_on must name {entity.slug!r}, got {child_ref.slug!r}",
            )


# --------------------------------------------------------------------------------------------
# Audiences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """Where a node stands: what it may be, and what names it can see."""

    graph: DataGraph
    audiences: frozenset[str]
    place: Place = "audience"
    event: EventSource | None = None
    entity: RelationshipPath | None = None


def validate_audience(
    audience: Audience, graph: DataGraph, audiences: Sequence[Audience] = ()
) -> None:
    """Raise one :class:`DefinitionError` listing every problem of ``audience``.

    ``audiences`` are the definitions that ``audience`` nodes may name; the ones this audience
    reaches are checked too (their problems name them as the source), and cycles among them
    are reported as ``a → b → a``.
    """
    problems = audience_problems(audience, graph, audiences)
    if problems:
        raise DefinitionError(problems)


def audience_problems(
    audience: Audience, graph: DataGraph, audiences: Sequence[Audience] = ()
) -> list[Problem]:
    known: dict[str, Audience] = {}
    problems: list[Problem] = []
    for other in audiences:
        if other.key in known and known[other.key] != other and other.key != audience.key:
            problems.append(
                Problem(
                    "$.key",
                    f"two different audiences have the key {other.key!r}",
                    f"audience {other.key!r}",
                )
            )
        known.setdefault(other.key, other)
    known[audience.key] = audience

    scope = _Scope(graph, frozenset(known))
    for key in _reachable(audience.key, known):
        source = None if key == audience.key else f"audience {key!r}"
        for problem in _node_problems(known[key].condition, "$.condition", scope):
            problems.append(replace(problem, source=source) if source else problem)
    problems.extend(_cycle_problems(audience.key, known))
    problems.extend(_key_problems(audience.key, graph))
    return problems


def _key_problems(key: str, graph: DataGraph) -> Iterator[Problem]:
    """A run event carries ``<audience key>: true|false`` next to trait values, entity columns
    (``<slug>__<column>``) and matched entities (under their slug); a key equal to one of
    those names would silently overwrite the flag or the value."""
    if key in graph.profile.traits:
        yield Problem("$.key", f"{key!r} is also a profile trait, which run events may carry")
    for path in graph.relationship_paths():
        entity = path.entity
        if key == path.slug:
            yield Problem(
                "$.key",
                f"{key!r} is also a relationship, whose matched entities run events may carry",
            )
        column = key.removeprefix(f"{path.slug}__")
        if column != key and (column in entity.columns or column == entity.primary_key):
            yield Problem(
                "$.key",
                f"{key!r} is the name run events give to column {column!r} of {path.slug!r}",
            )


def _reachable(root: str, known: dict[str, Audience]) -> list[str]:
    order, stack = [], [root]
    while stack:
        key = stack.pop()
        if key in order or key not in known:
            continue
        order.append(key)
        stack.extend(dep for _, dep in audience_references(known[key].condition))
    return order


def audience_references(node: Condition) -> Iterator[tuple[str, str]]:
    """(JSON path, key) of every ``audience`` node under ``node``."""
    for path, child in walk(node):
        if isinstance(child, AudienceCondition):
            yield path, child.key


def _cycle_problems(root: str, known: dict[str, Audience]) -> list[Problem]:
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()

    def visit(key: str, stack: list[str]) -> None:
        for path, dep in audience_references(known[key].condition):
            if dep in stack:
                cycle = [*stack[stack.index(dep) :], dep]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    source = None if key == root else f"audience {key!r}"
                    problems.append(
                        Problem(
                            path,
                            "audiences reference each other in a cycle: " + " → ".join(cycle),
                            source,
                        )
                    )
            elif dep in known:
                visit(dep, [*stack, dep])

    visit(root, [root])
    return problems


def _node_problems(node: Condition, path: str, scope: _Scope) -> Iterable[Problem]:
    allowed = _PLACES[type(node)]
    if scope.place not in allowed:
        yield Problem(
            path,
            f"a {node.type!r} condition cannot appear {_PLACE_NAMES[scope.place]}"
            f"; it belongs {' or '.join(_PLACE_NAMES[p] for p in allowed)}",
        )
        return
    yield from _NODE_CHECKS[type(node)](node, path, scope)


def _check_group(node: GroupCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    for suffix, child in iter_children(node):
        yield from _node_problems(child, path + suffix, scope)


def _check_audience(node: AudienceCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    if node.key not in scope.audiences:
        yield Problem(f"{path}.key", f"unknown audience {node.key!r}")


def _check_trait(node: TraitCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    dtype = scope.graph.profile.traits.get(node.trait)
    if dtype is None:
        yield Problem(f"{path}.trait", f"unknown trait {node.trait!r}")
        return
    yield from _comparison_problems(node, dtype, path, scope)


def _check_property(node: PropertyCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    assert scope.event is not None
    resolved = scope.event.property_column(node.property)
    if resolved is None:
        yield Problem(
            f"{path}.property", f"unknown property {node.property!r} of event {scope.event.name!r}"
        )
        return
    yield from _comparison_problems(node, resolved[1], path, scope)


def _check_column(node: ColumnCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    assert scope.entity is not None
    entity = scope.entity.entity
    dtype = entity.columns.get(node.column)
    if dtype is None:
        yield Problem(
            f"{path}.column",
            f"unknown column {node.column!r} of entity "
            f"{entity.slug!r} (declare it under the entity's columns)",
        )
        return
    yield from _comparison_problems(node, dtype, path, scope)


def _check_event(node: EventCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    source = scope.graph.event(node.event)
    if source is None:
        yield Problem(f"{path}.event", f"unknown event {node.event!r}")
        return
    if node.where is not None:
        yield from _node_problems(
            node.where, f"{path}.where", replace(scope, place="event", event=source)
        )


def _check_entity(node: EntityCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    rel = scope.graph.relationship(node.relationship)
    if rel is None:
        yield Problem(f"{path}.relationship", f"unknown relationship {node.relationship!r}")
        return
    expected_parent = scope.entity.slug if scope.entity else None
    actual_parent = rel.parent.slug if rel.parent else None
    if actual_parent != expected_parent:
        if expected_parent is None:
            rule = (
                f"relationship {rel.slug!r} is nested under {actual_parent!r}; at audience "
                "level only top-level relationships may be used"
            )
        else:
            rule = (
                f"relationship {rel.slug!r} is not a child of {expected_parent!r}; inside its "
                "where only that entity's own relationships may be used"
            )
        yield Problem(f"{path}.relationship", rule)
        return
    if node.count.is_zero and node.where is not None:
        yield Problem(
            f"{path}.where",
            f"a count of {node.count.kind} 0 cannot have a where "
            "(a zero count filters on no columns and no nested entities)",
        )
        return
    if node.where is not None:
        yield from _node_problems(
            node.where, f"{path}.where", replace(scope, place="entity", entity=rel)
        )


def _comparison_problems(
    node: Comparison, dtype: DataType, path: str, scope: _Scope
) -> Iterable[Problem]:
    op = node.operator
    if dtype not in OPERATOR_TYPES[op]:
        yield Problem(
            f"{path}.operator",
            f"operator {op!r} does not apply to a {dtype} "
            f"(it takes {', '.join(sorted(OPERATOR_TYPES[op]))})",
        )
        return
    if op in ("exists", "not_exists"):
        if node.value is not None or node.reference is not None:
            yield Problem(path, f"operator {op!r} takes no value and no reference")
        return
    if (node.value is None) == (node.reference is None):
        yield Problem(path, f"operator {op!r} needs exactly one of value or reference")
        return
    if node.reference is not None:
        yield from _reference_problems(node, dtype, path, scope)
    else:
        rule = _value_rule(op, dtype, node.value)
        if rule:
            yield Problem(f"{path}.value", rule)


def _reference_problems(
    node: Comparison, dtype: DataType, path: str, scope: _Scope
) -> Iterable[Problem]:
    ref, rpath = node.reference, f"{path}.reference"
    if node.operator not in REFERENCE_OPERATORS.get(dtype, frozenset()):
        yield Problem(
            f"{path}.operator",
            f"operator {node.operator!r} cannot compare a {dtype} with a reference",
        )
        return
    if isinstance(ref, TraitReference):
        ref_type = scope.graph.profile.traits.get(ref.trait)
        if ref_type is None:
            yield Problem(f"{rpath}.trait", f"unknown trait {ref.trait!r}")
            return
        name = f"trait {ref.trait!r}"
    else:
        assert isinstance(ref, ColumnReference)
        if not isinstance(node, ColumnCondition) or scope.entity is None:
            yield Problem(
                rpath, "a relationship/column reference is only allowed in a column condition"
            )
            return
        branch = {p.slug: p for p in scope.entity.ancestors()}
        target = branch.get(ref.relationship)
        if target is None:
            yield Problem(
                f"{rpath}.relationship",
                f"relationship {ref.relationship!r} is not "
                f"{scope.entity.slug!r} or one of its ancestors in this branch",
            )
            return
        ref_type = target.entity.columns.get(ref.column)
        if ref_type is None:
            yield Problem(
                f"{rpath}.column", f"unknown column {ref.column!r} of entity {target.entity.slug!r}"
            )
            return
        name = f"column {ref.relationship}.{ref.column}"
    if ref_type != dtype:
        yield Problem(rpath, f"{name} is a {ref_type}; it cannot be compared with a {dtype}")


def _value_rule(op: str, dtype: DataType, value: object) -> str | None:
    """Why ``value`` does not fit ``op`` on a ``dtype`` column, or None when it does."""
    if op in _DAY_OPS:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else f"{op} takes a whole number of days >= 0"
    if op in _DATE_OPS:
        rule = _iso_rule(value, "timestamp")
        return f"{op} takes an ISO-8601 date or timestamp" if rule == "" else rule
    if op in _TEXT_OPS:
        return None if isinstance(value, str) else f"{op} takes a string"
    if op in ("equals_any_of", "contains_any_of"):
        item_type: DataType = "string" if op == "contains_any_of" else dtype
        if not isinstance(value, list) or not value:
            return f"{op} takes a non-empty list"
        bad = [i for i, item in enumerate(value) if _scalar_rule(item_type, item)]
        return f"{op} takes a list of {item_type}s; item {bad[0]} is not one" if bad else None
    return _scalar_rule(dtype, value)


def _scalar_rule(dtype: DataType, value: object) -> str | None:
    if dtype == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif dtype == "boolean":
        ok = isinstance(value, bool)
    elif dtype == "string":
        ok = isinstance(value, str)
    else:
        rule = _iso_rule(value, dtype)
        if rule:  # well-formed text that names an unusable instant
            return rule
        ok = rule is None
    if ok:
        return None
    shape = {
        "date": "an ISO date (YYYY-MM-DD)",
        "time": "a time (HH:MM:SS)",
        "timestamp": "an ISO-8601 timestamp",
    }.get(dtype, f"a {dtype}")
    return f"expected {shape}, got {value!r}"


def _iso_rule(value: object, dtype: str) -> str | None:
    """None when ``value`` is ISO text of ``dtype``; ``""`` when it is not ISO text at all;
    else why the text cannot be used (a well-formed instant outside the years 1–9999)."""
    parse: Callable[[str], object] = {"date": parse_iso_date, "time": parse_iso_time}.get(
        dtype, parse_iso_timestamp
    )
    if not isinstance(value, str):
        return ""
    try:
        parse(value)
    except OutOfRange as exc:
        return str(exc)
    except ValueError:
        return ""
    return None


_PLACE_NAMES: dict[Place, str] = {
    "audience": "at audience level",
    "event": "inside an event's where",
    "entity": "inside an entity's where",
}

_PLACES: dict[type, tuple[Place, ...]] = {
    GroupCondition: ("audience", "event", "entity"),
    TraitCondition: ("audience",),
    AudienceCondition: ("audience",),
    EventCondition: ("audience",),
    EntityCondition: ("audience", "entity"),
    PropertyCondition: ("event",),
    ColumnCondition: ("entity",),
}

_NODE_CHECKS: dict[type, Callable[..., Iterable[Problem]]] = {
    GroupCondition: _check_group,
    TraitCondition: _check_trait,
    AudienceCondition: _check_audience,
    EventCondition: _check_event,
    EntityCondition: _check_entity,
    PropertyCondition: _check_property,
    ColumnCondition: _check_column,
}

__all__ = [
    "OPERATOR_TYPES",
    "REFERENCE_OPERATORS",
    "UNIVERSE_IDENTIFIER_TYPES",
    "DefinitionError",
    "audience_problems",
    "audience_references",
    "graph_problems",
    "validate_audience",
]
