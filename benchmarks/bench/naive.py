"""The naive query: join the audience's whole chain, then ``SELECT DISTINCT`` the profile.

This is what an analyst writes first: LEFT JOIN every entity the audience mentions from the
profile down, put the whole condition tree in one WHERE, and de-duplicate the profiles. It is
generated from the definition, so it exists for every audience whose meaning survives that
shape: only entity nodes that mean "at least one related row" (no ``without``, no other
count, no aggregate), no events or audience references (a join cannot count or negate), and
profile audiences only. Everything else gets a reason instead of a query.

Operators are the compiler's own (``linked_audiences.compiler.predicates``), the universe CTE
is the compiler's and the traits CTEs are the compiled query's own, so the naive query differs
from the compiled one only in its shape, which is what the benchmark compares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

import linked_audiences as la
from linked_audiences.compiler.context import CompileContext
from linked_audiences.compiler.predicates import comparison
from linked_audiences.conditions import (
    AT_LEAST_ONE,
    ColumnCondition,
    ColumnReference,
    Condition,
    EntityCondition,
    GroupCondition,
    TraitCondition,
    TraitReference,
)
from linked_audiences.dialects import get_dialect
from linked_audiences.graph import RelationshipPath

#: The compiled query's CTEs that the naive query reuses as they are.
_SHARED_CTES = ("la_traits_text", "la_traits")


class NotNaive(Exception):
    """The audience has no naive join-then-DISTINCT form; the message says why."""


@dataclass
class _Builder:
    ctx: CompileContext
    graph: la.DataGraph
    joins: list[tuple[exp.Expr, exp.Expr]] = field(default_factory=list)
    uses_traits: bool = False
    counter: int = 0

    def alias(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def traits(self) -> exp.Column:
        self.uses_traits = True
        return exp.column("profile_id", "tr")

    def condition(self, node: Condition, rows: dict[str, str]) -> exp.Expr:
        """``node`` as a predicate over the joined row; ``rows`` maps relationship → alias."""
        if isinstance(node, GroupCondition):
            parts = [self.condition(child, rows) for child in node.conditions]
            combine = exp.and_ if node.operator == "and" else exp.or_
            return exp.paren(combine(*parts))
        if isinstance(node, TraitCondition):
            if node.without:
                raise NotNaive("a trait condition with without")
            if node.trait not in self.graph.profile.traits:
                raise NotNaive("a computed or SQL trait (no one-join form)")
            self.traits()
            dtype = self.graph.profile.traits[node.trait]
            x = exp.column(node.trait, "tr")
            return comparison(
                self.ctx,
                x,
                dtype,
                node.operator,
                node.value,
                self.reference(node.reference, rows),
                self.ctx.trait_storage(node.trait),
            )
        if isinstance(node, ColumnCondition):
            rel_slug = next(reversed(rows))
            rel = self.graph.relationship(rel_slug)
            assert rel is not None
            return comparison(
                self.ctx,
                exp.column(node.column, rows[rel_slug]),
                rel.entity.columns[node.column],
                node.operator,
                node.value,
                self.reference(node.reference, rows),
                self.ctx.storage(rel.entity.table, node.column, rel.entity.columns[node.column]),
            )
        if isinstance(node, EntityCondition):
            return self.entity(node, rows)
        raise NotNaive(f"a {node.type} condition (a join cannot express it)")

    def reference(
        self, ref: TraitReference | ColumnReference | None, rows: dict[str, str]
    ) -> exp.Expr | None:
        if ref is None:
            return None
        if isinstance(ref, TraitReference):
            self.traits()
            return exp.column(ref.trait, "tr")
        return exp.column(ref.column, rows[ref.relationship])

    def entity(self, node: EntityCondition, rows: dict[str, str]) -> exp.Expr:
        if node.without or node.count != AT_LEAST_ONE:
            raise NotNaive("an entity condition with without or a count (a join cannot count)")
        if node.aggregate is not None:
            # "At least one row" is all a join can say; a sum over the rows is another question.
            raise NotNaive("an entity condition with an aggregate (a join cannot sum)")
        rel = self.graph.relationship(node.relationship)
        assert rel is not None
        row = self.alias("e")
        self._join(rel, row, rows)
        present = exp.not_(exp.column(rel.entity.key_columns[0], row).is_(exp.null()))
        inner = {**rows, rel.slug: row}
        if node.where is None:
            return present
        return exp.paren(exp.and_(present, self.condition(node.where, inner)))

    def _join(self, rel: RelationshipPath, row: str, rows: dict[str, str]) -> None:
        table = exp.to_table(rel.entity.table).as_(row)
        link = rel.relationship
        if rel.parent is None and link.external_id is not None:
            ids = self.alias("i")
            key = self.graph.profile.key
            on_ids = exp.and_(
                exp.column(key, ids).eq(exp.column("profile_id", "u")),
                exp.column("type", ids).eq(exp.Literal.string(link.external_id.type)),
            )
            self.joins.append((exp.to_table(self.graph.profile.identifiers_table).as_(ids), on_ids))
            on = exp.column(link.external_id.join_key, row).eq(exp.column("value", ids))
        elif rel.parent is None and link.trait is not None:
            self.traits()
            on = exp.column(link.trait.join_key, row).eq(exp.column(link.trait.name, "tr"))
        elif link.junction_table is not None:
            lefts, rights = rel.junction_pairs()
            junction = self.alias("j")
            parent = rows[rel.parent.slug] if rel.parent else "u"
            self.joins.append(
                (
                    exp.to_table(link.junction_table.table).as_(junction),
                    exp.and_(
                        *(exp.column(j, junction).eq(exp.column(p, parent)) for p, j in lefts)
                    ),
                )
            )
            on = exp.and_(*(exp.column(c, row).eq(exp.column(j, junction)) for j, c in rights))
        else:
            assert rel.parent is not None
            parent = rows[rel.parent.slug]
            on = exp.and_(
                *(exp.column(c, row).eq(exp.column(p, parent)) for p, c in rel.join_pairs())
            )
        self.joins.append((table, on))


def naive_sql(
    audience: la.Audience,
    graph: la.DataGraph,
    as_of: datetime,
    audiences: list[la.Audience],
    column_types: dict[str, dict[str, str]] | None = None,
) -> str:
    """DuckDB SQL of the naive query, or :class:`NotNaive` saying why there is none."""
    compiled = la.compile(
        audience, graph, as_of=as_of, audiences=audiences, column_types=column_types
    )
    if audience.include_anonymous:
        raise NotNaive("include_anonymous (another universe)")
    if audience.level == "account":
        # Its trait nodes read account traits and its members are accounts: the profile
        # join-then-DISTINCT below would answer a different question.
        raise NotNaive("accounts as members (the naive query is per profile)")
    ctx = CompileContext(graph, get_dialect("duckdb"), as_of, {}, column_types or {})
    builder = _Builder(ctx, graph)
    where = builder.condition(audience.condition, {})
    universe = ctx.universe(include_anonymous=False)
    select = (
        exp.select(exp.column("profile_id", "u").as_("profile_id"))
        .distinct()
        .from_(exp.to_table(universe).as_("u"))
    )
    if builder.uses_traits:
        select = select.join(
            exp.to_table("la_traits").as_("tr"),
            on=exp.column("profile_id", "tr").eq(exp.column("profile_id", "u")),
            join_type="left",
        )
    for table, on in builder.joins:
        select = select.join(table, on=on, join_type="left")
    select = select.where(where)
    with_ = compiled.expression.args.get("with_") or compiled.expression.args.get("with")
    shared = [cte for cte in (with_.expressions if with_ else []) if cte.alias in _SHARED_CTES]
    for cte in shared:
        select = select.with_(cte.alias, as_=cte.this.copy())
    for name, body in ctx.ctes:  # the universe: the compiled query may not need one
        select = select.with_(name, as_=body)
    return select.sql(dialect="duckdb")
