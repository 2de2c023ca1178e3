"""Every definition rule of data graphs and audiences, checked before any SQL exists.

Checks collect :class:`Problem`\\ s instead of stopping at the first, so a user sees all of a
definition's mistakes at once, each with the JSON path of the offending node and the rule.
Node checks are looked up by class in :data:`_NODE_CHECKS`; a new node kind adds one entry.
"""

from __future__ import annotations

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
)
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import (
    DataGraph,
    EventSource,
    RelationshipPath,
)
from linked_audiences.graph_validation import graph_problems
from linked_audiences.value_rules import DATE_OPS as _DATE_OPS
from linked_audiences.value_rules import DAY_OPS as _DAY_OPS
from linked_audiences.value_rules import TEXT_OPS as _TEXT_OPS
from linked_audiences.value_rules import value_rule

ALL_TYPES: frozenset[str] = frozenset({"string", "number", "boolean", "date", "time", "timestamp"})
_ORDERINGS = ("less_than", "greater_than", "less_than_or_equal", "greater_than_or_equal")

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
    if graph.trait_type(key) is not None:
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
    dtype = scope.graph.trait_type(node.trait)
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
        rule = value_rule(op, dtype, node.value)
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
        ref_type = scope.graph.trait_type(ref.trait)
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
