"""A profile's identifier of each type, picked as a run picks ``userId``.

A profile may have several emails or device ids; an export writes one per type, the same
one a run's events carry: the most recent when the identifiers table has a timestamp
column, else the greatest value.
"""

from __future__ import annotations

from sqlglot import exp

from linked_audiences.graph import DataGraph
from linked_audiences.sql import col, named, not_null, select, string, table

#: The picked identifiers' key column (one row per profile).
KEY = "k"


def picked_identifiers(
    graph: DataGraph,
    types: list[str],
    only: exp.Expr | None,
    names: list[str] | None = None,
) -> exp.Select:
    """One row per profile (of those ``only`` admits, a condition on ``i``'s key column):
    its key as :data:`KEY` and one column per type in ``types`` (NULL when it has none),
    named ``names`` (default ``id0``, ``id1``…: a type is any text, a column name is not)."""
    columns = names if names is not None else [f"id{n}" for n in range(len(types))]
    profile = graph.profile
    wanted: exp.Expr = exp.In(this=col("i", "type"), expressions=[string(t) for t in types])
    if only is not None:
        wanted = exp.and_(wanted, only)
    if profile.identifiers_timestamp:
        rank = exp.Window(
            this=exp.RowNumber(),
            partition_by=[col("i", profile.key), col("i", "type")],
            order=exp.Order(
                expressions=[
                    exp.Ordered(
                        this=col("i", profile.identifiers_timestamp), desc=True, nulls_first=False
                    ),
                    exp.Ordered(this=col("i", "value"), desc=True),
                ]
            ),
        )
        ranked = select(
            [
                named(col("i", profile.key), KEY),
                col("i", "type"),
                col("i", "value"),
                named(rank, "rn"),
            ],
            table(profile.identifiers_table, "i"),
            where=[wanted, not_null(col("i", "value"))],
        ).subquery("r")
        source: exp.Expr = ranked
        alias, key = "r", col("r", KEY)
        where: list[exp.Expr] = [exp.EQ(this=col("r", "rn"), expression=exp.Literal.number(1))]
    else:
        # MAX skips NULL values: no filter needed for them here.
        source, alias, key = table(profile.identifiers_table, "i"), "i", col("i", profile.key)
        where = [wanted]

    def pick(kind: str, name: str) -> exp.Expr:
        chosen = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=col(alias, "type"), expression=string(kind)),
                    true=col(alias, "value"),
                )
            ]
        )
        return named(exp.Max(this=chosen), name)

    return select(
        [named(key, KEY), *(pick(kind, name) for kind, name in zip(types, columns, strict=True))],
        source,
        where=where,
        group=[key],
    )
