"""``la.estimate``: what the warehouse says an audience's query costs, before anything runs.

A preview or a run scans the tables the audience reads; on a warehouse billed by bytes
scanned that is worth knowing first. Each warehouse answers what it can without running the
query: BigQuery a dry run's bytes scanned (free), the others their ``EXPLAIN`` plan. The
query asked about is the audience's members query, the one a preview counts and every run
snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from linked_audiences.catalog import raise_on_mismatch
from linked_audiences.conditions import Audience
from linked_audiences.graph import DataGraph
from linked_audiences.validation import validate_audience
from linked_audiences.warehouse import Warehouse, WarehouseError


@dataclass(frozen=True)
class Estimate:
    """What ``dialect`` said about the members query: the bytes it would scan (None where
    the warehouse does not say), and its plan as text (None where it gave bytes instead)."""

    dialect: str
    bytes_scanned: int | None
    plan: str | None


def estimate(
    audience: Audience,
    graph: DataGraph,
    warehouse: Warehouse,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
) -> Estimate:
    """Compile ``audience`` for ``warehouse`` (with the column types its catalog reports)
    and ask the warehouse what the members query would cost, without running it.

    The definition is checked before the warehouse is asked anything, and a graph that does
    not match the catalog raises :class:`~linked_audiences.catalog.CatalogMismatch` with every
    problem, rather than the warehouse's first complaint about the query."""
    validate_audience(audience, graph, audiences)
    catalog = raise_on_mismatch(graph, warehouse)
    compiled = catalog.compile(
        audience, graph, warehouse.dialect.name, as_of=as_of, audiences=audiences
    )
    sql = warehouse.sql(compiled.expression)
    try:
        bytes_scanned, plan = warehouse.dialect.estimate(
            warehouse.connection, warehouse.fetchall, sql
        )
    except WarehouseError:
        raise
    except Exception as exc:  # a client call outside Warehouse (BigQuery's dry run)
        raise warehouse.error(exc) from exc
    return Estimate(warehouse.dialect.name, bytes_scanned, plan)


def format_estimate(result: Estimate) -> str:
    """One line of bytes, or a line naming the plan followed by the plan."""
    scanned = result.bytes_scanned
    if scanned is not None:
        return f"{result.dialect}: {scanned:,} bytes scanned ({_size(scanned)})"
    return f"{result.dialect}: query plan\n{result.plan or ''}".rstrip()


def _size(n: int) -> str:
    """``n`` bytes in the largest binary unit that keeps it at least 1 (1.5 GiB)."""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            break
        value /= 1024
    return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
