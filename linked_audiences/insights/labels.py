"""One line of text per condition node, as an analyst would read it aloud.

Blocks in a preview, nodes in an explanation and the notebook's trees name a node by this
line (its JSON path stays alongside for the exact reference).
"""

from __future__ import annotations

import json
from typing import Any

from linked_audiences.conditions import (
    AudienceCondition,
    ColumnCondition,
    ColumnReference,
    Condition,
    Count,
    EntityCondition,
    EventCondition,
    GroupCondition,
    ParentReference,
    PropertyCondition,
    TraitCondition,
    TraitReference,
    UsersCondition,
    Window,
)

_OPERATORS = {
    "equals": "=",
    "not_equals": "≠",
    "less_than": "<",
    "greater_than": ">",
    "less_than_or_equal": "≤",
    "greater_than_or_equal": "≥",
}


def kind(node: Condition) -> str:
    """``group`` nodes as ``and`` / ``or``; every other node by its ``type``."""
    if isinstance(node, GroupCondition):
        return node.operator
    return str(node.type)


def label(node: Condition) -> str:
    if isinstance(node, GroupCondition):
        return f"{'all' if node.operator == 'and' else 'any'} of {len(node.conditions)}"
    if isinstance(node, TraitCondition):
        text = f"trait {node.trait} {_compare(node.operator, node.value, node.reference)}"
        return _without(node.without, text)
    if isinstance(node, PropertyCondition):
        return f"property {node.property} {_compare(node.operator, node.value, node.reference)}"
    if isinstance(node, ColumnCondition):
        return f"column {node.column} {_compare(node.operator, node.value, node.reference)}"
    if isinstance(node, AudienceCondition):
        return _without(node.without, f"member of audience {node.key}")
    if isinstance(node, EventCondition):
        text = f"event {node.event!r} {_measure(node.count, node.aggregate)}{_window(node.window)}"
        return _without(node.without, text)
    if isinstance(node, EntityCondition):
        text = f"related {node.relationship} {_measure(node.count, node.aggregate)}"
        return _without(node.without, text)
    if isinstance(node, UsersCondition):
        return f"{node.quantifier} of the account's users"
    return str(getattr(node, "type", "node"))


def _without(without: bool, text: str) -> str:
    return f"without {text}" if without else text


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _compare(operator: str, value: Any, reference: Any) -> str:
    if isinstance(reference, TraitReference):
        other = f"trait {reference.trait}"
    elif isinstance(reference, ColumnReference):
        other = f"{reference.relationship}.{reference.column}"
    elif isinstance(reference, ParentReference):
        other = f"parent event's {reference.parent}"
    elif value is None:
        return operator.replace("_", " ")
    else:
        other = _value(value)
    return f"{_OPERATORS.get(operator, operator.replace('_', ' '))} {other}"


def _measure(count: Count, aggregate: Any) -> str:
    if aggregate is not None:
        of = aggregate.property or aggregate.column
        target = _compare(aggregate.operator, aggregate.value, aggregate.reference)
        return f"{aggregate.function}({of}) {target}"
    return f"{count.kind.replace('_', ' ')} {count.n}"


def _window(window: Window | None) -> str:
    if window is None:
        return ""
    if window.within_last_days is not None:
        return f" in the last {window.within_last_days} days"
    if window.within_days_after is not None:
        return f" within {window.within_days_after} days after its parent"
    assert window.between_days_ago is not None
    near, far = window.between_days_ago
    return f" between {near} and {far} days ago"
