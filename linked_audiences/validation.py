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
    Aggregate,
    Audience,
    AudienceCondition,
    ColumnCondition,
    ColumnReference,
    Comparison,
    Condition,
    EntityCondition,
    EventCondition,
    GroupCondition,
    ParentReference,
    PropertyCondition,
    TraitCondition,
    TraitReference,
    UsersCondition,
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

Place = Literal["audience", "event", "entity", "account"]

#: Most events in one funnel chain (the top event and its steps).
MAX_FUNNEL_EVENTS = 5

#: Which value types each aggregate function reads (``count_distinct``: any).
AGGREGATE_TYPES: dict[str, frozenset[str]] = {
    "sum": frozenset({"number"}),
    "avg": frozenset({"number"}),
    "min": frozenset({"number", "date", "timestamp"}),
    "max": frozenset({"number", "date", "timestamp"}),
    "count_distinct": ALL_TYPES,
}


# --------------------------------------------------------------------------------------------
# Audiences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """Where a node stands: what it may be, and what names it can see."""

    graph: DataGraph
    audiences: frozenset[str]
    place: Place = "audience"
    #: Keys of the known audiences whose members are accounts.
    account_audiences: frozenset[str] = frozenset()
    event: EventSource | None = None
    entity: RelationshipPath | None = None
    #: Inside a funnel step's where: the event of the row the step follows.
    parent_event: EventSource | None = None
    #: Events in the funnel chain down to (and including) ``event``.
    chain: int = 0


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

    accounts = frozenset(k for k, a in known.items() if a.level == "account")
    scope = _Scope(graph, frozenset(known), account_audiences=accounts)
    for key in _reachable(audience.key, known):
        source = None if key == audience.key else f"audience {key!r}"
        level = known[key].level
        if level == "account" and graph.accounts is None:
            rule = "an account audience needs the data graph's accounts (traits and memberships)"
            found = [Problem("$.level", rule)]
        else:
            place: Place = "account" if level == "account" else "audience"
            found = list(
                _node_problems(known[key].condition, "$.condition", replace(scope, place=place))
            )
        for problem in found:
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
        if column != key and (column in entity.columns or column in entity.key_columns):
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
    if scope.place == "account" and scope.place not in allowed and "audience" in allowed:
        yield Problem(
            path,
            f"in an account audience a {node.type!r} condition stands inside a 'users' node "
            "(it is about the account's member profiles)",
        )
        return
    if isinstance(node, UsersCondition) and scope.place == "audience":
        yield Problem(
            path,
            'a \'users\' condition belongs in an account audience ("level": "account"), '
            "at account level",
        )
        return
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
        return
    of_accounts = node.key in scope.account_audiences
    if scope.place == "account" and not of_accounts:
        yield Problem(
            f"{path}.key",
            f"audience {node.key!r} has profiles as members; at account level an audience "
            "condition names an account audience (or use it inside a 'users' node)",
        )
    elif scope.place != "account" and of_accounts:
        yield Problem(
            f"{path}.key",
            f"audience {node.key!r} has accounts as members; a profile-level audience "
            "condition names a profile audience",
        )


def _check_users(node: UsersCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    yield from _node_problems(node.where, f"{path}.where", replace(scope, place="audience"))


def _account_traits(scope: _Scope) -> dict[str, DataType]:
    accounts = scope.graph.accounts
    return dict(accounts.traits) if accounts is not None else {}


def _check_trait(node: TraitCondition, path: str, scope: _Scope) -> Iterable[Problem]:
    if scope.place == "account":
        account_type = _account_traits(scope).get(node.trait)
        if account_type is None:
            yield Problem(f"{path}.trait", f"unknown account trait {node.trait!r}")
        else:
            yield from _comparison_problems(node, account_type, path, scope)
        return
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
    step = scope.place == "event"
    chain = scope.chain + 1
    if chain > MAX_FUNNEL_EVENTS:
        yield Problem(
            path, f"a funnel chains at most {MAX_FUNNEL_EVENTS} events (this is event {chain})"
        )
        return
    window = node.window
    if step and window is not None and window.within_days_after is None:
        yield Problem(
            f"{path}.window",
            "a funnel step's only window is within_days_after (it counts from the parent "
            "event row, not from as_of)",
        )
    if not step and window is not None and window.within_days_after is not None:
        yield Problem(
            f"{path}.window.within_days_after",
            "within_days_after is a funnel step's window: it needs a parent event "
            "(use within_last_days or between_days_ago here)",
        )
    if node.aggregate is not None:
        parent = scope.event if step else None
        yield from _aggregate_problems(node, node.aggregate, path, scope, source, parent)
    if node.where is not None:
        inner = replace(
            scope,
            place="event",
            event=source,
            parent_event=scope.event if step else None,
            chain=chain,
        )
        yield from _node_problems(node.where, f"{path}.where", inner)


def _aggregate_problems(
    node: EventCondition | EntityCondition,
    aggregate: Aggregate,
    path: str,
    scope: _Scope,
    source: EventSource | RelationshipPath,
    parent_event: EventSource | None = None,
) -> Iterable[Problem]:
    """An aggregate's own rules: it replaces ``count``, reads a property (events) or a column
    (entities) of a type its function takes, and compares a value of the result's type."""
    apath = f"{path}.aggregate"
    if "count" in node.model_fields_set:
        yield Problem(f"{path}.count", "an aggregate replaces count; give one of them")
    is_event = isinstance(source, EventSource)
    field, other = ("property", "column") if is_event else ("column", "property")
    if getattr(aggregate, other) is not None:
        kind = "event" if is_event else "entity"
        yield Problem(
            f"{apath}.{other}", f"an aggregate over {kind} rows reads a {field}, not a {other}"
        )
        return
    name = getattr(aggregate, field)
    if name is None:
        yield Problem(apath, f"an aggregate needs the {field} it reads")
        return
    if isinstance(source, EventSource):
        resolved = source.property_column(name)
        dtype = resolved[1] if resolved is not None else None
        owner = f"event {source.name!r}"
    else:
        dtype = source.entity.columns.get(name)
        owner = f"entity {source.entity.slug!r}"
    if dtype is None:
        yield Problem(f"{apath}.{field}", f"unknown {field} {name!r} of {owner}")
        return
    function = aggregate.function
    if dtype not in AGGREGATE_TYPES[function]:
        yield Problem(
            f"{apath}.function",
            f"{function} does not apply to a {dtype} "
            f"(it takes {', '.join(sorted(AGGREGATE_TYPES[function]))})",
        )
        return
    result: DataType = "number" if function in ("sum", "avg", "count_distinct") else dtype
    yield from _comparison_problems(aggregate, result, apath, scope, parent_event)


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
    if node.aggregate is not None:
        yield from _aggregate_problems(node, node.aggregate, path, scope, rel)
    elif node.count.is_zero and node.where is not None:
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
    node: Comparison | Aggregate,
    dtype: DataType,
    path: str,
    scope: _Scope,
    parent_event: EventSource | None = None,
) -> Iterable[Problem]:
    """``parent_event``: the event a ``{"parent": …}`` reference reads (for an aggregate on a
    funnel step; property conditions of a step's where find it in ``scope``)."""
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
        yield from _reference_problems(node, dtype, path, scope, parent_event)
    else:
        rule = value_rule(op, dtype, node.value)
        if rule:
            yield Problem(f"{path}.value", rule)


def _reference_problems(
    node: Comparison | Aggregate,
    dtype: DataType,
    path: str,
    scope: _Scope,
    parent_event: EventSource | None = None,
) -> Iterable[Problem]:
    ref, rpath = node.reference, f"{path}.reference"
    if node.operator not in REFERENCE_OPERATORS.get(dtype, frozenset()):
        yield Problem(
            f"{path}.operator",
            f"operator {node.operator!r} cannot compare a {dtype} with a reference",
        )
        return
    if isinstance(ref, TraitReference) and scope.place == "account":
        ref_type = _account_traits(scope).get(ref.trait)
        if ref_type is None:
            yield Problem(f"{rpath}.trait", f"unknown account trait {ref.trait!r}")
            return
        name = f"account trait {ref.trait!r}"
    elif isinstance(ref, TraitReference):
        ref_type = scope.graph.trait_type(ref.trait)
        if ref_type is None:
            yield Problem(f"{rpath}.trait", f"unknown trait {ref.trait!r}")
            return
        name = f"trait {ref.trait!r}"
    elif isinstance(ref, ParentReference):
        parent = parent_event
        if parent is None and isinstance(node, PropertyCondition):
            parent = scope.parent_event
        if parent is None:
            yield Problem(
                rpath,
                "a parent reference is only allowed in a funnel step (an event inside an "
                "event's where), where it reads the parent event row",
            )
            return
        resolved = parent.property_column(ref.parent)
        if resolved is None:
            yield Problem(
                f"{rpath}.parent",
                f"unknown property {ref.parent!r} of the parent event {parent.name!r}",
            )
            return
        ref_type = resolved[1]
        name = f"parent property {ref.parent!r}"
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
    "account": "at account level",
}

_PLACES: dict[type, tuple[Place, ...]] = {
    GroupCondition: ("audience", "event", "entity", "account"),
    TraitCondition: ("audience", "account"),
    AudienceCondition: ("audience", "account"),
    UsersCondition: ("account",),
    EventCondition: ("audience", "event"),
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
    UsersCondition: _check_users,
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
