"""JOINs that follow a nested relationship from a parent row to its entity's rows."""

from __future__ import annotations

from sqlglot import exp

from linked_audiences.compiler.keys import equal_columns
from linked_audiences.graph import RelationshipPath
from linked_audiences.sql import table


def nested_link_joins(
    rel: RelationshipPath, parent_row: str, row: str, junction_alias: str | None = None
) -> list[exp.Join]:
    """JOINs from a parent row to ``rel``'s rows (through the junction table if any, aliased
    ``junction_alias``: a flat subtree can reach one relationship twice). A composite
    ``join_on`` joins on all of its equalities."""
    junction = rel.relationship.junction_table
    if junction is None:
        pairs = [(child, parent) for parent, child in rel.join_pairs()]
        return [
            exp.Join(this=table(rel.entity.table, row), on=equal_columns(row, parent_row, pairs))
        ]
    left, right = rel.junction_pairs()
    j = junction_alias or f"j{rel.depth}"
    return [
        exp.Join(
            this=table(junction.table, j),
            on=equal_columns(j, parent_row, [(jc, parent) for parent, jc in left]),
        ),
        exp.Join(
            this=table(rel.entity.table, row),
            on=equal_columns(row, j, [(child, jc) for jc, child in right]),
        ),
    ]
