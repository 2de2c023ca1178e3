"""Which entities matched (SPEC §3 "Matched entities"): top-down from the members.

A row is matched when its node contributes — the node holds, and so does every node above it
in the tree, for this parent row — and the row satisfies the node's ``where`` under a matched
parent row. Each level is one CTE of primary-key paths ``(k0 = profile, k1, …)``, built from
the level above, so a row's ancestors are always matched ones. Qualification CTEs of the
membership query are reused; only the LEFT JOINs to them are repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from linked_audiences.compiler.context import PROFILE_ID, col, cte_ref, string, table
from linked_audiences.compiler.membership import (
    Holds,
    Membership,
    keys_as,
    needs_path,
    nested_link_joins,
    not_null,
    profile_link_joins,
    select,
)
from linked_audiences.compiler.scope import Scope
from linked_audiences.conditions import Audience, Condition, EntityCondition, GroupCondition
from linked_audiences.graph import RelationshipPath

MEMBERS = "la_members"


@dataclass(frozen=True)
class MatchedLevel:
    """One entity node's matched rows: a CTE of paths ending at the entity's primary key."""

    slug: str
    parent: str | None  # the parent level's relationship slug (None: the profile)
    cte: str
    width: int  # number of key columns (k0 … k{width-1})


def contributing(node: Condition, holds: Holds) -> list[tuple[EntityCondition, exp.Expr]]:
    """Entity nodes directly under ``node`` (through groups) that add matched entities, each
    with the expression under which it contributes. ``node`` itself is known to hold."""
    found: list[tuple[EntityCondition, exp.Expr]] = []

    def visit(current: Condition, condition: exp.Expr) -> None:
        if isinstance(current, GroupCondition):
            for child in current.conditions:
                holds_child = holds[id(child)].copy()
                both = (
                    holds_child
                    if condition == exp.true()
                    else exp.and_(condition.copy(), holds_child, wrap=True)
                )
                visit(child, both)
        elif isinstance(current, EntityCondition) and not current.without:
            found.append((current, condition))

    visit(node, exp.true())
    return found


def entity_children(node: Condition) -> list[EntityCondition]:
    """Entity nodes directly under ``node`` through groups, ``without`` ones excluded."""
    if isinstance(node, GroupCondition):
        return [e for child in node.conditions for e in entity_children(child)]
    return [node] if isinstance(node, EntityCondition) and not node.without else []


class MatchedEntities:
    def __init__(self, membership: Membership) -> None:
        self.m = membership
        self.ctx = membership.ctx
        self.levels: list[MatchedLevel] = []

    def build(self, audience: Audience) -> exp.Query:
        """Register the members and matched-level CTEs; return the final UNION query."""
        _, scope, member_expr, holds = self.m.audience_select(audience)
        tops = contributing(audience.condition, holds)
        flags = [exp.alias_(cond, f"c{i}", quoted=True) for i, (_, cond) in enumerate(tops)]
        universe = self.ctx.universe(audience.include_anonymous)
        members = select(
            [exp.alias_(col("u", PROFILE_ID), "k0", quoted=True), *flags],
            cte_ref(universe, "u"),
            scope.joins,
            [member_expr],
        )
        self.ctx.ctes.append((MEMBERS, members))
        for i, (node, _) in enumerate(tops):
            self._top_level(node, i)
        return self._union()

    def _top_level(self, node: EntityCondition, flag: int) -> None:
        rel = self.ctx.graph.relationship(node.relationship)
        assert rel is not None
        profile = col("mem", "k0")
        scope = Scope(self.ctx, profile, [profile], path_mode=needs_path(node))
        row = "r2"
        scope.joins.extend(profile_link_joins(self.ctx, rel, profile, row, scope))
        child = scope.child(rel, row, col(row, rel.entity.primary_key))
        self._level(node, rel, child, cte_ref(MEMBERS, "mem"), [col("mem", f"c{flag}")])

    def _level(
        self,
        node: EntityCondition,
        rel: RelationshipPath,
        scope: Scope,
        from_: exp.Expr,
        conditions: list[exp.Expr],
    ) -> None:
        """Matched rows of ``node`` in ``scope`` (whose current row is the node's row)."""
        pk = col(scope.row, rel.entity.primary_key)
        where = [*conditions, not_null(pk)]
        if node.where is not None:
            where.append(self.m.condition(node.where, scope, {}))
        query = select(keys_as(scope.path), from_, scope.joins, where, distinct=True)
        name = self.ctx.add_cte("m", query)
        parent = rel.parent.slug if rel.parent else None
        self.levels.append(MatchedLevel(rel.slug, parent, name, len(scope.path)))
        if node.where is not None:
            for child in entity_children(node.where):
                self._nested(child, node, rel, name, len(scope.path), scope.path_mode)

    def _nested(
        self,
        node: EntityCondition,
        parent_node: EntityCondition,
        parent: RelationshipPath,
        parent_cte: str,
        width: int,
        path_mode: bool,
    ) -> None:
        """A child level: re-open the parent's matched rows, check per parent row that the
        child node contributes (its parent's where-tree decides), then join down to it."""
        rel = self.ctx.graph.relationship(node.relationship)
        assert rel is not None and parent_node.where is not None
        keys: list[exp.Expr] = [col("m", f"k{i}") for i in range(width)]
        scope = Scope(self.ctx, keys[0], keys[:1], path_mode=path_mode)
        chain = list(reversed(list(parent.ancestors())))
        for level in chain:
            row = f"p{level.depth}"
            if path_mode or level is parent:
                scope.joins.append(
                    exp.Join(
                        this=table(level.entity.table, row),
                        on=exp.EQ(
                            this=col(row, level.entity.primary_key),
                            expression=keys[level.depth - 1].copy(),
                        ),
                    )
                )
            scope = scope.child(level, row, keys[level.depth - 1])
        holds: Holds = {}
        self.m.condition(parent_node.where, scope, holds)
        contributes = {id(n): c for n, c in contributing(parent_node.where, holds)}
        row = f"r{rel.depth}"
        scope.joins.extend(nested_link_joins(rel, scope.row, row))
        child = scope.child(rel, row, col(row, rel.entity.primary_key))
        self._level(node, rel, child, cte_ref(parent_cte, "m"), [contributes[id(node)]])

    def _union(self) -> exp.Query:
        """One row per (profile, relationship, entity), whatever path reached it."""
        text = self.ctx.dialect.TEXT_TYPE
        parts: list[exp.Query] = [
            select(
                [
                    exp.alias_(col("m", "k0"), PROFILE_ID, quoted=True),
                    exp.alias_(string(level.slug), "relationship", quoted=True),
                    exp.alias_(
                        exp.cast(
                            col("m", f"k{level.width - 1}"),
                            exp.DataType.build(text, dialect=self.ctx.dialect.sqlglot_dialect),
                        ),
                        "entity_id",
                        quoted=True,
                    ),
                ],
                cte_ref(level.cte, "m"),
            )
            for level in self.levels
        ]
        if not parts:
            null = exp.cast(
                exp.null(), exp.DataType.build(text, dialect=self.ctx.dialect.sqlglot_dialect)
            )
            return select(
                [
                    exp.alias_(col("mem", "k0"), PROFILE_ID, quoted=True),
                    exp.alias_(null, "relationship", quoted=True),
                    exp.alias_(null.copy(), "entity_id", quoted=True),
                ],
                cte_ref(MEMBERS, "mem"),
                where=[exp.false()],
            )
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=True, copy=False)
        return query


def explorer_query(
    levels: list[MatchedLevel], text_type: str, dialect: str, profiles: exp.Expr
) -> exp.Query:
    """Matched entities with their parent entity, for profiles where ``profiles`` holds on
    ``m.k0``: what an explorer tree is drawn from."""
    text = exp.DataType.build(text_type, dialect=dialect)
    parts: list[exp.Query] = []
    for level in levels:
        parent_id = (
            exp.cast(col("m", f"k{level.width - 2}"), text)
            if level.parent
            else exp.cast(exp.null(), text)
        )
        parent = string(level.parent) if level.parent else exp.cast(exp.null(), text)
        parts.append(
            select(
                [
                    exp.alias_(col("m", "k0"), PROFILE_ID, quoted=True),
                    exp.alias_(string(level.slug), "relationship", quoted=True),
                    exp.alias_(
                        exp.cast(col("m", f"k{level.width - 1}"), text), "entity_id", quoted=True
                    ),
                    exp.alias_(parent, "parent_relationship", quoted=True),
                    exp.alias_(parent_id, "parent_id", quoted=True),
                ],
                cte_ref(level.cte, "m"),
                where=[profiles.copy()],
                distinct=True,
            )
        )
    query = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False, copy=False)
    return query
