"""Which entities matched (docs/definitions.md, "Matched entities"): top-down from the members.

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
from linked_audiences.compiler.flat import FlatNode
from linked_audiences.compiler.keys import entity_key, key_present
from linked_audiences.compiler.links import nested_link_joins
from linked_audiences.compiler.membership import (
    Holds,
    Membership,
    MembersSelect,
    keys_as,
    needs_path,
    profile_link_joins,
)
from linked_audiences.compiler.scope import Scope
from linked_audiences.conditions import Audience, Condition, EntityCondition, GroupCondition
from linked_audiences.graph import RelationshipPath
from linked_audiences.sql import data_type, select

MEMBERS = "la_members"


@dataclass(frozen=True)
class MatchedLevel:
    """One entity node's matched rows: a CTE of paths ending at the entity's primary key."""

    slug: str
    parent: str | None  # the parent level's relationship slug (None: the profile)
    cte: str
    width: int  # number of key columns (k0 … k{width-1})


def contributing(node: Condition) -> list[tuple[EntityCondition, list[int]]]:
    """Entity nodes directly under ``node`` (through groups) that add matched entities, each
    with the ids of the nodes whose holds-expressions must also be true for it to contribute.

    ``node`` itself is known to hold. Under an ``and`` group that holds every child holds, so
    only the children of ``or`` groups become guards. Returning ids, not expressions, keeps
    compile time linear: each guard's expression is copied once, however many entity nodes
    stand under it.
    """
    found: list[tuple[EntityCondition, list[int]]] = []
    stack: list[tuple[Condition, list[int]]] = [(node, [])]
    while stack:
        current, guards = stack.pop()
        if isinstance(current, GroupCondition):
            for child in reversed(current.conditions):
                inner = guards if current.operator == "and" else [*guards, id(child)]
                stack.append((child, inner))
        elif isinstance(current, EntityCondition) and not current.without:
            found.append((current, guards))
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

    def build(self, audience: Audience, members_select: MembersSelect) -> exp.Query:
        """Register the members and matched-level CTEs; return the final UNION query.

        ``members_select`` is the members query (:meth:`Membership.audience_select`): its
        FROM, joins and WHERE are reused, so the condition tree is compiled once.
        """
        holds = members_select.holds
        tops = contributing(audience.condition)
        guard_columns: dict[int, str] = {}
        for _, guards in tops:
            for guard in guards:
                guard_columns.setdefault(guard, f"g{len(guard_columns)}")
        flags = [
            exp.alias_(holds[guard].copy(), name, quoted=True, copy=False)
            for guard, name in guard_columns.items()
        ]
        profile = members_select.scope.path[0]
        members = select(
            [exp.alias_(profile.copy(), "k0", quoted=True, copy=False), *flags],
            members_select.from_.copy(),
            [join.copy() for join in members_select.scope.joins],
            [w.copy() for w in members_select.where],
        )
        self.ctx.ctes.append((MEMBERS, members))
        for node, guards in tops:
            self._top_level(node, [col("mem", guard_columns[g]) for g in guards])
        return self._union()

    def _top_level(self, node: EntityCondition, conditions: list[exp.Expr]) -> None:
        rel = self.ctx.graph.relationship(node.relationship)
        assert rel is not None
        profile = col("mem", "k0")
        scope = Scope(self.ctx, profile, [profile], path_mode=needs_path(node))
        row = "r2"
        scope.joins.extend(profile_link_joins(self.ctx, rel, profile, row, scope))
        child = scope.child(rel, row, entity_key(rel.entity, row))
        if id(node) in self.m.flat:
            self._flat_levels(node, rel, child, conditions)
        else:
            self._level(node, rel, child, cte_ref(MEMBERS, "mem"), conditions)

    def _flat_levels(
        self,
        node: EntityCondition,
        rel: RelationshipPath,
        scope: Scope,
        conditions: list[exp.Expr],
    ) -> None:
        """A flat subtree's matched rows: one join of the chains that satisfy it, then each
        level's distinct key paths projected from it (compiler/flat.py)."""
        flat = self.m.flat_join()
        where = [*conditions, *key_present(rel.entity, scope.row)]
        if node.where is not None:
            where.append(flat.where(node.where, scope))
        nodes = [FlatNode(node, rel, scope), *flat.nodes]
        column = {n.scope.row: f"p{i}" for i, n in enumerate(nodes)}
        chains = select(
            [
                exp.alias_(scope.path[0].copy(), "k0", quoted=True, copy=False),
                *(
                    exp.alias_(
                        n.scope.path[-1].copy(), column[n.scope.row], quoted=True, copy=False
                    )
                    for n in nodes
                ),
            ],
            cte_ref(MEMBERS, "mem"),
            scope.joins,
            where,
            distinct=True,
        )
        chains_cte = self.ctx.add_cte("m", chains)
        for n in nodes:
            lineage = reversed(list(n.rel.ancestors()))
            path: list[exp.Expr] = [
                col("c", "k0"),
                *(col("c", column[n.scope.rows[a.slug]]) for a in lineage),
            ]
            name = self.ctx.add_cte(
                "m", select(keys_as(path), cte_ref(chains_cte, "c"), distinct=True)
            )
            parent = n.rel.parent.slug if n.rel.parent else None
            self.levels.append(MatchedLevel(n.rel.slug, parent, name, len(path)))

    def _level(
        self,
        node: EntityCondition,
        rel: RelationshipPath,
        scope: Scope,
        from_: exp.Expr,
        conditions: list[exp.Expr],
    ) -> None:
        """Matched rows of ``node`` in ``scope`` (whose current row is the node's row)."""
        where = [*conditions, *key_present(rel.entity, scope.row)]
        if node.where is not None:
            where.append(self.m.condition(node.where, scope, {}, required=True))
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
                            this=entity_key(level.entity, row),
                            expression=keys[level.depth - 1].copy(),
                        ),
                    )
                )
            scope = scope.child(level, row, keys[level.depth - 1])
        holds: Holds = {}
        self.m.condition(parent_node.where, scope, holds, required=True)
        guards = {id(n): g for n, g in contributing(parent_node.where)}
        row = f"r{rel.depth}"
        scope.joins.extend(nested_link_joins(rel, scope.row, row))
        child = scope.child(rel, row, entity_key(rel.entity, row))
        conditions = [holds[g].copy() for g in guards[id(node)]]
        self._level(node, rel, child, cte_ref(parent_cte, "m"), conditions)

    def _union(self) -> exp.Query:
        """One row per (profile, relationship, entity), whatever path reached it."""
        text = self.ctx.dialect.TEXT_TYPE
        parts: list[exp.Query] = [
            select(
                [
                    exp.alias_(col("m", "k0"), PROFILE_ID, quoted=True, copy=False),
                    exp.alias_(string(level.slug), "relationship", quoted=True, copy=False),
                    exp.alias_(
                        exp.cast(
                            col("m", f"k{level.width - 1}"),
                            data_type(text, self.ctx.dialect.sqlglot_dialect),
                        ),
                        "entity_id",
                        quoted=True,
                        copy=False,
                    ),
                ],
                cte_ref(level.cte, "m"),
            )
            for level in self.levels
        ]
        if not parts:
            null = exp.cast(exp.null(), data_type(text, self.ctx.dialect.sqlglot_dialect))
            return select(
                [
                    exp.alias_(col("mem", "k0"), PROFILE_ID, quoted=True, copy=False),
                    exp.alias_(null, "relationship", quoted=True, copy=False),
                    exp.alias_(null.copy(), "entity_id", quoted=True, copy=False),
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
    text = data_type(text_type, dialect)
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
                    exp.alias_(col("m", "k0"), PROFILE_ID, quoted=True, copy=False),
                    exp.alias_(string(level.slug), "relationship", quoted=True, copy=False),
                    exp.alias_(
                        exp.cast(col("m", f"k{level.width - 1}"), text),
                        "entity_id",
                        quoted=True,
                        copy=False,
                    ),
                    exp.alias_(parent, "parent_relationship", quoted=True, copy=False),
                    exp.alias_(parent_id, "parent_id", quoted=True, copy=False),
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
