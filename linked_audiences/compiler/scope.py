"""A SELECT under construction whose rows stand for one profile or one entity row.

Conditions are compiled *in* a scope: it knows the aliases of the current row and of its
ancestors, the profile, the path of primary keys from the profile down, and it collects the
LEFT JOINs that child conditions add. Every join is to a CTE unique on its join keys, so no
join ever multiplies rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlglot import exp

from linked_audiences.compiler.context import PROFILE_ID, CompileContext, col, cte_ref
from linked_audiences.graph import EventSource, RelationshipPath


@dataclass
class Scope:
    ctx: CompileContext
    #: Expression of the profile id, when this SELECT can see it.
    profile: exp.Expr | None
    #: Primary-key path: [profile, pk of level 2, …, pk of the current row].
    path: list[exp.Expr]
    #: The current entity's relationship (None at profile level).
    rel: RelationshipPath | None = None
    #: Relationship slug → alias of that entity's row in this SELECT.
    rows: dict[str, str] = field(default_factory=dict)
    #: True when child conditions are keyed by the whole path (see compiler docs).
    path_mode: bool = False
    joins: list[exp.Join] = field(default_factory=list)
    #: The event source whose rows this SELECT reads (event conditions only).
    event: EventSource | None = None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: Shared by the scopes of one SELECT: the alias of the joined traits CTE.
    _shared: dict[str, str] = field(default_factory=dict)
    #: Alias of the event row (``event``) in this SELECT.
    event_alias: str = "ev"
    #: In a funnel step's subquery: the scope of the parent event row it follows.
    parent: Scope | None = None

    def alias(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"

    @property
    def row(self) -> str:
        assert self.rel is not None
        return self.rows[self.rel.slug]

    def left_join(self, cte: str, keys: list[exp.Expr], side: str | None = "LEFT") -> str:
        """LEFT JOIN ``cte`` on its columns k0, k1, … = ``keys``; returns the alias.
        (``side=None``: an inner join, for a CTE unique on its keys that must match.)"""
        alias = self.alias("q")
        on = exp.and_(
            *(
                exp.EQ(this=col(alias, f"k{i}"), expression=key.copy())
                for i, key in enumerate(keys)
            ),
            copy=False,
        )
        self.joins.append(exp.Join(this=cte_ref(cte, alias), on=on, side=side))
        return alias

    def traits(self) -> str:
        """Alias of the traits CTE, LEFT JOINed on this scope's profile on first use.

        A LEFT JOIN, because a profile without a traits row still has (NULL) traits.
        """
        if "traits" not in self._shared:
            assert self.profile is not None, "trait used where no profile is in scope"
            alias = self._shared["traits"] = self.alias("tr")
            self.joins.append(
                exp.Join(
                    this=cte_ref(self.ctx.TRAITS, alias),
                    on=exp.EQ(this=col(alias, PROFILE_ID), expression=self.profile.copy()),
                    side="LEFT",
                )
            )
        return self._shared["traits"]

    def child(self, rel: RelationshipPath, row_alias: str, pk: exp.Expr) -> Scope:
        """The scope of a child row joined into the same SELECT (shares joins and aliases)."""
        return Scope(
            self.ctx,
            self.profile,
            [*self.path, pk],
            rel,
            {**self.rows, rel.slug: row_alias},
            self.path_mode,
            self.joins,
            self.event,
            self._counter,
            self._shared,
            self.event_alias,
            self.parent,
        )
