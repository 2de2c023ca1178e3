"""Activations (which events a run emits) and the event payloads, built inside the warehouse.

Payloads are JSON objects built by SQL in the same INSERT that finds the changes, so a
million-member backfill never passes through Python row by row; Python only streams the
finished text out for delivery. The shape follows Segment's Linked Audiences
payloads (SEGMENT-NOTES §3).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from linked_audiences.conditions import Audience, EntityCondition, walk
from linked_audiences.dialects import WarehouseDialect
from linked_audiences.errors import Problem
from linked_audiences.graph import DataGraph
from linked_audiences.sql import string

Trigger = Literal[
    "audience_entered",
    "audience_exited",
    "audience_membership_changed",
    "entity_added",
    "entity_removed",
    "entity_values_changed",
    "account_membership_changed",
    "account_user_membership_changed",
]
ENTITY_TRIGGERS = frozenset({"entity_added", "entity_removed", "entity_values_changed"})
#: Triggers of account audiences: a Group call per account that enters or exits, and an
#: Identify per member profile of such an account. Account audiences have no others.
ACCOUNT_TRIGGERS = frozenset({"account_membership_changed", "account_user_membership_changed"})

#: Segment's event names per trigger (Identify calls carry no event name).
EVENT_NAMES: dict[str, str] = {
    "audience_entered": "Audience Entered",
    "audience_exited": "Audience Exited",
    "audience_membership_changed": "Audience Membership Changed",
    "entity_added": "Entity Added",
    "entity_removed": "Entity Removed",
    "entity_values_changed": "Entity Values Changed",
    "account_membership_changed": "Account Membership Changed",
    "account_user_membership_changed": "Audience Membership Changed",
}

#: Segment skips events over 32 KB; so do we, and count them.
MAX_EVENT_BYTES = 32 * 1024


class EntityEnrichment(BaseModel):
    """Matched entities of a relationship, sent as an array of objects under its slug."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    relationship: str
    columns: list[str] = Field(min_length=1)


class Activation(BaseModel):
    """One trigger to emit, with its target relationship and enrichment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: Trigger
    relationship: str | None = Field(None, description="Target relationship (entity triggers).")
    traits: list[str] = Field(
        default_factory=list,
        description="Profile traits to include (account traits on a Group call).",
    )
    entity_columns: list[str] = Field(
        default_factory=list,
        description="Columns of the target entity, flattened as <relationship>__<column>.",
    )
    entities: list[EntityEnrichment] = Field(
        default_factory=list,
        description="Other matched entities of the profile, as arrays under their slug.",
    )

    @model_validator(mode="after")
    def _target(self) -> Activation:
        needs = self.trigger in ENTITY_TRIGGERS
        if needs and self.relationship is None:
            raise ValueError(f"trigger {self.trigger!r} needs a relationship")
        if not needs and (self.relationship is not None or self.entity_columns):
            raise ValueError(f"trigger {self.trigger!r} takes no relationship or entity columns")
        return self

    @property
    def event_name(self) -> str:
        return EVENT_NAMES[self.trigger]


def default_activations(audience: Audience) -> list[Activation]:
    """By default: every trigger but Entity Values Changed, entity ones per named relationship
    (for an account audience: the Group call and the members' Identify calls)."""
    if audience.level == "account":
        return [Activation(trigger=t) for t in sorted(ACCOUNT_TRIGGERS)]
    activations = [
        Activation(trigger="audience_entered"),
        Activation(trigger="audience_exited"),
        Activation(trigger="audience_membership_changed"),
    ]
    slugs: list[str] = []
    for _, node in walk(audience.condition):
        if isinstance(node, EntityCondition) and node.relationship not in slugs:
            slugs.append(node.relationship)
    for slug in slugs:
        activations += [
            Activation(trigger="entity_added", relationship=slug),
            Activation(trigger="entity_removed", relationship=slug),
        ]
    return activations


def message_id(parts: list[exp.Expr]) -> exp.Expr:
    """MD5 of (audience, run, trigger, profile, relationship, entity): a re-sent event keeps
    its id, and two different changes never share one.

    Each part is written as ``<length>:<text>`` (NULL as ``~``), so the joined text can be
    split back into its parts only one way: ``a|b`` + ``c`` and ``a`` + ``b|c`` differ, as
    do NULL, ``''`` and ``'~'``.
    """
    pieces: list[exp.Expr] = []
    for part in parts:
        text = exp.cast(part, "TEXT")
        length = exp.cast(exp.Length(this=text.copy()), "TEXT")
        framed = exp.DPipe(
            this=exp.DPipe(this=length, expression=string(":")), expression=text, safe=True
        )
        pieces.append(exp.Coalesce(this=framed, expressions=[string("~")]))
    return exp.MD5(this=exp.Concat(expressions=pieces, safe=True, coalesce=False))


def iso_timestamp(moment: datetime) -> str:
    """``2026-11-01T00:00:00.000Z``: the form Segment's API documents."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def payload(
    dialect: WarehouseDialect,
    audience: Audience,
    activation: Activation,
    as_of: datetime,
    *,
    message: exp.Expr,
    user_id: exp.Expr,
    anonymous_id: exp.Expr,
    member_now: exp.Expr,
    traits: list[tuple[str, exp.Expr]],
    entity_id: exp.Expr | None = None,
    entity_columns: list[tuple[str, exp.Expr]] | None = None,
    arrays: list[tuple[str, exp.Expr]] | None = None,
    group_id: exp.Expr | None = None,
) -> exp.Expr:
    """The event as JSON text. ``member_now`` is the ``<audience key>: true|false`` value;
    ``group_id`` the account of a Group call."""
    j = dialect.json_object
    personas = j(
        [("computation_key", string(audience.key)), ("computation_class", string("audience"))]
    )
    context: list[tuple[str, exp.Expr]] = [("personas", personas)]
    if activation.trigger == "account_user_membership_changed":
        # Segment's context.groupId: which account's change this member's Identify reports
        # (a profile in two changed accounts gets one per account).
        assert group_id is not None
        context.insert(0, ("groupId", group_id))
    head: list[tuple[str, exp.Expr]] = [
        ("userId", user_id),
        ("anonymousId", anonymous_id),
        ("timestamp", string(iso_timestamp(as_of))),
        ("messageId", message),
        ("context", j(context)),
    ]
    if activation.trigger in ("audience_membership_changed", "account_user_membership_changed"):
        body = j([(audience.key, member_now), *traits])
        return dialect.json_text(j([("type", string("identify")), *head, ("traits", body)]))
    if activation.trigger == "account_membership_changed":
        assert group_id is not None
        body = j([(audience.key, member_now), *traits])
        group = [("type", string("group")), ("groupId", group_id), *head, ("traits", body)]
        return dialect.json_text(j(group))
    properties: list[tuple[str, exp.Expr]] = [
        ("audience_key", string(audience.key)),
        ("audience_name", string(audience.name)),
        (audience.key, member_now),
        *traits,
    ]
    if activation.relationship is not None and entity_id is not None:
        properties += [("relationship", string(activation.relationship)), ("entity_id", entity_id)]
        properties += [(f"{activation.relationship}__{c}", v) for c, v in entity_columns or []]
    properties += arrays or []
    return dialect.json_text(
        j(
            [
                ("type", string("track")),
                ("event", string(activation.event_name)),
                *head,
                ("properties", j(properties)),
            ]
        )
    )


def activation_problems(
    activations: list[Activation], graph: DataGraph, level: str = "profile"
) -> list[Problem]:
    """Activations name relationships, traits and columns of the graph, and each (trigger,
    relationship) once: its changes share their messageIds, so a second activation of it
    would send every change twice, with two payloads under one id. An account audience
    (``level``) has only the account triggers, a profile audience none of them."""
    problems: list[Problem] = []
    first: dict[tuple[str, str | None], int] = {}
    for i, activation in enumerate(activations):
        path = f"$.activations[{i}]"
        if (activation.trigger in ACCOUNT_TRIGGERS) != (level == "account"):
            kinds = (
                f"an account audience's triggers are {' and '.join(sorted(ACCOUNT_TRIGGERS))}"
                if level == "account"
                else f"{activation.trigger!r} is a trigger of account audiences"
            )
            problems.append(Problem(f"{path}.trigger", kinds))
            continue
        target = (activation.trigger, activation.relationship)
        if target in first:
            of = f" of relationship {activation.relationship!r}" if activation.relationship else ""
            problems.append(
                Problem(
                    path,
                    f"trigger {activation.trigger!r}{of} is already activated by "
                    f"$.activations[{first[target]}]; each change is sent once, so merge "
                    "their enrichment",
                )
            )
        first.setdefault(target, i)
        for t in activation.traits:
            if activation.trigger == "account_membership_changed":
                known = graph.accounts.traits if graph.accounts is not None else {}
                if t not in known:
                    problems.append(Problem(f"{path}.traits", f"unknown account trait {t!r}"))
            elif graph.trait_type(t) is None:
                problems.append(Problem(f"{path}.traits", f"unknown trait {t!r}"))
        targets = (
            [(f"{path}", activation.relationship, activation.entity_columns)]
            if (activation.relationship)
            else []
        )
        targets += [
            (f"{path}.entities[{j}]", e.relationship, e.columns)
            for j, e in enumerate(activation.entities)
        ]
        for where, slug, columns in targets:
            rel = graph.relationship(slug) if slug else None
            if rel is None:
                problems.append(Problem(f"{where}.relationship", f"unknown relationship {slug!r}"))
                continue
            for c in columns:
                if c not in rel.entity.columns and c not in rel.entity.key_columns:
                    problems.append(
                        Problem(where, f"unknown column {c!r} of entity {rel.entity.slug!r}")
                    )
    return problems
