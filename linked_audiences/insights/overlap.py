"""``la.overlap``: how much audiences share, every pair in one query.

Each audience's members are a CTE of one compiled query; a profile's row carries one flag
per audience, and one aggregate sums the flags (sizes) and their pairwise products (shared
members). N audiences cost one scan of their sources, not N² previews.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlglot import exp

from linked_audiences.compiler.many import MEMBER, member_column
from linked_audiences.conditions import Audience
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.insights.sets import member_sets
from linked_audiences.sql import col, named, select
from linked_audiences.warehouse import Warehouse


@dataclass(frozen=True)
class OverlapPair:
    a: str
    b: str
    size_a: int
    size_b: int
    shared: int

    @property
    def jaccard(self) -> float:
        """Shared members over members of either; 0.0 when both are empty (they share
        nothing, which is what an analyst reads from 0)."""
        union = self.size_a + self.size_b - self.shared
        return self.shared / union if union else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "size_a": self.size_a,
            "size_b": self.size_b,
            "shared": self.shared,
            "jaccard": self.jaccard,
        }


@dataclass(frozen=True)
class Overlap:
    as_of: datetime
    #: (key, name, size) in the order given.
    audiences: tuple[tuple[str, str, int], ...]
    #: Every pair (i < j) in the order given.
    pairs: tuple[OverlapPair, ...]

    def size(self, key: str) -> int:
        return next(size for k, _, size in self.audiences if k == key)

    def pair(self, a: str, b: str) -> OverlapPair:
        """The pair of ``a`` and ``b``, in either order."""
        for p in self.pairs:
            if (p.a, p.b) in ((a, b), (b, a)):
                return (
                    p
                    if p.a == a
                    else OverlapPair(
                        b=p.a, a=p.b, size_a=p.size_b, size_b=p.size_a, shared=p.shared
                    )
                )
        raise KeyError((a, b))

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "audiences": [{"key": k, "name": n, "size": s} for k, n, s in self.audiences],
            "pairs": [p.to_dict() for p in self.pairs],
        }

    def _repr_html_(self) -> str:
        """A notebook shows the matrix of pairs, shaded by Jaccard index."""
        from linked_audiences.notebook import overlap_html

        return overlap_html(self.to_dict())


def overlap(
    audiences_to_compare: Sequence[Audience],
    /,
    graph: DataGraph,
    warehouse: Warehouse,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
) -> Overlap:
    """Sizes, shared members and Jaccard index of every pair of ``audiences_to_compare``."""
    chosen = list(audiences_to_compare)
    if not chosen:
        raise DefinitionError([Problem("$", "overlap needs at least one audience")])
    seen: set[str] = set()
    for audience in chosen:
        if audience.key in seen:
            raise DefinitionError([Problem("$.key", f"audience {audience.key!r} is given twice")])
        seen.add(audience.key)
    labels = {f"a{i}": a for i, a in enumerate(chosen)}
    sets = member_sets(labels, graph, warehouse, as_of=as_of, audiences=audiences)
    # One row per member of any audience, one 0/1 flag per audience.
    tagged = (
        exp.union(
            *(
                select(
                    [named(member_column("s"), MEMBER), named(exp.Literal.number(i), "a")],
                    sets.members(label, "s"),
                )
                for i, label in enumerate(labels)
            ),
            distinct=False,
        )
        if len(labels) > 1
        else select(
            [named(member_column("s"), MEMBER), named(exp.Literal.number(0), "a")],
            sets.members("a0", "s"),
        )
    )
    flags = select(
        [
            col("u", MEMBER),
            *(
                named(
                    exp.Max(
                        this=exp.Case(
                            ifs=[
                                exp.If(
                                    this=exp.EQ(
                                        this=col("u", "a"), expression=exp.Literal.number(i)
                                    ),
                                    true=exp.Literal.number(1),
                                )
                            ],
                            default=exp.Literal.number(0),
                        )
                    ),
                    f"f{i}",
                )
                for i in range(len(labels))
            ),
        ],
        tagged.subquery("u"),
        group=[col("u", MEMBER)],
    ).subquery("f")
    indices = range(len(labels))
    pairs = list(combinations(indices, 2))
    sums = [named(exp.Sum(this=col("f", f"f{i}")), f"n{i}") for i in indices]
    sums += [
        named(
            exp.Sum(this=exp.Mul(this=col("f", f"f{i}"), expression=col("f", f"f{j}"))),
            f"s{i}_{j}",
        )
        for i, j in pairs
    ]
    row = warehouse.fetchall(sets.query(select(sums, flags)))[0]
    numbers = [int(v or 0) for v in row]
    sizes, shared = numbers[: len(labels)], numbers[len(labels) :]
    return Overlap(
        sets.as_of,
        tuple((a.key, a.name, sizes[i]) for i, a in enumerate(chosen)),
        tuple(
            OverlapPair(chosen[i].key, chosen[j].key, sizes[i], sizes[j], shared[n])
            for n, (i, j) in enumerate(pairs)
        ),
    )
