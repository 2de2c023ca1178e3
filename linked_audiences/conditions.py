"""The audience definition: a typed condition tree, discriminated on ``type``.

The models check shape only (field names, value kinds, count and window forms). Whether a
definition makes sense against a data graph — names resolve, operators fit types, references
stay in their branch — is :mod:`linked_audiences.validation`'s job, so that every problem can
be reported with its JSON path in one pass.

New node kinds (funnels, account-level conditions, …) join :data:`Condition` as one more
class with its own ``type`` literal; the validator and compiler dispatch on the class.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationInfo,
    model_serializer,
    model_validator,
)

from linked_audiences import documents
from linked_audiences.errors import DefinitionError, Problem

ComparisonOperator = Literal[
    "equals",
    "not_equals",
    "less_than",
    "greater_than",
    "less_than_or_equal",
    "greater_than_or_equal",
]
"""Equality and the orderings: what an aggregate may be compared by."""

Operator = Literal[
    ComparisonOperator,
    "equals_any_of",
    "contains_any_of",
    "contains",
    "does_not_contain",
    "starts_with",
    "ends_with",
    "exists",
    "not_exists",
    "before_date",
    "after_date",
    "within_last",
    "within_next",
    "before_last",
    "after_next",
]

INT64_MAX = 2**63 - 1
"""Largest whole number every warehouse stores as an integer."""

#: Deepest nesting of condition nodes (a group or an entity's where adds a level).
MAX_CONDITION_DEPTH = 64
#: Most condition nodes in one audience definition.
MAX_CONDITIONS = 10_000

#: Names of the properties every run event carries next to ``<audience key>: true|false``.
RESERVED_KEYS = frozenset({"audience_key", "audience_name", "relationship", "entity_id"})


def _plain_value(value: Any) -> Any:
    """A value no engine reads differently: finite, no NUL, integers beyond 64 bits as floats.

    JSON has one number type; an integer too large for BIGINT is still a valid number (it
    fits a 64-bit float), so it is kept as the float every warehouse can compare with.
    """
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        rule = documents.text_rule(item) if isinstance(item, str) else documents.number_rule(item)
        if rule:
            where = f"item {i}: " if isinstance(value, list) else ""
            raise ValueError(where + (f"the text {rule}" if isinstance(item, str) else rule))
    if isinstance(value, list):
        return [_wide_int(item) for item in value]
    return _wide_int(value)


def _wide_int(value: Any) -> Any:
    big = isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX
    return float(value) if big else value


Scalar = bool | int | float | str
"""A literal a condition compares with. ``bool`` first, so JSON ``true`` stays a boolean."""

Value = Annotated[Scalar | list[Scalar], AfterValidator(_plain_value)]

#: A JSON boolean: ``1``, ``"false"`` and ``"yes"`` are not (pydantic's lax mode took them).
Flag = Annotated[bool, Strict()]

#: A whole number in a count or a window: JSON integers only (``true`` and ``"2"`` are not).
Whole = Annotated[int, Strict(), Field(le=INT64_MAX)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_serializer(mode="wrap")
    def _keep_type(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Always write the ``type`` tag, even with ``exclude_defaults``: without it a dumped
        definition could not be read back."""
        data = handler(self)
        tag = getattr(self, "type", None)
        if isinstance(data, dict) and isinstance(tag, str) and "type" not in data:
            return {"type": tag, **data}
        return data


class Count(_Model):
    """How many related entities (distinct) or event rows must match: exactly one bound."""

    at_least: Whole | None = Field(None, ge=1)
    exactly: Whole | None = Field(None, ge=0)
    at_most: Whole | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> Count:
        given = [k for k in ("at_least", "exactly", "at_most") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a count has exactly one of at_least, exactly, at_most")
        return self

    @property
    def kind(self) -> Literal["at_least", "exactly", "at_most"]:
        if self.at_least is not None:
            return "at_least"
        return "exactly" if self.exactly is not None else "at_most"

    @property
    def n(self) -> int:
        value = getattr(self, self.kind)
        assert isinstance(value, int)
        return value

    @property
    def is_zero(self) -> bool:
        """``exactly 0`` or ``at_most 0``: "has none"; such a node may not have a ``where``."""
        return self.kind != "at_least" and self.n == 0


AT_LEAST_ONE = Count(at_least=1)


class Window(_Model):
    """Event time window: relative to ``as_of`` for an audience-level event, relative to the
    parent event row (``within_days_after``) for a funnel step; exactly one form."""

    within_last_days: Whole | None = Field(None, ge=1)
    between_days_ago: tuple[Whole, Whole] | None = None
    within_days_after: Whole | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_form(self) -> Window:
        forms = (self.within_last_days, self.between_days_ago, self.within_days_after)
        if sum(form is not None for form in forms) != 1:
            raise ValueError(
                "a window has exactly one of within_last_days, between_days_ago, within_days_after"
            )
        if self.between_days_ago is not None:
            start, end = self.between_days_ago
            if start < 0 or start >= end:
                raise ValueError("between_days_ago is [N, M] with 0 <= N < M")
        return self


class TraitReference(_Model):
    """Compare with a trait of the same profile."""

    trait: str


class ColumnReference(_Model):
    """Compare with a column of this entity node or an ancestor in the same branch."""

    relationship: str
    column: str


class ParentReference(_Model):
    """Compare with a property of the parent event row (funnel steps only)."""

    parent: str


Reference = TraitReference | ColumnReference | ParentReference

AggregateFunction = Literal["sum", "avg", "min", "max", "count_distinct"]


class Aggregate(_Model):
    """``function(property|column)`` over the node's matching rows, compared with a value.

    Replaces ``count`` on an event or entity node: "orders whose prices sum to more than 500".
    """

    function: AggregateFunction
    property: str | None = None
    column: str | None = None
    operator: ComparisonOperator
    value: Value | None = None
    reference: Reference | None = None


class _Comparison(_Model):
    """Shared by trait, property and column nodes: ``x <operator> value|reference``."""

    operator: Operator
    value: Value | None = None
    reference: Reference | None = None


class GroupCondition(_Model):
    """All (``and``) or any (``or``) of its conditions."""

    type: Literal["group"] = "group"
    operator: Literal["and", "or"]
    conditions: list[Condition] = Field(min_length=1)


class TraitCondition(_Comparison):
    """A profile trait compared with a value or a reference."""

    type: Literal["trait"] = "trait"
    trait: str
    without: Flag = False


class AudienceCondition(_Model):
    """Membership of another audience at the same ``as_of``."""

    type: Literal["audience"] = "audience"
    key: str
    without: Flag = False


class EventCondition(_Model):
    """The profile performed an event, counted within an optional window and filter."""

    type: Literal["event"] = "event"
    event: str
    without: Flag = False
    count: Count = AT_LEAST_ONE
    aggregate: Aggregate | None = None
    window: Window | None = None
    where: Condition | None = None


class EntityCondition(_Model):
    """The profile (or the parent entity row) has related entities that match ``where``."""

    type: Literal["entity"] = "entity"
    relationship: str
    without: Flag = False
    count: Count = AT_LEAST_ONE
    aggregate: Aggregate | None = None
    where: Condition | None = None


class UsersCondition(_Model):
    """Account audiences: whether any / all / none of the account's member profiles satisfy
    a profile-level condition tree."""

    type: Literal["users"] = "users"
    quantifier: Literal["any", "all", "none"]
    where: Condition


class PropertyCondition(_Comparison):
    """An event property compared with a value or a trait reference."""

    type: Literal["property"] = "property"
    property: str


class ColumnCondition(_Comparison):
    """An entity column compared with a value or a reference."""

    type: Literal["column"] = "column"
    column: str


Condition = Annotated[
    GroupCondition
    | TraitCondition
    | AudienceCondition
    | EventCondition
    | EntityCondition
    | PropertyCondition
    | ColumnCondition
    | UsersCondition,
    Field(discriminator="type"),
]
"""Any node; where each kind may appear is checked by validation."""

Comparison = TraitCondition | PropertyCondition | ColumnCondition


MAX_NAME_LENGTH = 1_000


class Audience(_Model):
    """An audience definition: a key, a name and one condition tree."""

    key: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", max_length=200)
    #: Every run event carries the name: a very long one would push events past Segment's
    #: 32 KB limit (they would be skipped), so it is bounded like a title.
    name: str = Field(max_length=MAX_NAME_LENGTH)
    description: str | None = None
    include_anonymous: Flag = False
    #: ``account``: the members are accounts of the graph's ``accounts`` (classic Engage).
    level: Literal["profile", "account"] = "profile"
    condition: Condition

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any, info: ValidationInfo) -> Any:
        """Plain JSON data of a bounded size, checked before pydantic builds any node.

        A YAML alias can make a small file describe millions of nodes; building them would
        exhaust memory long before validation could say so.
        """
        if not (info.context or {}).get(documents.CHECKED):
            documents.check(data)
        if isinstance(data, dict):
            problems = condition_size_problems(data.get("condition"))
            if problems:
                raise DefinitionError(problems)
        return data

    @model_validator(mode="after")
    def _key_not_reserved(self) -> Audience:
        if self.key in RESERVED_KEYS:
            raise DefinitionError(
                [
                    Problem(
                        "$.key",
                        f"{self.key!r} is a property of every run event; the audience's "
                        "own true/false flag would overwrite it (reserved: "
                        f"{', '.join(sorted(RESERVED_KEYS))})",
                    )
                ]
            )
        return self

    @classmethod
    def load(cls, path: str | Path) -> Audience:
        """Read an audience from ``.json``, ``.yaml`` or ``.yml`` (shape checks only).

        Checks against a data graph happen in :func:`linked_audiences.validate_audience`,
        which ``compile``, ``preview`` and ``run`` call before any SQL exists.
        """
        from linked_audiences.loading import load_model

        return load_model(cls, path)


for _model in (GroupCondition, EventCondition, EntityCondition, UsersCondition, Audience):
    _model.model_rebuild()


def condition_size_problems(data: Any) -> list[Problem]:
    """Nesting and node count of a raw condition tree, walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(data, "$.condition", 1)]
    count = 0
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, dict):
            continue  # the models report what is not a node
        count += 1
        if depth > MAX_CONDITION_DEPTH:
            rule = f"conditions are nested more than {MAX_CONDITION_DEPTH} levels deep"
            return [Problem(path, rule)]
        if count > MAX_CONDITIONS:
            return [Problem("$.condition", f"more than {MAX_CONDITIONS:,} condition nodes")]
        children = node.get("conditions")
        if isinstance(children, list):
            stack.extend((c, f"{path}.conditions[{i}]", depth + 1) for i, c in enumerate(children))
        if isinstance(node.get("where"), dict):
            stack.append((node["where"], f"{path}.where", depth + 1))
    return []


def iter_children(node: Condition) -> Iterator[tuple[str, Condition]]:
    """Direct children with their JSONPath suffix (``.conditions[0]``, ``.where``)."""
    if isinstance(node, GroupCondition):
        for i, child in enumerate(node.conditions):
            yield f".conditions[{i}]", child
    elif (
        isinstance(node, (EventCondition, EntityCondition, UsersCondition))
        and node.where is not None
    ):
        yield ".where", node.where


def walk(node: Condition, path: str = "$.condition") -> Iterator[tuple[str, Condition]]:
    """Every node of a tree, depth-first, with its JSONPath."""
    yield path, node
    for suffix, child in iter_children(node):
        yield from walk(child, path + suffix)


__all__ = [
    "AT_LEAST_ONE",
    "Aggregate",
    "Audience",
    "AudienceCondition",
    "ColumnCondition",
    "ColumnReference",
    "Comparison",
    "Condition",
    "Count",
    "EntityCondition",
    "EventCondition",
    "GroupCondition",
    "Operator",
    "ParentReference",
    "PropertyCondition",
    "Reference",
    "Scalar",
    "TraitCondition",
    "TraitReference",
    "UsersCondition",
    "Value",
    "Window",
    "iter_children",
    "walk",
]
