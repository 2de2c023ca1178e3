"""``la.preview``: how big an audience is, who is in it, and what made them match.

What an analyst looks at in a notebook before activating an audience: the member count,
a sample of profiles with their identifiers, and for the sample an explorer tree of matched
entities (at most ten per level, as Segment's explorer shows; six levels at most by the graph).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlglot import exp

from linked_audiences.catalog import inspect_graph
from linked_audiences.compiler import CompiledAudience
from linked_audiences.conditions import Audience
from linked_audiences.graph import DataGraph
from linked_audiences.insights.blocks import Block, block_counts
from linked_audiences.names import StoredNames
from linked_audiences.runs.events import Activation
from linked_audiences.runs.payloads import payload_preview
from linked_audiences.sql import col, in_list, select, table
from linked_audiences.validation import validate_audience
from linked_audiences.warehouse import Warehouse

EXPLORER_PER_LEVEL = 10


@dataclass(frozen=True)
class ExplorerNode:
    """One matched entity and, under it, its matched children grouped by relationship."""

    entity_id: str
    children: tuple[ExplorerGroup, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id, "children": [c.to_dict() for c in self.children]}


@dataclass(frozen=True)
class ExplorerGroup:
    """Matched entities of one relationship under one parent: the first ten, and the total."""

    relationship: str
    total: int
    shown: tuple[ExplorerNode, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "relationship": self.relationship,
            "total": self.total,
            "entities": [n.to_dict() for n in self.shown],
        }


@dataclass(frozen=True)
class Preview:
    audience_key: str
    as_of: datetime
    count: int
    sample: list[str]
    identifiers: dict[str, dict[str, list[str]]]
    entities: dict[str, tuple[ExplorerGroup, ...]]
    timings: dict[str, float] = field(default_factory=dict)
    #: ``account``: the sample holds account ids, and each one's tree its member profiles
    #: (under ``users``) instead of matched entities.
    level: str = "profile"
    #: With ``blocks=True``: the member count of each top-level condition alone.
    blocks: tuple[Block, ...] = ()
    #: With ``events=True``: per activation, the shape of the event a run will send
    #: (``trigger``, ``relationship``, ``type``, ``event``, ``fields``, ``payload``).
    events: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        member = "account_id" if self.level == "account" else "profile_id"
        return {
            "audience_key": self.audience_key,
            "level": self.level,
            "as_of": self.as_of.isoformat(),
            "count": self.count,
            "sample": [
                {
                    member: pid,
                    "identifiers": self.identifiers.get(pid, {}),
                    "entities": [g.to_dict() for g in self.entities.get(pid, ())],
                }
                for pid in self.sample
            ],
            **({"blocks": [b.to_dict() for b in self.blocks]} if self.blocks else {}),
            **({"events": list(self.events)} if self.events else {}),
            "timings_seconds": self.timings,
        }

    def _repr_html_(self) -> str:
        """A notebook shows the count, the sample and each member's collapsible tree."""
        from linked_audiences.notebook import preview_html

        return preview_html(self.to_dict())


def preview(
    audience: Audience,
    graph: DataGraph,
    warehouse: Warehouse,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
    sample: int = 10,
    blocks: bool = False,
    events: bool = False,
    activations: Sequence[Activation] | None = None,
) -> Preview:
    """Count the audience, sample ``sample`` members (lowest ids first, so it is repeatable)
    and draw their explorer trees; with ``blocks``, also count each top-level condition
    alone (which one narrows the audience most); with ``events``, the shape of each event
    the ``activations`` (default: a run's defaults) will send, enrichment fields included."""
    started = time.perf_counter()
    validate_audience(audience, graph, audiences)  # before the warehouse is asked anything
    shapes: tuple[dict[str, Any], ...] = ()
    if events:  # activation mistakes, too, before any SQL runs
        shapes = tuple(
            {**{k: v for k, v in s.items() if k != "example"}, "payload": s["example"]}
            for s in payload_preview(audience, graph, activations)
        )
    catalog = inspect_graph(graph, warehouse)
    compiled = catalog.compile(
        audience, graph, warehouse.dialect.name, as_of=as_of, audiences=audiences
    )
    timings = {"compile": time.perf_counter() - started}

    started = time.perf_counter()
    ids, count = _count_and_sample(compiled, warehouse, sample)
    timings["members"] = time.perf_counter() - started

    started = time.perf_counter()
    if compiled.level == "account":
        identifiers: dict[str, dict[str, list[str]]] = {}
        trees = _account_users(graph, warehouse, ids, compiled.names)
    else:
        identifiers = _identifiers(graph, warehouse, ids, compiled.names)
        explorer = compiled.explorer_expression(ids)
        rows = warehouse.fetchall(explorer) if explorer is not None and ids else []
        trees = build_trees(rows)
    timings["sample"] = time.perf_counter() - started
    counted: tuple[Block, ...] = ()
    if blocks:
        started = time.perf_counter()
        counted = block_counts(
            audience, graph, warehouse, as_of=compiled.as_of, audiences=audiences
        )
        timings["blocks"] = time.perf_counter() - started
    return Preview(
        audience.key,
        compiled.as_of,
        count,
        ids,
        identifiers,
        trees,
        timings,
        compiled.level,
        counted,
        shapes,
    )


def _count_and_sample(
    compiled: CompiledAudience, warehouse: Warehouse, n: int
) -> tuple[list[str], int]:
    """One pass over the members: the first ``n`` ids and, on every row, the total."""
    members = compiled.expression.subquery("a")
    total = exp.Window(this=exp.Count(this=exp.Star()))
    member = compiled.member_column
    query = exp.Select(
        expressions=[col("a", member), exp.alias_(total, "total", quoted=True)],
        from_=exp.From(this=members),
        order=exp.Order(expressions=[exp.Ordered(this=col("a", member))]),
        limit=exp.Limit(expression=exp.Literal.number(max(n, 1))),
    )
    rows = warehouse.fetchall(query)
    count = int(rows[0][1]) if rows else 0
    return [str(r[0]) for r in rows[:n]], count


def _identifiers(
    graph: DataGraph, warehouse: Warehouse, ids: list[str], names: StoredNames
) -> dict[str, dict[str, list[str]]]:
    key = graph.profile.key
    query = select(
        [col("i", key), col("i", "type"), col("i", "value")],
        table(graph.profile.identifiers_table, "i"),
        where=[
            in_list(col("i", key), ids),
            exp.Not(this=exp.Is(this=col("i", "value"), expression=exp.null())),
        ],
        distinct=True,
    )
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    rows = warehouse.fetchall(names.apply(query))
    for profile, kind, value in sorted(rows, key=lambda r: tuple(map(str, r))):
        found[str(profile)][str(kind)].append(str(value))
    return {p: dict(kinds) for p, kinds in found.items()}


def _account_users(
    graph: DataGraph, warehouse: Warehouse, ids: list[str], names: StoredNames
) -> dict[str, tuple[ExplorerGroup, ...]]:
    """Each sampled account's member profiles, as an explorer group ``users``."""
    accounts = graph.accounts
    if accounts is None or not ids:
        return {}
    m = accounts.memberships
    query = select(
        [col("m", m.account_key), col("m", m.profile_key)],
        table(accounts.memberships_table, "m"),
        where=[
            in_list(col("m", m.account_key), ids),
            exp.Not(this=exp.Is(this=col("m", m.profile_key), expression=exp.null())),
        ],
        distinct=True,
    )
    users: dict[str, set[str]] = defaultdict(set)
    for account, profile in warehouse.fetchall(names.apply(query)):
        users[str(account)].add(str(profile))
    return {
        account: (
            ExplorerGroup(
                "users",
                len(profiles),
                tuple(ExplorerNode(p) for p in sorted(profiles)[:EXPLORER_PER_LEVEL]),
            ),
        )
        for account, profiles in sorted(users.items())
    }


def build_trees(rows: list[tuple[Any, ...]]) -> dict[str, tuple[ExplorerGroup, ...]]:
    """Explorer trees from (profile, relationship, entity, parent relationship, parent id)."""
    children: dict[tuple[str, str | None, str | None], dict[str, set[str]]] = defaultdict(
        lambda: defaultdict(set)
    )
    for profile, rel, entity, parent_rel, parent_id in rows:
        children[(str(profile), parent_rel, parent_id)][rel].add(str(entity))

    def groups(
        profile: str, parent_rel: str | None, parent_id: str | None, depth: int
    ) -> tuple[ExplorerGroup, ...]:
        out = []
        for rel, entities in sorted(children.get((profile, parent_rel, parent_id), {}).items()):
            shown = tuple(
                ExplorerNode(e, groups(profile, rel, e, depth + 1) if depth < 6 else ())
                for e in sorted(entities)[:EXPLORER_PER_LEVEL]
            )
            out.append(ExplorerGroup(rel, len(entities), shown))
        return tuple(out)

    profiles = {key[0] for key in children}
    return {p: groups(p, None, None, 2) for p in sorted(profiles)}
