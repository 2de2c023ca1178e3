"""``payload_preview``: per activation, the shape of the event it will send, without a
warehouse.

The example payload is built by the run's own payload builder
(:func:`linked_audiences.runs.events.payload`) with placeholders for what comes from the
data (``"<string>"``, ``"<number>"``, … by the graph's declared type), and evaluated by an
in-memory DuckDB: the shape shown is the shape sent, key order included.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlglot import exp

from linked_audiences.conditions import Audience
from linked_audiences.dialects import get_dialect
from linked_audiences.errors import DefinitionError
from linked_audiences.graph import DataGraph
from linked_audiences.runs.events import (
    EVENT_NAMES,
    Activation,
    activation_problems,
    default_activations,
    payload,
)
from linked_audiences.sql import string

__all__ = ["payload_preview"]

#: The as_of of every example: events carry the run's as_of as ``timestamp``.
EXAMPLE_AS_OF = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _placeholder(kind: str | None) -> str:
    return f"<{kind or 'value'}>"


def payload_preview(
    audience: Audience, graph: DataGraph, activations: Sequence[Activation] | None = None
) -> list[dict[str, Any]]:
    """One dict per activation (the defaults when none are given): ``trigger``,
    ``relationship``, ``type`` (track, identify, group), ``event`` (None for Identify and
    Group calls), ``fields`` (each field of the payload that comes from the data, as a dotted
    path, with its type from the graph: ``"string"``, ``"number"``, …, or ``None`` when the
    graph does not declare one) and ``example`` (the payload with placeholders)."""
    chosen = list(activations) if activations is not None else default_activations(audience)
    problems = activation_problems(chosen, graph, audience.level)
    if problems:
        raise DefinitionError(problems)
    import duckdb

    dialect = get_dialect("duckdb")
    shapes: list[dict[str, Any]] = []
    with duckdb.connect() as connection:
        for activation in chosen:
            built, fields = _example(dialect, audience, graph, activation)
            (text,) = connection.execute(built.sql(dialect="duckdb")).fetchone() or ("{}",)
            example = json.loads(text)
            shapes.append(
                {
                    "trigger": activation.trigger,
                    "relationship": activation.relationship,
                    "type": example["type"],
                    "event": example.get("event"),
                    "fields": fields,
                    "example": example,
                }
            )
    return shapes


def _example(
    dialect: Any, audience: Audience, graph: DataGraph, activation: Activation
) -> tuple[exp.Select, dict[str, str | None]]:
    trigger = activation.trigger
    group = trigger == "account_membership_changed"
    where = "traits" if trigger.endswith("membership_changed") else "properties"
    fields: dict[str, str | None] = {
        "userId": "string",
        "anonymousId": "string",
        "messageId": "string",
        "timestamp": "timestamp",
    }
    if group or trigger == "account_user_membership_changed":
        fields["groupId" if group else "context.groupId"] = "string"
    if group:  # Segment's Group call has no user: userId and anonymousId are NULL
        fields.pop("userId")
        fields.pop("anonymousId")
    fields[f"{where}.{audience.key}"] = "boolean"

    def value(kind: str | None) -> exp.Expr:
        return string(_placeholder(kind))

    traits: list[tuple[str, exp.Expr]] = []
    for t in activation.traits:
        if group:
            kind = graph.accounts.traits.get(t) if graph.accounts is not None else None
        else:
            kind = graph.trait_type(t)
        traits.append((t, value(kind)))
        fields[f"{where}.{t}"] = kind
    entity_columns: list[tuple[str, exp.Expr]] = []
    entity_id: exp.Expr | None = None
    if activation.relationship is not None:
        rel = graph.relationship(activation.relationship)
        assert rel is not None
        entity_id = value("string")
        fields["properties.entity_id"] = "string"
        for c in activation.entity_columns:
            kind = rel.entity.columns.get(c)
            entity_columns.append((c, value(kind)))
            fields[f"properties.{activation.relationship}__{c}"] = kind
    arrays: list[tuple[str, exp.Expr]] = []
    for enrichment in activation.entities:
        rel = graph.relationship(enrichment.relationship)
        assert rel is not None
        item: list[tuple[str, exp.Expr]] = []
        for c in enrichment.columns:
            kind = rel.entity.columns.get(c)
            item.append((c, value(kind)))
            fields[f"properties.{enrichment.relationship}[].{c}"] = kind
        item.append(("__entity", string(rel.entity.slug)))
        one = exp.Anonymous(this="JSON_ARRAY", expressions=[dialect.json_object(item)])
        arrays.append((enrichment.relationship, one))
    body = payload(
        dialect,
        audience,
        activation,
        EXAMPLE_AS_OF,
        message=value("string"),
        user_id=value("string") if not group else exp.null(),
        anonymous_id=value("string") if not group else exp.null(),
        member_now=exp.true(),
        traits=traits,
        entity_id=entity_id,
        entity_columns=entity_columns,
        arrays=arrays,
        group_id=value("string"),
    )
    assert EVENT_NAMES[trigger]  # every trigger has a name (Identify calls show none)
    return exp.select(body), fields
