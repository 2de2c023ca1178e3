"""Members per top-level condition: which block of a definition narrows it most.

A preview with blocks also counts each condition directly under the root group as if it
were the whole definition (a root that is not a group is one block). All blocks are member
sets of one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from linked_audiences.conditions import Audience, GroupCondition, iter_children
from linked_audiences.graph import DataGraph
from linked_audiences.insights import labels
from linked_audiences.insights.sets import member_sets
from linked_audiences.sql import named, select
from linked_audiences.warehouse import Warehouse


@dataclass(frozen=True)
class Block:
    path: str
    label: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "label": self.label, "count": self.count}


def block_counts(
    audience: Audience,
    graph: DataGraph,
    warehouse: Warehouse,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
) -> tuple[Block, ...]:
    """The member count of each top-level condition alone, in definition order."""
    root = audience.condition
    parts = (
        [("$.condition" + suffix, child) for suffix, child in iter_children(root)]
        if isinstance(root, GroupCondition)
        else [("$.condition", root)]
    )
    named_sets = {
        f"b{i}": audience.model_copy(update={"condition": node})
        for i, (_, node) in enumerate(parts)
    }
    sets = member_sets(named_sets, graph, warehouse, as_of=as_of, audiences=audiences)
    counts = [
        named(
            exp.Subquery(this=select([exp.Count(this=exp.Star())], sets.members(label, "s"))),
            f"n{i}",
        )
        for i, label in enumerate(named_sets)
    ]
    row = warehouse.fetchall(sets.query(exp.Select(expressions=counts)))[0]
    return tuple(
        Block(path, labels.label(node), int(n or 0))
        for (path, node), n in zip(parts, row, strict=True)
    )
