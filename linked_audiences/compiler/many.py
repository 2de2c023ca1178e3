"""Several audiences compiled into one query's CTEs, for the insights that compare them.

An overlap of five audiences, the members of each top-level condition, an export with its
traits: each is one query over several member sets. Compiling them on one
:class:`CompileContext` gives each set a CTE (column ``k0``) and lets them share what they
have in common — the universe, the traits CTE, an audience named by several — so the
warehouse scans each table once, where separate queries (or N² runs) would scan it again
for every audience.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from linked_audiences.compiler import _with, resolve_as_of
from linked_audiences.compiler.accounts import AccountMembership
from linked_audiences.compiler.context import CompileContext
from linked_audiences.compiler.membership import Membership
from linked_audiences.conditions import Audience
from linked_audiences.dialects import WarehouseDialect, get_dialect
from linked_audiences.dialects.base import collector_paused
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.names import StoredNames
from linked_audiences.sql import col, ident
from linked_audiences.validation import validate_audience

#: The column of every member-set CTE.
MEMBER = "k0"


@dataclass
class MemberSets:
    """Member-set CTEs of several audiences on one compile context.

    ``sets[label]`` names the CTE of that audience's members (one column, :data:`MEMBER`);
    :meth:`trait` adds a trait to the traits CTE, :meth:`query` wraps a final SELECT in every
    CTE built."""

    ctx: CompileContext
    sets: dict[str, str]
    level: str
    names: StoredNames = field(default_factory=StoredNames)

    @property
    def dialect(self) -> WarehouseDialect:
        return self.ctx.dialect

    @property
    def as_of(self) -> datetime:
        return self.ctx.as_of

    def members(self, label: str, alias: str) -> exp.Table:
        """The members of ``label`` as a table reference ``alias`` (column :data:`MEMBER`)."""
        return exp.Table(this=ident(self.sets[label]), alias=exp.TableAlias(this=ident(alias)))

    def trait(self, alias: str, name: str) -> exp.Expr:
        """A trait's typed value in the traits CTE joined as ``alias`` (see :meth:`traits`)."""
        return self.ctx.trait(alias, name)

    def traits(self, alias: str) -> exp.Table:
        """The traits CTE (one row per profile with a trait, ``profile_id`` and one column per
        trait named through :meth:`trait`) as ``alias``."""
        return exp.Table(this=ident(self.ctx.TRAITS), alias=exp.TableAlias(this=ident(alias)))

    def query(self, final: exp.Query) -> exp.Query:
        """``WITH <every CTE> final``, graph names spelled as the warehouse stores them."""
        # Copies: the same sets serve several queries (an explanation asks three).
        ctes = [(name, body.copy()) for name, body in [*self.ctx.traits_ctes(), *self.ctx.ctes]]
        query = _with(final, ctes)
        self.names.apply(query)
        return query


def compile_member_sets(
    named: Mapping[str, Audience],
    graph: DataGraph,
    dialect: str,
    *,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
    column_types: Mapping[str, Mapping[str, str]] | None = None,
    names: StoredNames | None = None,
) -> MemberSets:
    """Validate each of ``named`` (label → audience) and compile its members as a CTE.

    All must be of one level (profiles or accounts): a set of accounts and a set of profiles
    have no members in common to compare."""
    levels = {a.level for a in named.values()}
    if len(levels) > 1:
        raise DefinitionError(
            [
                Problem(
                    "$.level",
                    "profile audiences and account audiences cannot be compared: their "
                    "members are different things (profiles, accounts)",
                )
            ]
        )
    for audience in named.values():
        validate_audience(audience, graph, audiences)
    known = {a.key: a for a in audiences}
    for audience in named.values():
        known.setdefault(audience.key, audience)
    ctx = CompileContext(
        graph, get_dialect(dialect), resolve_as_of(as_of), known, column_types or {}
    )
    membership = Membership(ctx)
    accounts = AccountMembership(membership) if levels == {"account"} else None
    sets: dict[str, str] = {}
    with collector_paused():
        for label, audience in named.items():
            # Registered under the label, not the key: an edited definition and the saved
            # one share a key, and a block is a sub-audience with its parent's key.
            ctx.audiences[_label_key(label)] = audience
            if accounts is not None:
                sets[label] = accounts.audience_cte(_label_key(label))
            else:
                sets[label] = membership.audience_cte(_label_key(label))
    return MemberSets(ctx, sets, levels.pop() if levels else "profile", names or StoredNames())


def _label_key(label: str) -> str:
    # A character no audience key may hold (keys are slugs), so no definition named by an
    # `audience` node can be taken for a member set.
    return f"\x00{label}"


def member_column(alias: str) -> exp.Column:
    return col(alias, MEMBER)


__all__ = ["MEMBER", "MemberSets", "compile_member_sets", "member_column"]
