"""An entity row's identity in SQL: its primary key, one column or several.

A composite key counts as one entity. Wherever the compiler needs one value per entity row —
distinct counts, the primary-key paths of matched entities, ``entity_id`` — it uses
:func:`entity_key`: the column itself for a one-column key (so those queries are unchanged),
else the key's columns in declared order, each cast to text, joined by ``|``.
"""

from __future__ import annotations

from sqlglot import exp

from linked_audiences.graph import Entity
from linked_audiences.sql import col, not_null, string

SEPARATOR = "|"


def entity_key(entity: Entity, alias: str) -> exp.Expr:
    """One value per entity row of ``alias`` (NULL when a key column is NULL)."""
    columns = entity.key_columns
    if len(columns) == 1:
        return col(alias, columns[0])
    parts: list[exp.Expr] = [exp.cast(col(alias, c), "TEXT") for c in columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = exp.DPipe(
            this=exp.DPipe(this=joined, expression=string(SEPARATOR), safe=True),
            expression=part,
            safe=True,
        )
    return joined


def key_present(entity: Entity, alias: str) -> list[exp.Expr]:
    """Every key column of the row is set: a row with a NULL key column relates to nothing."""
    return [not_null(col(alias, c)) for c in entity.key_columns]


def equal_columns(left_alias: str, right_alias: str, pairs: list[tuple[str, str]]) -> exp.Expr:
    """``left.a = right.b AND …`` for each (left column, right column) pair."""
    equalities = [exp.EQ(this=col(left_alias, a), expression=col(right_alias, b)) for a, b in pairs]
    return exp.and_(*equalities, copy=False) if len(equalities) > 1 else equalities[0]
