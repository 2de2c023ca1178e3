"""``la.breakdown``: how an audience's members can be reached, per identifier type.

Before activating, an analyst wants to know how many members a destination can match: how
many have an email, a user_id, a device id. One query counts, for every identifier type,
the members that have at least one non-NULL identifier of it, next to the member count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from linked_audiences.compiler.many import member_column
from linked_audiences.conditions import Audience
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.insights.sets import member_sets
from linked_audiences.sql import col, named, not_null, select, table
from linked_audiences.warehouse import Warehouse


@dataclass(frozen=True)
class IdentifierShare:
    type: str
    count: int
    #: ``count`` as a fraction of the members (0.0 for an audience without members).
    share: float


@dataclass(frozen=True)
class Breakdown:
    audience_key: str
    as_of: datetime
    members: int
    #: Most members first; types no member has are not listed.
    identifiers: tuple[IdentifierShare, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "audience_key": self.audience_key,
            "as_of": self.as_of.isoformat(),
            "members": self.members,
            "identifiers": [
                {"type": i.type, "count": i.count, "share": i.share} for i in self.identifiers
            ],
        }

    def _repr_html_(self) -> str:
        """A notebook shows one bar per identifier type."""
        from linked_audiences.notebook import breakdown_html

        return breakdown_html(self.to_dict())


def breakdown(
    audience: Audience,
    graph: DataGraph,
    warehouse: Warehouse,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
) -> Breakdown:
    """Members per identifier type, with their share of the members."""
    if audience.level == "account":
        raise DefinitionError(
            [
                Problem(
                    "$.level",
                    "a breakdown by identifier type is for profile audiences; the members of "
                    "an account audience are accounts, which have no identifiers",
                )
            ]
        )
    sets = member_sets({"a": audience}, graph, warehouse, as_of=as_of, audiences=audiences)
    profile = graph.profile
    # The total over every member (also those without identifiers), joined to one row per
    # identifier type; LEFT so an audience whose members have none still reports its size.
    total = select([named(exp.Count(this=exp.Star()), "members")], sets.members("a", "m")).subquery(
        "t"
    )
    per_type = select(
        [
            named(col("i", "type"), "type"),
            named(exp.Count(this=exp.Distinct(expressions=[col("i", profile.key)])), "n"),
        ],
        table(profile.identifiers_table, "i"),
        where=[
            exp.In(
                this=col("i", profile.key),
                query=exp.Subquery(this=select([member_column("s")], sets.members("a", "s"))),
            ),
            not_null(col("i", "value")),
            not_null(col("i", "type")),
        ],
        group=[col("i", "type")],
    ).subquery("b")
    query = select(
        [col("t", "members"), col("b", "type"), col("b", "n")],
        total,
        joins=[
            exp.Join(
                this=per_type,
                on=exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(1)),
                kind="LEFT",
            )
        ],
    )
    rows = warehouse.fetchall(sets.query(query))
    members = int(rows[0][0]) if rows else 0
    found = sorted(
        ((str(kind), int(n)) for _, kind, n in rows if kind is not None),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return Breakdown(
        audience.key,
        sets.as_of,
        members,
        tuple(IdentifierShare(kind, n, n / members if members else 0.0) for kind, n in found),
    )
