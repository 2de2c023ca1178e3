"""Compile work grows linearly with the definition (the size of the SQL is the measure here;
seconds belong in benchmarks/). Quadratic shapes used to come from copying every ancestor
group's condition into each entity node's matched-entities flag."""

from __future__ import annotations

from typing import Any

import pytest

import linked_audiences as la

AS_OF = "2026-11-01T00:00:00Z"


def _wide_audience(conditions: int, operator: str, width: int = 10) -> la.Audience:
    """``conditions`` leaves (traits and nested entities, alternating) in groups ``width`` wide."""
    entity = {
        "type": "entity",
        "relationship": "user-accounts",
        "where": {"type": "column", "column": "balance", "operator": "greater_than", "value": 5},
    }
    items: list[dict[str, Any]] = [
        {"type": "trait", "trait": "lifetime_value", "operator": "greater_than", "value": i}
        if i % 2
        else dict(entity)
        for i in range(conditions)
    ]
    while len(items) > width:
        items = [
            {"type": "group", "operator": operator, "conditions": items[i : i + width]}
            for i in range(0, len(items), width)
        ]
    condition = {"type": "group", "operator": operator, "conditions": items}
    return la.Audience.model_validate({"key": "wide", "name": "wide", "condition": condition})


@pytest.mark.parametrize("operator", ["and", "or"])
def test_sql_grows_linearly_with_the_definition(demo_graph: la.DataGraph, operator: str) -> None:
    sizes = []
    for n in (100, 400):
        compiled = la.compile(_wide_audience(n, operator), demo_graph, as_of=AS_OF)
        sizes.append(len(compiled.profiles_sql) + len(compiled.entities_sql))
    # 4x the conditions: about 4x the SQL (one more level of groups adds a little).
    assert sizes[1] / sizes[0] < 4.6, sizes


def test_and_groups_add_no_flags_to_matched_entities(demo_graph: la.DataGraph) -> None:
    """Under AND groups that hold, every entity node contributes: no per-node guard columns."""
    compiled = la.compile(_wide_audience(40, "and"), demo_graph, as_of=AS_OF)
    assert '"g0"' not in compiled.entities_sql
