"""Every rule of a data graph, checked before any SQL exists: one Problem per mistake, with
its JSON path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from linked_audiences.conditions import walk
from linked_audiences.errors import Problem, path_part
from linked_audiences.graph import (
    MAX_DEPTH,
    DataGraph,
    Entity,
    Relationship,
    parse_join_on,
    parse_junction_left,
    parse_junction_right,
    relationship_json_paths,
)
from linked_audiences.graph_traits import BY_TIME, ComputedTrait

__all__ = ["derived_trait_problems", "graph_problems"]


def graph_problems(graph: DataGraph) -> list[Problem]:
    """All rule breaks of a data graph, in document order."""
    problems: list[Problem] = []
    add = problems.append
    entities = {e.slug: e for e in graph.entities}

    for i, e in enumerate(graph.entities):
        repeated = [c for c, n in Counter(e.key_columns).items() if n > 1]
        if repeated:
            add(
                Problem(
                    f"$.entities[{i}].primary_key",
                    f"the primary key names {repeated[0]!r} twice",
                )
            )

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
        yield from _join_on_problems(path, rel.join_on, entity, parent_entity)
    elif rel.junction_table is not None:
        junction = rel.junction_table
        for side, texts in (
            ("left_join_on", junction.left_join_on),
            ("right_join_on", junction.right_join_on),
        ):
            for where, text in _items(f"{path}.junction_table.{side}", texts):
                try:
                    if side == "left_join_on":
                        ref, _ = parse_junction_left(text)
                        want = parent_entity
                    else:
                        _, ref = parse_junction_right(text)
                        want = entity
                except ValueError as exc:
                    yield Problem(where, str(exc))
                    continue
                if want is not None and ref.slug != want.slug:
                    yield Problem(where, f"{side} must name {want.slug!r}, got {ref.slug!r}")


def _items(path: str, value: str | list[str]) -> list[tuple[str, str]]:
    """(JSON path, text) per equality: ``join_on`` itself, or ``join_on[i]`` of a list."""
    if isinstance(value, str):
        return [(path, value)]
    return [(f"{path}[{i}]", text) for i, text in enumerate(value)]


def _join_on_problems(
    path: str, join_on: str | list[str], entity: Entity | None, parent_entity: Entity | None
) -> Iterator[Problem]:
    """Each equality joins the parent entity and this one; no column pair repeats."""
    seen: set[tuple[str, str]] = set()
    for where, text in _items(f"{path}.join_on", join_on):
        try:
            left, right = parse_join_on(text)
        except ValueError as exc:
            yield Problem(where, str(exc))
            continue
        if parent_entity is None or entity is None:
            continue
        if {left.slug, right.slug} != {parent_entity.slug, entity.slug}:
            yield Problem(
                where,
                f"join_on must join {parent_entity.slug!r} and "
                f"{entity.slug!r}, got {left.slug!r} and {right.slug!r}",
            )
            continue
        pair = (left.column, right.column)
        if pair in seen:
            yield Problem(where, f"the equality {text!r} repeats")
        seen.add(pair)


# --------------------------------------------------------------------------------------------
# Computed and SQL traits (on a graph whose relationships are already sound)
# --------------------------------------------------------------------------------------------

#: Types each function can aggregate (absent: any type).
_FUNCTION_TYPES: dict[str, frozenset[str]] = {
    "sum": frozenset({"number"}),
    "avg": frozenset({"number"}),
    "min": frozenset({"number", "date", "time", "timestamp"}),
    "max": frozenset({"number", "date", "time", "timestamp"}),
    # Joined as text: only strings have one spelling on every warehouse.
    "unique_list": frozenset({"string"}),
}


def derived_trait_problems(graph: DataGraph) -> list[Problem]:
    """Rule breaks of computed and SQL traits: names, sources, functions and filters."""
    problems: list[Problem] = []
    stored = set(graph.profile.traits)
    for name, trait in graph.computed_traits.items():
        base = f"$.computed_traits{path_part(name)}"
        if name in stored:
            problems.append(Problem(base, f"{name!r} is also a stored trait"))
        problems.extend(_computed_problems(graph, trait, base))
    seen = {*stored, *graph.computed_traits}
    for i, sql in enumerate(graph.sql_traits):
        base = f"$.sql_traits[{i}]"
        if not sql.traits:
            problems.append(Problem(f"{base}.traits", "an SQL trait outputs at least one trait"))
        for name in sql.traits:
            where = f"{base}.traits{path_part(name)}"
            if name == sql.key:
                problems.append(Problem(where, f"{name!r} is the key column, not a trait"))
            elif name in seen:
                problems.append(Problem(where, f"trait {name!r} is already defined"))
            seen.add(name)
    return problems


def _computed_problems(graph: DataGraph, trait: ComputedTrait, base: str) -> Iterator[Problem]:
    if (trait.event is None) == (trait.relationship is None):
        yield Problem(base, "a computed trait needs exactly one of event or relationship")
        return
    if trait.event is not None:
        source = graph.event(trait.event)
        if source is None:
            yield Problem(f"{base}.event", f"unknown event {trait.event!r}")
            return
        if trait.column is not None:
            yield Problem(f"{base}.column", "an event trait aggregates a property, not a column")
            return
        what, kind = "property", "property"
        resolved = source.property_column(trait.property) if trait.property else None
        dtype = resolved[1] if resolved else None
        if trait.property is not None and resolved is None:
            rule = f"unknown property {trait.property!r} of event {source.name!r}"
            yield Problem(f"{base}.property", rule)
            return
    else:
        path = graph.trait_path(trait)
        if path is None:
            yield Problem(
                f"{base}.relationship",
                f"{trait.relationship!r} is not a path of relationship slugs from the "
                "profile, each nested in the one before (joined by '.')",
            )
            return
        if trait.property is not None:
            yield Problem(f"{base}.property", "a relationship trait aggregates a column")
            return
        if trait.window is not None:
            yield Problem(f"{base}.window", "a window applies to event traits only")
            return
        what, kind = "column", "column"
        dtype = path.entity.columns.get(trait.column) if trait.column else None
        if trait.column is not None and dtype is None:
            rule = f"unknown column {trait.column!r} of entity {path.entity.slug!r}"
            yield Problem(f"{base}.column", rule)
            return
        if trait.function in BY_TIME:
            yield Problem(
                f"{base}.function",
                f"{trait.function!r} picks a value by event time; it needs an event",
            )
            return
    if trait.field is None and trait.function != "count":
        yield Problem(f"{base}.function", f"function {trait.function!r} needs a {what}")
        return
    allowed = _FUNCTION_TYPES.get(trait.function)
    if dtype is not None and allowed is not None and dtype not in allowed:
        yield Problem(
            f"{base}.function",
            f"function {trait.function!r} does not apply to a {dtype} {kind} "
            f"(it takes {', '.join(sorted(allowed))})",
        )
        return
    if trait.where is not None:
        yield from _where_problems(graph, trait, f"{base}.where")


def _where_problems(graph: DataGraph, trait: ComputedTrait, path: str) -> Iterator[Problem]:
    """The filter, checked by the audience validator as an event's or entity's ``where``.

    References are refused: a computed trait reads events and entities only, so it can
    never depend on another trait (and no cycle among traits can exist)."""
    from dataclasses import replace

    from linked_audiences.validation import _node_problems, _Scope

    assert trait.where is not None
    for node_path, node in walk(trait.where, path):
        if getattr(node, "reference", None) is not None:
            yield Problem(
                f"{node_path}.reference",
                "a computed trait's where compares with values only (no references)",
            )
            return
    scope = _Scope(graph, frozenset())
    if trait.event is not None:
        scope = replace(scope, place="event", event=graph.event(trait.event))
    else:
        scope = replace(scope, place="entity", entity=graph.trait_path(trait))
    yield from _node_problems(trait.where, path, scope)
