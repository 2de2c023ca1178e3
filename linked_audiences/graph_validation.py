"""Every rule of a data graph, checked before any SQL exists: one Problem per mistake, with
its JSON path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from linked_audiences.errors import Problem
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

__all__ = ["graph_problems"]


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
