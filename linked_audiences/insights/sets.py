"""Member sets compiled against what the warehouse's catalog says, for every insight."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from linked_audiences.catalog import inspect_graph
from linked_audiences.compiler.many import MemberSets, compile_member_sets
from linked_audiences.conditions import Audience
from linked_audiences.graph import DataGraph
from linked_audiences.warehouse import Warehouse


def member_sets(
    named: Mapping[str, Audience],
    graph: DataGraph,
    warehouse: Warehouse,
    *,
    as_of: datetime | str | None,
    audiences: Sequence[Audience],
) -> MemberSets:
    """``named`` compiled as member-set CTEs, each date-like column compared as stored and
    each graph name spelled as the warehouse stores it (as previews and runs compile)."""
    catalog = inspect_graph(graph, warehouse)
    return compile_member_sets(
        named,
        graph,
        warehouse.dialect.name,
        as_of=as_of,
        audiences=audiences,
        column_types=catalog.column_types,
        names=catalog.names,
    )
