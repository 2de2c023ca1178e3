"""The values of traits per profile, read from the warehouse: ``la.compute_traits``.

Useful to check what a computed or SQL trait says before an audience relies on it. The
answer has one row per profile of the universe (every profile with an identifier of a
known type, anonymous ids included), ordered by profile id, read lazily in batches; a
profile without any row behind a trait has its value over no rows (a count is 0, the rest
NULL). Stored traits may be asked for too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlglot import exp

from linked_audiences.catalog import inspect_graph
from linked_audiences.compiler import resolve_as_of
from linked_audiences.compiler.context import PROFILE_ID, CompileContext, col, cte_ref, ident
from linked_audiences.dialects import get_dialect
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.sql import select
from linked_audiences.warehouse import Warehouse

BATCH = 10_000


@dataclass
class TraitValues:
    """``columns`` (``profile_id`` then the traits asked for) and the rows: iterate for
    dicts (column → value), or call :meth:`tuples` for plain rows; either reads the
    warehouse lazily, once."""

    columns: list[str]
    as_of: datetime
    query: exp.Query
    _batches: Iterator[list[tuple[Any, ...]]] = field(repr=False)

    def tuples(self) -> Iterator[tuple[Any, ...]]:
        for batch in self._batches:
            yield from (tuple(row) for row in batch)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.tuples():
            yield dict(zip(self.columns, row, strict=True))


def trait_problems(graph: DataGraph, names: Sequence[str]) -> list[Problem]:
    """Unknown or repeated trait names (paths index the ``names`` list)."""
    problems: list[Problem] = []
    if not names:
        problems.append(Problem("$.traits", "name at least one trait"))
    seen: set[str] = set()
    for i, name in enumerate(names):
        if graph.trait_type(name) is None:
            problems.append(Problem(f"$.traits[{i}]", f"unknown trait {name!r}"))
        elif name in seen:
            problems.append(Problem(f"$.traits[{i}]", f"trait {name!r} is named twice"))
        seen.add(name)
    return problems


def traits_query(
    graph: DataGraph,
    dialect: str,
    names: Sequence[str],
    as_of: datetime | str | None = None,
    column_types: dict[str, dict[str, str]] | None = None,
) -> tuple[exp.Query, datetime]:
    """The SELECT of ``profile_id`` and the traits ``names`` for every universe profile."""
    problems = trait_problems(graph, names)
    if problems:
        raise DefinitionError(problems)
    moment = resolve_as_of(as_of)
    ctx = CompileContext(graph, get_dialect(dialect), moment, {}, column_types or {})
    universe = ctx.universe(include_anonymous=True)
    columns: list[exp.Expr] = [col("u", PROFILE_ID)]
    columns += [exp.alias_(ctx.trait("tr", n), n, quoted=True, copy=False) for n in names]
    join = exp.Join(
        this=cte_ref(ctx.TRAITS, "tr"),
        on=exp.EQ(this=col("tr", PROFILE_ID), expression=col("u", PROFILE_ID)),
        side="LEFT",
    )
    query = select(columns, cte_ref(universe, "u"), [join])
    query.set("order", exp.Order(expressions=[exp.Ordered(this=col("u", PROFILE_ID))]))
    ctes = [*ctx.traits_ctes(), *ctx.ctes]
    query.set(
        "with_",
        exp.With(
            expressions=[
                exp.CTE(this=body, alias=exp.TableAlias(this=ident(name))) for name, body in ctes
            ]
        ),
    )
    return query, moment


def compute_traits(
    graph: DataGraph,
    warehouse: Warehouse,
    names: Sequence[str],
    as_of: datetime | str | None = None,
) -> TraitValues:
    """The values of the traits ``names`` for every profile of the universe at ``as_of``
    (default now, UTC): windows of computed traits end at ``as_of``."""
    problems = trait_problems(graph, names)
    if problems:
        raise DefinitionError(problems)
    catalog = inspect_graph(graph, warehouse)
    query, moment = traits_query(graph, warehouse.dialect.name, names, as_of, catalog.column_types)
    catalog.names.apply(query)
    return TraitValues([PROFILE_ID, *names], moment, query, warehouse.fetch_batches(query, BATCH))


__all__ = ["TraitValues", "compute_traits", "traits_query"]
