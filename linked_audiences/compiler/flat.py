"""Flat subtrees: an existence chain compiled as one join, de-duplicated once.

A top-level entity node whose subtree compares with a trait or an ancestor's column cannot be
keyed by join values alone (docs/compiler.md, "Path mode"). When every entity node below it
only asks for "at least one related row" and none stands under an ``or``, the subtree means
exactly "some chain of rows, one per node, satisfies every predicate": one join from the
profile down, all predicates in one WHERE, grouped by the profile. That reads each table once;
keying every level by its primary-key path read the whole chain once per level, which the
benchmark measured at up to 17 times an expert's query.

Matched entities of such a subtree are the projections of the same join (restricted to
members): a row is matched exactly when it lies on a chain that satisfies everything, which
is the top-down rule (docs/definitions.md, "Matched entities") when no ``or`` guards a branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from linked_audiences.compiler.keys import entity_key, key_present
from linked_audiences.compiler.links import nested_link_joins
from linked_audiences.compiler.scope import Scope
from linked_audiences.conditions import Condition, EntityCondition, GroupCondition
from linked_audiences.graph import DataGraph, RelationshipPath
from linked_audiences.sql import and_all, connect


def flattenable(node: EntityCondition) -> bool:
    """Every entity node under ``node`` asks for at least one row and is reached through
    ``and`` groups only (the node's own count can be anything: it counts distinct rows)."""
    stack: list[Condition] = [node.where] if node.where is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, GroupCondition):
            for child in current.conditions:
                if current.operator == "or" and has_entity(child):
                    return False
                stack.append(child)
        elif isinstance(current, EntityCondition):
            count = current.count
            if current.without or current.aggregate is not None:
                return False
            if count.kind != "at_least" or count.n != 1:
                return False
            if current.where is not None:
                stack.append(current.where)
    return True


def has_entity(node: Condition) -> bool:
    """An entity node at or under ``node`` (through groups: an entity's ``where`` is its own)."""
    if isinstance(node, EntityCondition):
        return True
    if isinstance(node, GroupCondition):
        return any(has_entity(c) for c in node.conditions)
    return False


@dataclass
class FlatNode:
    """One entity node of a flat subtree: its relationship and its row's scope."""

    node: EntityCondition
    rel: RelationshipPath
    scope: Scope


@dataclass
class FlatJoin:
    """Builds the WHERE of a flat subtree, joining each nested node's rows into ``scope``.

    ``predicate`` compiles a column condition in a scope (the membership compiler's own
    builder, so operators, types and references are the same as everywhere else).
    """

    graph: DataGraph
    predicate: Callable[[Condition, Scope], exp.Expr]
    nodes: list[FlatNode] = field(default_factory=list)

    def where(self, node: Condition, scope: Scope) -> exp.Expr:
        if isinstance(node, GroupCondition):
            parts = [self.where(c, scope) for c in node.conditions]
            return connect(exp.And if node.operator == "and" else exp.Or, parts)
        if isinstance(node, EntityCondition):
            return self._nested(node, scope)
        return self.predicate(node, scope)

    def _nested(self, node: EntityCondition, scope: Scope) -> exp.Expr:
        rel = self.graph.relationship(node.relationship)
        assert rel is not None
        row = scope.alias("f")
        scope.joins.extend(nested_link_joins(rel, scope.row, row, scope.alias("fj")))
        child = scope.child(rel, row, entity_key(rel.entity, row))
        self.nodes.append(FlatNode(node, rel, child))
        parts: list[exp.Expr] = key_present(rel.entity, row)
        if node.where is not None:
            parts.append(self.where(node.where, child))
        return and_all(parts)
