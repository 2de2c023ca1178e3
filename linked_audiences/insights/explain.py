"""``la.explain``: why one profile is (or is not) in an audience, node by node.

For every node of the condition tree: whether it holds for the profile, its value (a
trait's value; the number of matching rows, or the aggregate over them, of an event or
entity node) and the first rows that made it hold.

A node directly under the root's ``and``/``or`` groups holds as the audience reads it. A
node inside an event's or an entity's ``where`` holds for the profile when it holds for
*some* row reachable through its ancestors (whatever the ancestors' other conditions):
"has an account with a premium card" explains ``premium`` under ``accounts`` even when the
account fails its own ``status`` test. Each node is compiled as an audience of its own —
the node with its ancestors reduced to "has a related row where …" — and one query asks
whether the profile is a member of each, so the answer is the compiler's, not a second
implementation's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlglot import exp

from linked_audiences.compiler.keys import entity_key, key_present
from linked_audiences.compiler.many import MEMBER, MemberSets
from linked_audiences.compiler.membership import Membership, entity_rows
from linked_audiences.compiler.scope import Scope
from linked_audiences.conditions import (
    AT_LEAST_ONE,
    Audience,
    Condition,
    EntityCondition,
    EventCondition,
    TraitCondition,
    UsersCondition,
    iter_children,
)
from linked_audiences.errors import DefinitionError
from linked_audiences.graph import DataGraph
from linked_audiences.insights import labels
from linked_audiences.insights.sets import member_sets
from linked_audiences.insights.values import plain
from linked_audiences.sql import cast_to, col, named, not_null, select, string, table
from linked_audiences.validation import validate_audience
from linked_audiences.warehouse import Warehouse

#: Rows shown per node (the count says how many there are).
ROWS_SHOWN = 10
#: Nodes evaluated, in depth-first order (the root included).
MAX_EVALUATED = 500


@dataclass(frozen=True)
class ExplainedNode:
    path: str
    kind: str
    label: str
    #: None: not evaluated (a node that cannot stand alone, e.g. inside a funnel step).
    holds: bool | None
    value: Any = None
    value_label: str | None = None
    #: The first :data:`ROWS_SHOWN` matching rows: ``source`` (relationship or event),
    #: ``id`` (entity key, or the event's timestamp) and ``values`` (its columns).
    rows: tuple[dict[str, Any], ...] = ()
    rows_total: int | None = None
    children: tuple[ExplainedNode, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "label": self.label,
            "holds": self.holds,
            "value": plain(self.value),
            "value_label": self.value_label,
            "rows": [
                {**r, "values": {k: plain(v) for k, v in r["values"].items()}} for r in self.rows
            ],
            "rows_total": self.rows_total,
            "children": [c.to_dict() for c in self.children],
        }

    def find(self, path: str) -> ExplainedNode:
        """The node at ``path`` (``$.condition.conditions[0]``…)."""
        if self.path == path:
            return self
        for child in self.children:
            if path.startswith(child.path):
                try:
                    return child.find(path)
                except KeyError:
                    continue
        raise KeyError(path)


@dataclass(frozen=True)
class Explanation:
    audience_key: str
    profile_id: str
    as_of: datetime
    member: bool
    tree: ExplainedNode

    def to_dict(self) -> dict[str, Any]:
        return {
            "audience_key": self.audience_key,
            "profile_id": self.profile_id,
            "as_of": self.as_of.isoformat(),
            "member": self.member,
            "tree": self.tree.to_dict(),
        }

    def _repr_html_(self) -> str:
        """A notebook shows the tree, each node marked as holding or failing."""
        from linked_audiences.notebook import explanation_html

        return explanation_html(self.to_dict())


@dataclass
class _Node:
    path: str
    node: Condition
    #: Event, entity and users nodes above this one, nearest first.
    ancestors: list[Condition]
    children: list[_Node] = field(default_factory=list)


def explain(
    audience: Audience,
    graph: DataGraph,
    warehouse: Warehouse,
    profile: str,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
) -> Explanation:
    """Every node of ``audience`` evaluated for the member ``profile`` (an account id for an
    account audience)."""
    validate_audience(audience, graph, audiences)
    root = _tree("$.condition", audience.condition, [])
    nodes = list(_flatten(root))
    position = {id(item): i for i, item in enumerate(nodes)}
    standalone: dict[str, Audience] = {"root": audience}
    # Each node is an audience of its own in one query: past a few hundred the query is
    # bigger than any reader of the tree needs, and later nodes show as not evaluated.
    for i, item in enumerate(nodes[1:MAX_EVALUATED], start=1):
        alone = audience.model_copy(update={"condition": _standalone(item)})
        try:
            validate_audience(alone, graph, audiences)
        except DefinitionError:
            continue
        standalone[f"n{i}"] = alone
    sets = member_sets(standalone, graph, warehouse, as_of=as_of, audiences=audiences)
    text = sets.dialect.TEXT_TYPE, sets.dialect.sqlglot_dialect

    def same_profile(x: exp.Expr) -> exp.Expr:
        return exp.EQ(this=cast_to(x, *text), expression=string(str(profile)))

    labels_ = list(standalone)
    checks = [
        named(
            exp.Exists(
                this=select(
                    [exp.Literal.number(1)],
                    sets.members(label, "s"),
                    where=[same_profile(col("s", MEMBER))],
                )
            ),
            f"h{i}",
        )
        for i, label in enumerate(labels_)
    ]
    row = warehouse.fetchall(sets.query(exp.Select(expressions=checks)))[0]
    held = dict(zip(labels_, (bool(v) for v in row), strict=True))

    details: dict[int, tuple[Any, str | None, tuple[dict[str, Any], ...], int | None]] = {}
    if audience.level == "profile":
        details = _details(nodes[:MAX_EVALUATED], sets, warehouse, same_profile)

    def build(item: _Node, index: int) -> ExplainedNode:
        label = "root" if index == 0 else f"n{index}"
        value, value_label, rows, total = details.get(index, (None, None, (), None))
        return ExplainedNode(
            item.path,
            labels.kind(item.node),
            labels.label(item.node),
            held.get(label),
            value,
            value_label,
            rows,
            total,
            tuple(build(c, position[id(c)]) for c in item.children),
        )

    return Explanation(audience.key, str(profile), sets.as_of, held["root"], build(root, 0))


def _tree(path: str, node: Condition, ancestors: list[Condition]) -> _Node:
    item = _Node(path, node, ancestors)
    below = (
        [node, *ancestors]
        if isinstance(node, (EventCondition, EntityCondition, UsersCondition))
        else ancestors
    )
    item.children = [_tree(path + suffix, child, below) for suffix, child in iter_children(node)]
    return item


def _flatten(item: _Node) -> list[_Node]:
    out = [item]
    for child in item.children:
        out.extend(_flatten(child))
    return out


def _standalone(item: _Node) -> Condition:
    """The node as an audience condition: itself, wrapped in each ancestor reduced to "has
    a related row (any user, for an account's users) where …"."""
    condition = item.node
    for ancestor in item.ancestors:
        if isinstance(ancestor, UsersCondition):
            condition = ancestor.model_copy(update={"quantifier": "any", "where": condition})
        else:
            condition = ancestor.model_copy(
                update={
                    "where": condition,
                    "without": False,
                    "count": AT_LEAST_ONE,
                    "aggregate": None,
                }
            )
    return condition


def _details(
    nodes: list[_Node], sets: MemberSets, warehouse: Warehouse, same_profile: Any
) -> dict[int, tuple[Any, str | None, tuple[dict[str, Any], ...], int | None]]:
    """Values and rows: trait values of top-level trait nodes (one query), and for each
    entity node and each top-level event node its matching rows."""
    out: dict[int, tuple[Any, str | None, tuple[dict[str, Any], ...], int | None]] = {}
    traits = [
        (i, item.node.trait)
        for i, item in enumerate(nodes)
        if isinstance(item.node, TraitCondition) and not item.ancestors
    ]
    if traits:
        names = list(dict.fromkeys(name for _, name in traits))
        query = select(
            [named(sets.trait("t", name), f"t{n}") for n, name in enumerate(names)],
            sets.traits("t"),
            where=[same_profile(col("t", "profile_id"))],
        )
        found = warehouse.fetchall(sets.query(query))
        values = dict(zip(names, found[0], strict=True)) if found else {}
        for i, name in traits:
            out[i] = (values.get(name), name, (), None)
    membership = Membership(sets.ctx)
    for i, item in enumerate(nodes):
        node = item.node
        if isinstance(node, EntityCondition) and not any(
            isinstance(a, (EventCondition, UsersCondition)) for a in item.ancestors
        ):
            out[i] = _entity_rows(
                node, not item.ancestors, membership, sets, warehouse, same_profile
            )
        elif isinstance(node, EventCondition) and not item.ancestors:
            out[i] = _event_rows(node, membership, sets, warehouse, same_profile)
    return out


def _entity_rows(
    node: EntityCondition,
    top: bool,
    membership: Membership,
    sets: MemberSets,
    warehouse: Warehouse,
    same_profile: Any,
) -> tuple[Any, str | None, tuple[dict[str, Any], ...], int | None]:
    ctx = sets.ctx
    rel = ctx.graph.relationship(node.relationship)
    assert rel is not None
    source = entity_rows(ctx, rel, path_mode=True)
    row = source.scope.row
    assert row is not None
    where = [
        *source.conditions,
        *key_present(rel.entity, row),
        same_profile(source.keys[0].copy()),
    ]
    if node.where is not None:
        where.append(membership.condition(node.where, source.scope, {}, required=True))
    columns = [named(entity_key(rel.entity, row), "la_id")]
    columns += [named(col(row, c), c) for c in rel.entity.columns]
    matching = select(columns, source.from_, source.scope.joins, where, distinct=True)
    return _rows_and_value(
        node,
        node.relationship,
        matching,
        list(rel.entity.columns),
        top,
        membership,
        sets,
        warehouse,
    )


def _event_rows(
    node: EventCondition,
    membership: Membership,
    sets: MemberSets,
    warehouse: Warehouse,
    same_profile: Any,
) -> tuple[Any, str | None, tuple[dict[str, Any], ...], int | None]:
    ctx = sets.ctx
    source = ctx.graph.event(node.event)
    assert source is not None
    profile, joins = ctx.event_profile(source, "ev", "g")
    scope = Scope(ctx, profile, [profile], joins=joins, event=source)
    ts = col("ev", source.timestamp)
    storage = ctx.storage(source.table, source.timestamp, "timestamp")
    where = [not_null(profile), not_null(ts), *membership.window(ts, node.window, storage)]
    where.append(same_profile(profile.copy()))
    if source.event_column is not None:
        where.append(exp.EQ(this=col("ev", source.event_column), expression=string(source.name)))
    if node.where is not None:
        where.append(membership.condition(node.where, scope, {}, required=True))
    properties = {}
    wanted = list(source.properties)
    if node.aggregate is not None and node.aggregate.property is not None:
        wanted.append(node.aggregate.property)  # page_name and the like need no declaring
    for name in dict.fromkeys(wanted):
        found = source.property_column(name)
        if found is not None:
            properties[name] = found[0]
    columns = [named(ts.copy(), "la_id")]
    columns += [named(col("ev", column), name) for name, column in properties.items()]
    matching = select(columns, table(source.table, "ev"), scope.joins, where)
    return _rows_and_value(
        node, node.event, matching, list(properties), True, membership, sets, warehouse
    )


def _rows_and_value(
    node: EventCondition | EntityCondition,
    source_name: str,
    matching: exp.Select,
    names: list[str],
    top: bool,
    membership: Membership,
    sets: MemberSets,
    warehouse: Warehouse,
) -> tuple[Any, str | None, tuple[dict[str, Any], ...], int | None]:
    """The first rows by id, their number and — for a top-level aggregate — the aggregate."""
    counted: list[exp.Expr] = [named(exp.Count(this=exp.Star()), "n")]
    value_label = "matching rows"
    if node.aggregate is not None and top:
        # The aggregate's own column name in the matching rows (a property's column is
        # selected under the property's name).
        column = node.aggregate.property or node.aggregate.column
        assert column is not None
        counted.append(named(_measure(membership, node, column), "agg"))
        value_label = f"{node.aggregate.function}({column})"
    totals = warehouse.fetchall(sets.query(select(counted, matching.copy().subquery("m"))))[0]
    total = int(totals[0] or 0)
    value: Any = totals[1] if len(totals) > 1 else total
    shown = matching.copy()
    shown.set("order", exp.Order(expressions=[exp.Ordered(this=exp.column("la_id", quoted=True))]))
    shown.set("limit", exp.Limit(expression=exp.Literal.number(ROWS_SHOWN)))
    rows = tuple(
        {
            "source": source_name,
            "id": plain(r[0]),
            "values": dict(zip(names, r[1:], strict=True)),
        }
        for r in warehouse.fetchall(sets.query(shown))
    )
    return value, value_label, rows, total


def _measure(
    membership: Membership, node: EventCondition | EntityCondition, column: str
) -> exp.Expr:
    """The node's aggregate over the matching rows' column ``column`` (alias ``m``)."""
    from linked_audiences.compiler import aggregates

    assert node.aggregate is not None
    _, dtype, storage = membership.aggregated_column(node)
    return aggregates.measure(membership.ctx, node.aggregate, col("m", column), dtype, storage)
