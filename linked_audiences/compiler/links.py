"""JOINs that follow a nested relationship from a parent row to its entity's rows."""

from __future__ import annotations

from sqlglot import exp

from linked_audiences.compiler.context import col
from linked_audiences.graph import RelationshipPath
from linked_audiences.sql import table


def nested_link_joins(
    rel: RelationshipPath, parent_row: str, row: str, junction_alias: str | None = None
) -> list[exp.Join]:
    """JOINs from a parent row to ``rel``'s rows (through the junction table if any, aliased
    ``junction_alias``: a flat subtree can reach one relationship twice)."""
    junction = rel.relationship.junction_table
    if junction is None:
        parent_col, child_col = rel.join_columns()
        return [
            exp.Join(
                this=table(rel.entity.table, row),
                on=exp.EQ(this=col(row, child_col), expression=col(parent_row, parent_col)),
            )
        ]
    parent_col, left, right, child_col = rel.junction_columns()
    j = junction_alias or f"j{rel.depth}"
    return [
        exp.Join(
            this=table(junction.table, j),
            on=exp.EQ(this=col(j, left), expression=col(parent_row, parent_col)),
        ),
        exp.Join(
            this=table(rel.entity.table, row),
            on=exp.EQ(this=col(row, child_col), expression=col(j, right)),
        ),
    ]
