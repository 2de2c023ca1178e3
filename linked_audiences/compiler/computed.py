"""Computed traits as CTEs keyed by profile, folded with stored and SQL traits into one
traits CTE that every reader of a trait joins.

Each computed trait is one CTE (``k0`` = profile, ``v`` = value) built from the same pieces
as event and entity conditions: the event's rows in its window up to ``as_of`` (or the rows a
relationship path reaches, each last-level row once per profile), filtered by the trait's
``where``, aggregated. The traits CTE then has a row for every profile that has a stored row
*or* any derived value, so a profile without a traits row still sees its computed values;
counts read as 0 where a profile has no row at all (:meth:`CompileContext.trait`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from linked_audiences.compiler.context import PROFILE_ID, CompileContext, col, cte_ref, string
from linked_audiences.compiler.keys import entity_key, key_present
from linked_audiences.compiler.membership import Membership, entity_rows
from linked_audiences.compiler.scope import Scope
from linked_audiences.compiler.sql_traits import sql_trait_select
from linked_audiences.datatypes import DataType
from linked_audiences.graph_traits import ComputedTrait
from linked_audiences.sql import not_null, select, table

#: The stored traits, when derived traits are folded in next to them.
STORED = "la_traits_stored"

_ORDERINGS = {"first": False, "last": True}  # latest first for ``last``


def derived_traits_ctes(ctx: CompileContext, derived: list[str]) -> list[tuple[str, exp.Query]]:
    """The CTEs of the traits ``derived`` (computed and SQL) and the traits CTE over all.

    Relationship paths that start from a trait-linked relationship read the *stored* traits
    (a link is always a stored trait), so while the derived CTEs are built the context's
    traits CTE is the stored one; it cannot be the full one, which is built from them.
    """
    graph = ctx.graph
    parts: list[tuple[str, exp.Query, list[str]]] = []
    ctx.TRAITS = STORED
    try:
        for i, name in enumerate(n for n in derived if n in graph.computed_traits):
            body = computed_select(ctx, graph.computed_traits[name])
            parts.append((f"la_trait{i + 1}", body, [name]))
        for i, sql in enumerate(graph.sql_traits):
            names = [n for n in sql.traits if n in derived]
            if names:
                parts.append((f"la_sql_trait{i + 1}", sql_trait_select(ctx, i, names), names))
    finally:
        del ctx.TRAITS  # back to the class's name for the full traits CTE
    stored = sorted(n for n in ctx.traits_used if n in graph.profile.traits)
    ctes: list[tuple[str, exp.Query]] = []
    # (cte, its key column, [(trait, the cte's column holding it)])
    sources: list[tuple[str, str, list[tuple[str, str]]]] = []
    if stored:
        ctes += ctx.stored_traits_ctes(stored, STORED)
        sources.append((STORED, PROFILE_ID, [(t, t) for t in stored]))
    for name, query, names in parts:
        ctes.append((name, query))
        computed = name.startswith("la_trait")
        sources.append((name, "k0", [(t, "v" if computed else t) for t in names]))
    keys: exp.Query | None = None
    for cte, key, _ in sources:
        part: exp.Query = select(
            [exp.alias_(col("s", key), PROFILE_ID, quoted=True, copy=False)],
            cte_ref(cte, "s"),
            where=[not_null(col("s", key))],
        )
        keys = part if keys is None else exp.union(keys, part, distinct=True, copy=False)
    assert keys is not None
    columns: list[exp.Expr] = [col("p", PROFILE_ID)]
    joins: list[exp.Join] = []
    for n, (cte, key, held) in enumerate(sources):
        alias = f"d{n}"
        joins.append(
            exp.Join(
                this=cte_ref(cte, alias),
                on=exp.EQ(this=col(alias, key), expression=col("p", PROFILE_ID)),
                side="LEFT",
            )
        )
        columns += [exp.alias_(col(alias, c), t, quoted=True, copy=False) for t, c in held]
    full = select(columns, _subquery(keys, "p"), joins)
    return [*ctes, (ctx.TRAITS, full)]


def computed_select(ctx: CompileContext, trait: ComputedTrait) -> exp.Select:
    """``k0`` (profile), ``v`` (the trait's value) for every profile with a matching row."""
    rows, dtype = _event_rows(ctx, trait) if trait.event is not None else _entity_rows(ctx, trait)
    source = _subquery(rows, "r")
    return _AGGREGATES[trait.function](ctx, trait, source, dtype)


def _event_rows(ctx: CompileContext, trait: ComputedTrait) -> tuple[exp.Select, DataType | None]:
    """``k0``, ``t`` (timestamp), ``v`` of the profile's matching events, up to ``as_of``."""
    source = ctx.graph.event(trait.event or "")
    assert source is not None
    membership = Membership(ctx)
    profile, joins = ctx.event_profile(source, "ev", "g")
    scope = Scope(ctx, profile, [profile], joins=joins, event=source)
    ts = col("ev", source.timestamp)
    storage = ctx.storage(source.table, source.timestamp, "timestamp")
    where = [not_null(profile), not_null(ts), *membership.window(ts, trait.window, storage)]
    if source.event_column is not None:
        where.append(exp.EQ(this=col("ev", source.event_column), expression=string(source.name)))
    if trait.where is not None:
        where.append(membership.condition(trait.where, scope, {}, required=True))
    value: exp.Expr = exp.null()
    dtype: DataType | None = None
    if trait.property is not None:
        resolved = source.property_column(trait.property)
        assert resolved is not None
        column, dtype = resolved
        value = ctx.as_declared(col("ev", column), dtype, ctx.storage(source.table, column, dtype))
    columns = [
        exp.alias_(profile.copy(), "k0", quoted=True, copy=False),
        exp.alias_(ts.copy(), "t", quoted=True, copy=False),
        exp.alias_(value, "v", quoted=True, copy=False),
    ]
    return select(columns, table(source.table, "ev"), scope.joins, where), dtype


def _entity_rows(ctx: CompileContext, trait: ComputedTrait) -> tuple[exp.Select, DataType | None]:
    """``k0``, ``id``, ``v``: each last-level row once per profile (by primary key)."""
    rel = ctx.graph.trait_path(trait)
    assert rel is not None
    source = entity_rows(ctx, rel, path_mode=True)
    profile = source.keys[0]
    pk = entity_key(rel.entity, source.scope.row)
    where = [*source.conditions, not_null(profile), *key_present(rel.entity, source.scope.row)]
    if trait.where is not None:
        where.append(Membership(ctx).condition(trait.where, source.scope, {}, required=True))
    value: exp.Expr = exp.null()
    dtype: DataType | None = None
    if trait.column is not None:
        dtype = rel.entity.columns[trait.column]
        storage = ctx.storage(rel.entity.table, trait.column, dtype)
        value = ctx.as_declared(col(source.scope.row, trait.column), dtype, storage)
    columns = [
        exp.alias_(profile.copy(), "k0", quoted=True, copy=False),
        exp.alias_(pk, "id", quoted=True, copy=False),
        exp.alias_(value, "v", quoted=True, copy=False),
    ]
    return select(columns, source.from_, source.scope.joins, where, distinct=True), dtype


def _subquery(query: exp.Query, alias: str) -> exp.Subquery:
    return exp.Subquery(
        this=query, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))
    )


# -- aggregates -------------------------------------------------------------------------------


def _rv() -> exp.Column:
    return col("r", "v")


def _grouped(source: exp.Expr, value: exp.Expr, where: list[exp.Expr] | None = None) -> exp.Select:
    return select(
        [col("r", "k0"), exp.alias_(value, "v", quoted=True, copy=False)],
        source,
        where=where,
        group=[col("r", "k0")],
    )


def _count(
    ctx: CompileContext, trait: ComputedTrait, source: exp.Expr, _: DataType | None
) -> exp.Select:
    counted: exp.Expr = exp.Star() if trait.field is None else _rv()
    return _grouped(source, exp.Count(this=counted))


def _simple(kind: type[exp.Func]) -> Callable[..., exp.Select]:
    def build(
        ctx: CompileContext, trait: ComputedTrait, source: exp.Expr, _: DataType | None
    ) -> exp.Select:
        return _grouped(source, kind(this=_rv()))

    return build


def _count_distinct(
    ctx: CompileContext, trait: ComputedTrait, source: exp.Expr, _: DataType | None
) -> exp.Select:
    return _grouped(source, exp.Count(this=exp.Distinct(expressions=[_rv()])))


def _unique_list(
    ctx: CompileContext, trait: ComputedTrait, source: exp.Expr, dtype: DataType | None
) -> exp.Select:
    """Distinct non-NULL values sorted by code point, joined by ``,`` (NULL when none)."""
    return _grouped(source, _string_list(ctx, _rv()), where=[not_null(_rv())])


def _first_last(
    ctx: CompileContext, trait: ComputedTrait, source: exp.Expr, dtype: DataType | None
) -> exp.Select:
    """The value on the earliest (latest) event; among events at that instant, the greatest
    value (a NULL only when every tied value is NULL)."""
    order = [
        exp.Ordered(this=col("r", "t"), desc=_ORDERINGS[trait.function], nulls_first=False),
        exp.Ordered(this=_ordered_value(ctx, _rv(), dtype), desc=True, nulls_first=False),
    ]
    return _top_one(source, [col("r", "k0"), _rv()], order)


def _most_frequent(
    ctx: CompileContext, trait: ComputedTrait, source: exp.Expr, dtype: DataType | None
) -> exp.Select:
    """The non-NULL value on most rows; ties go to the smaller value."""
    counts = select(
        [
            col("r", "k0"),
            col("r", "v"),
            exp.alias_(exp.Count(this=exp.Star()), "c", quoted=True, copy=False),
        ],
        source,
        where=[not_null(_rv())],
        group=[col("r", "k0"), _rv()],
    )
    order = [
        exp.Ordered(this=col("r", "c"), desc=True, nulls_first=False),
        exp.Ordered(this=_ordered_value(ctx, _rv(), dtype), nulls_first=True),
    ]
    return _top_one(_subquery(counts, "r"), [col("r", "k0"), _rv()], order)


def _top_one(source: exp.Expr, columns: list[exp.Expr], order: list[exp.Ordered]) -> exp.Select:
    """Per profile, the columns of the first row in ``order``."""
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[col("r", "k0")],
        order=exp.Order(expressions=order),
    )
    ranked = select([*columns, exp.alias_(rank, "n", quoted=True, copy=False)], source)
    outer = _subquery(ranked, "o")
    return select(
        [col("o", "k0"), col("o", "v")],
        outer,
        where=[exp.EQ(this=col("o", "n"), expression=exp.Literal.number(1))],
    )


def _ordered_value(ctx: CompileContext, value: exp.Expr, dtype: DataType | None) -> exp.Expr:
    """Text ordered by code point: PostgreSQL orders by the database's collation unless told
    ``C``; the other warehouses compare UTF-8 bytes (code-point order) by default."""
    if dtype == "string" and ctx.dialect.name == "postgres":
        return exp.Collate(this=value, expression=exp.to_identifier("C", quoted=True))
    return value


def _string_list(ctx: CompileContext, value: exp.Expr) -> exp.Expr:
    """Distinct values sorted by code point, joined by ``,``, as each warehouse spells it."""
    sep = string(",")
    v = _ordered_value(ctx, value, "string")
    name = ctx.dialect.name
    if name == "databricks":
        # ARRAY_SORT orders strings by their UTF-8 bytes; an empty set never reaches here
        # (the rows are non-NULL values, grouped by profile).
        return exp.ArrayToString(
            this=exp.ArraySort(this=exp.ArrayUniqueAgg(this=v)), expression=sep
        )
    ordered = exp.Ordered(this=v.copy(), nulls_first=True)
    if name == "redshift":
        return exp.WithinGroup(
            this=exp.GroupConcat(this=exp.Distinct(expressions=[v]), separator=sep),
            expression=exp.Order(expressions=[ordered]),
        )
    return exp.GroupConcat(
        this=exp.Order(this=exp.Distinct(expressions=[v]), expressions=[ordered]), separator=sep
    )


_AGGREGATES: dict[
    str, Callable[[CompileContext, ComputedTrait, exp.Expr, DataType | None], exp.Select]
] = {
    "count": _count,
    "sum": _simple(exp.Sum),
    "avg": _simple(exp.Avg),
    "min": _simple(exp.Min),
    "max": _simple(exp.Max),
    "count_distinct": _count_distinct,
    "first": _first_last,
    "last": _first_last,
    "most_frequent": _most_frequent,
    "unique_list": _unique_list,
}

__all__ = ["STORED", "computed_select", "derived_traits_ctes"]
