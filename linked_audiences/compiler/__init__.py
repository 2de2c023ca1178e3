"""Audience → sqlglot expressions → SQL text, for one warehouse dialect.

``compile`` is pure: it validates the definition, then builds two queries from sqlglot nodes
— the members (one column ``profile_id``) and their matched entities (``profile_id``,
``relationship``, ``entity_id``). Nothing here talks to a warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlglot import exp

from linked_audiences.compiler.accounts import AccountMembership
from linked_audiences.compiler.context import CompileContext
from linked_audiences.compiler.matched import MEMBERS, MatchedEntities, MatchedLevel, explorer_query
from linked_audiences.compiler.membership import Membership
from linked_audiences.conditions import Audience
from linked_audiences.datatypes import parse_iso_timestamp
from linked_audiences.dialects import WarehouseDialect, get_dialect
from linked_audiences.dialects.base import collector_paused
from linked_audiences.graph import DataGraph
from linked_audiences.names import StoredNames
from linked_audiences.sql import ident
from linked_audiences.validation import validate_audience


@dataclass(frozen=True)
class CompiledAudience:
    """The compiled queries; ``.expression`` / ``.entities_expression`` stay inspectable."""

    audience: Audience
    dialect: WarehouseDialect
    as_of: datetime
    expression: exp.Query
    entities_expression: exp.Query
    levels: tuple[MatchedLevel, ...] = ()
    entity_ctes: tuple[tuple[str, exp.Query], ...] = ()
    #: Graph names the warehouse stores in another case (already applied to the queries).
    names: StoredNames = field(default_factory=StoredNames)

    @property
    def level(self) -> str:
        """``profile``, or ``account`` for an audience whose members are accounts."""
        return self.audience.level

    @property
    def member_column(self) -> str:
        """The members query's one column: ``profile_id``, or ``account_id``."""
        return "account_id" if self.audience.level == "account" else "profile_id"

    @property
    def profiles_sql(self) -> str:
        """Members: one column ``profile_id`` (``account_id`` for an account audience)."""
        return self.dialect.render(self.expression, copy=_rewritten(self.expression))

    @property
    def entities_sql(self) -> str:
        """Matched entities of members: ``profile_id``, ``relationship``, ``entity_id``."""
        query = self.entities_expression
        return self.dialect.render(query, copy=_rewritten(query))

    def explorer_expression(self, profile_ids: Sequence[object]) -> exp.Query | None:
        """Matched entities of ``profile_ids`` with their parents (None: no entity nodes)."""
        if not self.levels:
            return None
        from linked_audiences.sql import in_list

        query = explorer_query(
            list(self.levels),
            self.dialect.TEXT_TYPE,
            self.dialect.sqlglot_dialect,
            in_list(exp.column("k0", table="m", quoted=True), profile_ids),
        )
        ctes = [(name, body.copy()) for name, body in self.entity_ctes]
        for name, body in ctes:
            if name == MEMBERS and isinstance(body, exp.Select):
                # Only the sampled members: every matched level is built from this CTE, so
                # nothing is computed for the other members (a preview's explorer used to
                # build every member's matched entities and keep ten profiles' worth).
                profile = body.selects[0].this
                body.where(in_list(profile.copy(), profile_ids), copy=False)
        explorer = _with(query, ctes)
        self.names.apply(explorer)
        return explorer

    def sql(self, *, pretty: bool = True, entities: bool = False) -> str:
        """Readable SQL for a person debugging an audience."""
        query = self.entities_expression if entities else self.expression
        return self.dialect.render(query, pretty=pretty, copy=_rewritten(query))


def _rewritten(query: exp.Expr) -> bool:
    """Whether rendering rewrites ``query`` in place, so it must render a copy: sqlglot's
    generators restructure an ordered string aggregation (``unique_list``) as they print it,
    and a second rendering of the same tree would print it wrong."""
    return query.find(exp.GroupConcat) is not None


def resolve_as_of(as_of: datetime | str | None) -> datetime:
    """``as_of`` as an aware UTC datetime; default now. Naive values are refused."""
    if as_of is None:
        return datetime.now(timezone.utc)
    if isinstance(as_of, str):
        return parse_iso_timestamp(as_of)
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (or an ISO-8601 string with an offset)")
    return as_of.astimezone(timezone.utc)


def compile(
    audience: Audience,
    graph: DataGraph,
    dialect: str = "duckdb",
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
    column_types: Mapping[str, Mapping[str, str]] | None = None,
    names: StoredNames | None = None,
) -> CompiledAudience:
    """Validate ``audience`` against ``graph`` and compile it for ``dialect``.

    ``column_types`` (graph table name → column → the warehouse's SQL type, as its catalog
    reports it) lets date and timestamp comparisons use literals of each column's own kind
    (DATE, zone-less TIMESTAMP or an instant), so the SQL answers the same in every session
    time zone. Without it, timestamp columns are taken to hold instants (TIMESTAMPTZ).
    Previews and runs read it from the warehouse themselves, and ``names`` with it: graph
    names the warehouse stores in another case, which the SQL then spells as stored.

    Raises :class:`~linked_audiences.DefinitionError` before building any SQL when the
    definition breaks a rule, and :class:`~linked_audiences.UnsupportedFeature` when the
    warehouse cannot express it.
    """
    validate_audience(audience, graph, audiences)
    with collector_paused():
        return _compile(audience, graph, dialect, as_of, audiences, column_types, names)


def _compile(
    audience: Audience,
    graph: DataGraph,
    dialect: str,
    as_of: datetime | str | None,
    audiences: Sequence[Audience],
    column_types: Mapping[str, Mapping[str, str]] | None,
    names: StoredNames | None,
) -> CompiledAudience:
    warehouse = get_dialect(dialect)
    moment = resolve_as_of(as_of)
    known = {a.key: a for a in audiences}
    known[audience.key] = audience
    ctx = CompileContext(graph, warehouse, moment, known, column_types or {})
    membership = Membership(ctx)
    matched = MatchedEntities(membership)
    if audience.level == "account":
        accounts = AccountMembership(membership)
        members: exp.Query = accounts.audience_select(audience)
        shared = list(ctx.ctes)
        entities: exp.Query = accounts.no_entities()
    else:
        members_select = membership.audience_select(audience)
        members = members_select.query
        shared = list(ctx.ctes)
        entities = matched.build(audience, members_select)
    traits = ctx.traits_ctes()
    entity_ctes = (*traits, *ctx.ctes)
    # The members query and the entities query share CTEs: the entities query gets copies,
    # the members query the originals (copying trees is most of compile time on big trees).
    entities_query = _with(entities, [(name, body.copy()) for name, body in entity_ctes])
    profiles_query = _with(members, [*traits, *shared])
    names = names or StoredNames()
    names.apply(profiles_query)
    names.apply(entities_query)
    return CompiledAudience(
        audience,
        warehouse,
        moment,
        profiles_query,
        entities_query,
        tuple(matched.levels),
        entity_ctes,
        names,
    )


def _with(query: exp.Query, ctes: list[tuple[str, exp.Query]]) -> exp.Query:
    """``WITH ctes query``, taking ownership of ``query`` and of every CTE body (built as
    nodes: the ``with_`` builder re-parses and re-checks its arguments on every call)."""
    if ctes:
        query.set(
            "with_",
            exp.With(
                expressions=[
                    exp.CTE(this=body, alias=exp.TableAlias(this=ident(name)))
                    for name, body in ctes
                ]
            ),
        )
    return query


__all__ = ["CompiledAudience", "compile", "resolve_as_of"]
