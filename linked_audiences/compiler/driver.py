"""Where the members SELECT reads its candidate profiles from (docs/compiler.md).

Every member must be in the universe (a profile with an identifier of a known type), and
the obvious FROM — ``SELECT DISTINCT profile FROM identifiers WHERE type IN (…)`` — was the
largest operator of most queries (a 900,000-group hash aggregate at a million profiles). A
node the audience needs already names a small superset of the members, so the SELECT reads
from its CTE instead, and keeps a semi-join to the universe only when that CTE may hold
profiles outside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from linked_audiences.compiler.aggregates import holds_over_nothing
from linked_audiences.compiler.context import CompileContext
from linked_audiences.conditions import (
    Audience,
    AudienceCondition,
    Condition,
    EntityCondition,
    EventCondition,
    GroupCondition,
    TraitCondition,
)
from linked_audiences.graph_traits import COUNTING
from linked_audiences.validation import ANONYMOUS_IDENTIFIER_TYPE, UNIVERSE_IDENTIFIER_TYPES


@dataclass(frozen=True)
class Driver:
    """``node``: the CTE of a needed node (it holds for every row read); ``union``: the
    union of one needed node's CTE per branch of a root ``or``; ``traits``: the traits CTE
    (a needed trait comparison, or a needed entity reached through a trait, rejects profiles
    without traits; not a computed count, which is 0 for them); ``universe``: every profile
    of the universe."""

    kind: Literal["node", "union", "traits", "universe"]
    nodes: tuple[Condition, ...] = ()
    inside_universe: bool = False


def choose_driver(
    ctx: CompileContext, audience: Audience, path_mode: Callable[[EntityCondition], bool]
) -> Driver:
    """``path_mode``: whether a top-level entity node is keyed by profile paths (its CTE
    then holds profiles even when it is reached through a trait)."""
    allowed = {*UNIVERSE_IDENTIFIER_TYPES}
    if audience.include_anonymous:
        allowed.add(ANONYMOUS_IDENTIFIER_TYPE)
    chooser = _Chooser(ctx, audience, allowed, path_mode)
    found = chooser.needed(audience.condition)
    if found is not None:
        return found
    root = _unwrapped(audience.condition)
    if isinstance(root, GroupCondition) and root.operator == "or":
        parts = [chooser.needed(branch) for branch in root.conditions]
        if all(p is not None and p.kind == "node" for p in parts):
            nodes = tuple(p.nodes[0] for p in parts if p is not None)
            inside = all(p is not None and p.inside_universe for p in parts)
            return Driver("union", nodes, inside)
    return Driver("universe")


@dataclass
class _Chooser:
    ctx: CompileContext
    audience: Audience
    allowed: set[str]
    path_mode: Callable[[EntityCondition], bool]

    def needed(self, condition: Condition) -> Driver | None:
        """The best driver among the nodes ``condition`` needs to hold, if any."""
        fallback: Condition | None = None
        traits = False
        for node in required_conjuncts(condition):
            if isinstance(node, AudienceCondition):
                if node.without:
                    continue
                other = self.ctx.audiences[node.key]
                if self.audience.include_anonymous or not other.include_anonymous:
                    return Driver("node", (node,), True)
                fallback = fallback or node
            elif isinstance(node, EntityCondition | EventCondition):
                if node.without or not _present(node):
                    continue
                if isinstance(node, EntityCondition):
                    rel = self.ctx.graph.relationship(node.relationship)
                    assert rel is not None
                    link = rel.relationship.external_id
                    if link is not None and link.type in self.allowed:
                        return Driver("node", (node,), True)
                    if link is None and not self.path_mode(node):
                        traits = True  # its CTE holds the trait's values, not profiles
                        continue
                fallback = fallback or node
            elif (
                isinstance(node, TraitCondition)
                and not node.without
                and node.operator != "not_exists"
                and not _zero_without_row(self.ctx, node.trait)
            ):
                traits = True  # false on NULL: a profile without traits is never a member
        if fallback is not None:
            return Driver("node", (fallback,))
        return Driver("traits") if traits else None


def _zero_without_row(ctx: CompileContext, trait: str) -> bool:
    """A computed count is 0, not NULL, for a profile without any row in the traits CTE,
    so a comparison with it may hold for profiles the traits CTE does not list."""
    computed = ctx.graph.computed_traits.get(trait)
    return computed is not None and computed.function in COUNTING


def _present(node: EntityCondition | EventCondition) -> bool:
    """The node holds when its CTE has the key (see CountTest; an aggregate compared with a
    reference is decided by the parent, and ``count_distinct`` can hold over no rows)."""
    if node.aggregate is not None:
        return node.aggregate.reference is None and not holds_over_nothing(node.aggregate)
    count = node.count
    return not (count.n == 0 or count.kind == "at_most")


def _unwrapped(node: Condition) -> Condition:
    while isinstance(node, GroupCondition) and len(node.conditions) == 1:
        node = node.conditions[0]
    return node


def required_conjuncts(node: Condition) -> list[Condition]:
    """Nodes that must hold for ``node`` to hold: itself, or the members of ``and`` groups."""
    node = _unwrapped(node)
    if isinstance(node, GroupCondition):
        if node.operator == "or":
            return []
        return [n for child in node.conditions for n in required_conjuncts(child)]
    return [node]
