"""Traits the data graph derives instead of storing: computed traits and SQL traits.

A *computed trait* aggregates a profile's events (or the entities a relationship path
reaches) into one value per profile; an *SQL trait* is a query the user writes whose output
columns become traits. Both are read wherever a stored trait is read (trait conditions,
references, run enrichment), so the graph answers one question for all three kinds: what
type a trait name has (:func:`derived_type`).
"""

from __future__ import annotations

import builtins
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from linked_audiences.conditions import Condition, Window
from linked_audiences.datatypes import DataType

TraitFunction = Literal[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "count_distinct",
    "first",
    "last",
    "most_frequent",
    "unique_list",
]

#: Functions whose value over no rows is 0 rather than NULL.
COUNTING: frozenset[str] = frozenset({"count", "count_distinct"})
#: Functions that are numbers whatever they aggregate.
NUMERIC: frozenset[str] = frozenset({"count", "count_distinct", "sum", "avg"})
#: Functions that pick a value by event time, so they need events.
BY_TIME: frozenset[str] = frozenset({"first", "last"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComputedTrait(_Model):
    """One value per profile aggregated from its events or from related entities.

    Exactly one of ``event`` and ``relationship`` is given. Over events, ``property`` names
    the aggregated property and ``window`` limits the events in time (relative to the
    ``as_of`` of the audience that reads the trait); over entities, ``relationship`` is the
    dotted path of relationship slugs from the profile and ``column`` a column of the last
    level's entity, whose rows count once each (by primary key).
    """

    event: str | None = Field(None, description="Event whose rows are aggregated.")
    relationship: str | None = Field(
        None,
        description="Dotted path of relationship slugs from the profile "
        "(`user-accounts.account-cards`); the last level's rows are aggregated.",
    )
    function: TraitFunction
    property: str | None = Field(None, description="Event property aggregated (events).")
    column: str | None = Field(None, description="Entity column aggregated (relationships).")
    window: Window | None = Field(None, description="Events only: as in event conditions.")
    where: Condition | None = Field(
        None,
        description="Filter: a tree of group/property conditions (events) or group/column "
        "conditions on the last level's entity (relationships); values only, no references.",
    )
    description: str | None = None

    @builtins.property
    def slugs(self) -> list[str]:
        """The relationship path as slugs, profile side first."""
        return (self.relationship or "").split(".")

    @builtins.property
    def field(self) -> str | None:
        """The aggregated property or column, whichever applies."""
        return self.property if self.event is not None else self.column


class SqlTrait(_Model):
    """Traits computed by the user's own SELECT, embedded in the compiled SQL as a subquery.

    ``key`` is the output column holding the profile key; every name of ``traits`` is an
    output column that becomes a trait of that type.
    """

    sql: str = Field(description="One SELECT in the warehouse's dialect.")
    key: str = Field(description="Output column holding the profile key.")
    traits: dict[str, DataType] = Field(description="Output column → trait type.")
    description: str | None = None


def derived_type(trait: ComputedTrait, field_type: DataType | None) -> DataType | None:
    """The type of a computed trait's value, given its property's or column's type."""
    if trait.function in NUMERIC:
        return "number"
    if trait.function == "unique_list":
        return "string"
    return field_type


__all__ = [
    "BY_TIME",
    "COUNTING",
    "NUMERIC",
    "ComputedTrait",
    "SqlTrait",
    "TraitFunction",
    "derived_type",
]
