"""Who is in the audience: the condition tree, bottom-up, as CTEs keyed by their parent.

Shape (docs/compiler.md): each ``entity`` and ``event`` node becomes one CTE holding the keys
of the parents it holds for — grouped, with a HAVING for counts — and its parent LEFT JOINs
that CTE on the key. A CTE is unique on its keys, so nothing fans out and no DISTINCT over a
joined branch is ever needed. A node's holds-expression is then ``k0 IS [NOT] NULL``.

A subtree that compares with a trait or an ancestor's column cannot be keyed by a join value
alone (the answer depends on *which* parent row), so such a top-level subtree is keyed by the
full primary-key path from the profile instead ("path mode").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlglot import exp

from linked_audiences.compiler import aggregates, steps
from linked_audiences.compiler.context import (
    PROFILE_ID,
    CompileContext,
    Storage,
    col,
    cte_ref,
    string,
    table,
)
from linked_audiences.compiler.driver import Driver, choose_driver
from linked_audiences.compiler.flat import FlatJoin, flattenable, has_entity
from linked_audiences.compiler.keys import entity_key, equal_columns, key_present
from linked_audiences.compiler.links import nested_link_joins
from linked_audiences.compiler.predicates import comparison
from linked_audiences.compiler.scope import Scope
from linked_audiences.conditions import (
    Aggregate,
    Audience,
    AudienceCondition,
    ColumnCondition,
    ColumnReference,
    Comparison,
    Condition,
    Count,
    EntityCondition,
    EventCondition,
    GroupCondition,
    ParentReference,
    PropertyCondition,
    TraitCondition,
    TraitReference,
    Window,
    walk,
)
from linked_audiences.datatypes import DataType
from linked_audiences.graph import RelationshipPath
from linked_audiences.sql import connect, ident, not_null, select

Holds = dict[int, exp.Expr]
"""id(node) → the node's holds-expression in one scope (for matched entities)."""


def keys_as(keys: list[exp.Expr]) -> list[exp.Expr]:
    return [exp.alias_(k.copy(), f"k{i}", quoted=True, copy=False) for i, k in enumerate(keys)]


@dataclass(frozen=True)
class CountTest:
    """How a count form becomes a keyed CTE: which keys it keeps and whether presence holds."""

    having: Callable[[exp.Expr], exp.Expr] | None
    holds_when_present: bool
    #: An aggregate compared with a reference: the CTE carries it as column ``a`` and the
    #: parent compares (aggregates.py).
    compared: Aggregate | None = None

    @staticmethod
    def of(count: Count) -> CountTest:
        n = exp.Literal.number(count.n)
        if count.kind == "at_least":
            if count.n == 1:
                return CountTest(None, True)
            return CountTest(lambda c: exp.GTE(this=c, expression=n.copy()), True)
        if count.n == 0:  # exactly 0 / at_most 0: "has none"
            return CountTest(None, False)
        if count.kind == "exactly":
            return CountTest(lambda c: exp.EQ(this=c, expression=n.copy()), True)
        return CountTest(lambda c: exp.GT(this=c, expression=n.copy()), False)

    def holds(self, alias: str, without: bool) -> exp.Expr:
        present = exp.Is(this=col(alias, "k0"), expression=exp.null())
        test: exp.Expr = exp.Not(this=present) if self.holds_when_present else present
        return exp.Not(this=test) if without else test

    def exists(self, scope: Scope, cte: str, keys: list[exp.Expr], without: bool) -> exp.Expr:
        """The same test as a semi-join (``EXISTS``) or an anti-join (``NOT EXISTS``).

        Used where the node is a required conjunct: engines plan a semi-join from the
        selective side, where a LEFT JOIN fixes the order (docs/compiler.md, "Speed")."""
        alias = scope.alias("q")
        on: list[exp.Expr] = [
            exp.EQ(this=col(alias, f"k{i}"), expression=key.copy()) for i, key in enumerate(keys)
        ]
        probe = select([exp.Literal.number(1)], cte_ref(cte, alias), where=on)
        test: exp.Expr = exp.Exists(this=probe)
        if self.holds_when_present == without:
            test = exp.Not(this=test)
        return test


@dataclass
class MembersSelect:
    """The members SELECT and what matched entities reuse of it (same FROM, joins, WHERE)."""

    query: exp.Select
    scope: Scope
    holds: Holds
    from_: exp.Expr
    where: list[exp.Expr]


class Membership:
    """Compiles condition trees into CTEs on a shared :class:`CompileContext`."""

    def __init__(self, ctx: CompileContext) -> None:
        self.ctx = ctx
        self._ctes: dict[int, str] = {}
        #: The node whose CTE is the FROM of the audience SELECT being built: it holds there.
        self._driver: int | None = None
        #: Top-level entity nodes compiled as one join (compiler/flat.py).
        self.flat: set[int] = set()
        #: Nodes whose CTE is only probed by semi-joins, so not unique on its keys.
        self._ungrouped: set[int] = set()
        #: > 0 while compiling the branches of a split ``or`` (see ``_union_cte``).
        self._keep_grouped = 0
        #: Builds (once) the CTE of candidate profiles (``profile_id``) that replaces the
        #: universe: the member profiles of accounts, while compiling an account audience's
        #: ``users`` node.
        self.candidates: Callable[[], str] | None = None

    # -- audiences -------------------------------------------------------------------------

    def audience_select(self, audience: Audience, key: str = PROFILE_ID) -> MembersSelect:
        """SELECT of the members' ids, with the scope it was built in (for matched entities).

        It reads from the CTE of a node the audience needs rather than from every profile of
        the universe (compiler/driver.py), keeping a semi-join to the universe where that
        CTE may hold profiles outside it.
        """
        driver = choose_driver(self.ctx, audience, needs_path)
        node = driver.nodes[0] if driver.kind == "node" else None
        outer, self._driver = self._driver, (id(node) if node is not None else None)
        try:
            profile = col("u", "k0" if driver.kind in ("node", "union") else PROFILE_ID)
            scope = Scope(self.ctx, profile, [profile])
            if driver.kind == "traits":
                scope._shared["traits"] = "u"  # the FROM is the traits CTE
            holds: Holds = {}
            expr = self.condition(audience.condition, scope, holds, required=True)
        finally:
            self._driver = outer
        from_ = self._driver_from(driver, audience)
        where = [] if _is_true(expr) else [expr]
        # Inside a `users` node (candidates set) a profile read from a needed node's CTE may
        # be no account's member; the account side only probes members, so it is not
        # filtered out (a second scan of the memberships: 1.4x the hand-written query at a
        # million profiles).
        outside = driver.kind != "universe" and not driver.inside_universe
        if self.candidates is None and outside:
            where.append(self.ctx.in_universe(profile, audience.include_anonymous))
        query = select(
            [exp.alias_(profile.copy(), key, quoted=True, copy=False)],
            from_,
            scope.joins,
            where,
        )
        return MembersSelect(query, scope, holds, from_, where)

    def _driver_from(self, driver: Driver, audience: Audience) -> exp.Expr:
        if driver.kind == "node":
            return cte_ref(self._driver_cte(driver.nodes[0]), "u")
        if driver.kind == "traits":
            return cte_ref(self.ctx.TRAITS, "u")
        if driver.kind == "universe":
            if self.candidates is not None:
                return cte_ref(self.candidates(), "u")
            return cte_ref(self.ctx.universe(audience.include_anonymous), "u")
        parts = [select([col("d", "k0")], cte_ref(self._driver_cte(n), "d")) for n in driver.nodes]
        union: exp.Query = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=True, copy=False)
        return exp.Subquery(this=union, alias=exp.TableAlias(this=ident("u")))

    def _driver_cte(self, node: Condition) -> str:
        if isinstance(node, AudienceCondition):
            return self.audience_cte(node.key)
        return self._ctes[id(node)]

    def audience_cte(self, key: str) -> str:
        """Another audience's members, compiled inline once however often it is named.

        Always over its own universe, also when named inside an account's ``users`` node."""
        if key not in self.ctx.audience_ctes:
            outer, self.candidates = self.candidates, None
            try:
                members = self.audience_select(self.ctx.audiences[key], key="k0")
            finally:
                self.candidates = outer
            self.ctx.audience_ctes[key] = self.ctx.add_cte("aud", members.query)
        return self.ctx.audience_ctes[key]

    # -- nodes -----------------------------------------------------------------------------

    def condition(
        self, node: Condition, scope: Scope, holds: Holds, required: bool = False
    ) -> exp.Expr:
        """The node's holds-expression in ``scope``; records it in ``holds`` by node id.

        ``required``: the node must hold for the SELECT's row to be kept (it is reached from
        the WHERE through ``and`` groups only). Such nodes become semi-joins; elsewhere
        (under ``or``) a LEFT JOIN and a presence test, which every engine plans well.
        Either form means the same, so the choice is only about speed."""
        builder = _NODE_BUILDERS[type(node)]
        expr = builder(self, node, scope, holds, required)
        holds[id(node)] = expr
        return expr

    def _group(self, node: GroupCondition, scope: Scope, holds: Holds, required: bool) -> exp.Expr:
        conjunction = node.operator == "and"
        parts = [self.condition(c, scope, holds, required and conjunction) for c in node.conditions]
        if conjunction:
            parts = [p for p in parts if not _is_true(p)] or [exp.true()]
        # No copies: ``holds`` keeps pointers into this tree, and callers copy what they reuse.
        return connect(exp.And if conjunction else exp.Or, parts)

    def _presence(
        self,
        node: Condition,
        scope: Scope,
        cte: str,
        keys: list[exp.Expr],
        test: CountTest,
        without: bool,
        required: bool,
    ) -> exp.Expr:
        """How a keyed CTE's test reaches its parent SELECT: the FROM, a semi-join or a join."""
        if id(node) == self._driver:
            return exp.true()
        if test.compared is not None:
            return self._compared(node, scope, cte, keys, test.compared, without)
        aggregate = isinstance(node, (EventCondition, EntityCondition)) and node.aggregate
        if required and aggregate and test.holds_when_present and not without:
            # The CTE holds one row per key that passed its HAVING (few, at most one per
            # parent): an inner join lets the engine build its hash table on them, where a
            # semi-join built it on every parent row (TPC-H t12: 1.56x -> 0.98x).
            scope.left_join(cte, keys, side=None)
            return exp.true()
        if required:
            return test.exists(scope, cte, keys, without)
        assert id(node) not in self._ungrouped, "a LEFT JOIN to a CTE not unique on its keys"
        return test.holds(scope.left_join(cte, keys), without)

    def _compared(
        self,
        node: Condition,
        scope: Scope,
        cte: str,
        keys: list[exp.Expr],
        aggregate: Aggregate,
        without: bool,
    ) -> exp.Expr:
        """An aggregate compared with a reference, where the parent sees both: the CTE's
        ``a`` (0 for ``count_distinct`` over no rows, else NULL) against the reference."""
        assert isinstance(node, (EventCondition, EntityCondition))
        alias = scope.left_join(cte, keys)
        value: exp.Expr = col(alias, "a")
        if aggregate.function == "count_distinct":
            value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
        return self.compare_aggregate(node, aggregate, value, scope, without)

    def compare_aggregate(
        self,
        node: EventCondition | EntityCondition,
        aggregate: Aggregate,
        value: exp.Expr,
        scope: Scope,
        without: bool,
    ) -> exp.Expr:
        """``value`` (the node's aggregate) against the aggregate's literal or reference."""
        _, dtype, storage = self.aggregated_column(node)
        reference = None
        if aggregate.reference is not None:
            kind = aggregates.result_type(aggregate, dtype)
            reference, ref_storage = self._reference(aggregate.reference, scope)
            reference = self.ctx.as_declared(reference, kind, ref_storage)
            if kind == "timestamp":
                value, storage, reference = self.ctx.same_kind(
                    value, storage, reference, ref_storage
                )
        predicate = aggregates.compare(self.ctx, aggregate, value, dtype, storage, reference)
        if not without:
            return predicate
        return exp.Not(this=exp.Coalesce(this=predicate, expressions=[exp.false()]))

    def _comparison(
        self, node: Comparison, x: exp.Expr, dtype: DataType, scope: Scope, storage: Storage
    ) -> exp.Expr:
        """``x`` compared as its declared type says, with literals of its stored kind, so the
        answer never depends on the session time zone."""
        x = self.ctx.as_declared(x, dtype, storage)
        reference: exp.Expr | None = None
        if node.reference is not None:
            reference, ref_storage = self._reference(node.reference, scope)
            reference = self.ctx.as_declared(reference, dtype, ref_storage)
            if dtype == "timestamp":
                x, storage, reference = self.ctx.same_kind(x, storage, reference, ref_storage)
        return comparison(self.ctx, x, dtype, node.operator, node.value, reference, storage)

    def _reference(
        self, reference: TraitReference | ColumnReference | ParentReference, scope: Scope
    ) -> tuple[exp.Expr, Storage]:
        if isinstance(reference, TraitReference):
            value = self.ctx.trait(scope.traits(), reference.trait)
            return value, self.ctx.trait_storage(reference.trait)
        if isinstance(reference, ParentReference):
            parent = scope.parent
            assert parent is not None and parent.event is not None
            column, dtype = parent.event.property_column(reference.parent)  # type: ignore[misc]
            storage = self.ctx.storage(parent.event.table, column, dtype)
            return col(parent.event_alias, column), storage
        rel = self.ctx.graph.relationship(reference.relationship)
        assert rel is not None
        value = col(scope.rows[reference.relationship], reference.column)
        declared = rel.entity.columns[reference.column]
        return value, self.ctx.storage(rel.entity.table, reference.column, declared)

    def _trait(self, node: TraitCondition, scope: Scope, holds: Holds, required: bool) -> exp.Expr:
        dtype = self.ctx.graph.trait_type(node.trait)
        assert dtype is not None
        x = self.ctx.trait(scope.traits(), node.trait)
        predicate = self._comparison(node, x, dtype, scope, self.ctx.trait_storage(node.trait))
        if not node.without:
            return predicate
        return exp.Not(this=exp.Coalesce(this=predicate, expressions=[exp.false()]))

    def _column(
        self, node: ColumnCondition, scope: Scope, holds: Holds, required: bool
    ) -> exp.Expr:
        assert scope.rel is not None
        dtype = scope.rel.entity.columns[node.column]
        storage = self.ctx.storage(scope.rel.entity.table, node.column, dtype)
        return self._comparison(node, col(scope.row, node.column), dtype, scope, storage)

    def _property(
        self, node: PropertyCondition, scope: Scope, holds: Holds, required: bool
    ) -> exp.Expr:
        source = scope.event
        assert source is not None
        column, dtype = source.property_column(node.property)  # type: ignore[misc]
        storage = self.ctx.storage(source.table, column, dtype)
        return self._comparison(node, col(scope.event_alias, column), dtype, scope, storage)

    def _audience(
        self, node: AudienceCondition, scope: Scope, holds: Holds, required: bool
    ) -> exp.Expr:
        cte = self.audience_cte(node.key)
        test = CountTest(None, True)
        return self._presence(node, scope, cte, scope.path[:1], test, node.without, required)

    def _event(self, node: EventCondition, scope: Scope, holds: Holds, required: bool) -> exp.Expr:
        if scope.event is not None:  # a funnel step, per row of the parent event
            return steps.step(self, node, scope)
        test = self._test(node)
        if id(node) not in self._ctes:
            self._ctes[id(node)] = self._event_cte(node, test, self._grouped(node, test, required))
        cte = self._ctes[id(node)]
        return self._presence(node, scope, cte, scope.path[:1], test, node.without, required)

    def _test(self, node: EventCondition | EntityCondition) -> CountTest:
        """The node's count, or its aggregate compared with a literal (a HAVING) or with a
        reference (compared by the parent)."""
        aggregate = node.aggregate
        if aggregate is None:
            return CountTest.of(node.count)
        if aggregate.reference is not None:
            return CountTest(None, True, compared=aggregate)
        dtype, storage = self.aggregated_column(node)[1:]
        test, when_present = aggregates.having(self.ctx, aggregate, dtype, storage)
        return CountTest(test, when_present)

    def aggregated_column(
        self, node: EventCondition | EntityCondition
    ) -> tuple[str, DataType, Storage]:
        """The column an aggregate reads, its declared type and how it is stored."""
        aggregate = node.aggregate
        assert aggregate is not None
        if isinstance(node, EventCondition):
            source = self.ctx.graph.event(node.event)
            assert source is not None and aggregate.property is not None
            column, dtype = source.property_column(aggregate.property)  # type: ignore[misc]
            return column, dtype, self.ctx.storage(source.table, column, dtype)
        rel = self.ctx.graph.relationship(node.relationship)
        assert rel is not None and aggregate.column is not None
        dtype = rel.entity.columns[aggregate.column]
        storage = self.ctx.storage(rel.entity.table, aggregate.column, dtype)
        return aggregate.column, dtype, storage

    def measure(self, node: EventCondition | EntityCondition, row: str) -> exp.Expr:
        """The node's aggregate over the column of row alias ``row``."""
        assert node.aggregate is not None
        column, dtype, storage = self.aggregated_column(node)
        return aggregates.measure(self.ctx, node.aggregate, col(row, column), dtype, storage)

    def _entity(
        self, node: EntityCondition, scope: Scope, holds: Holds, required: bool
    ) -> exp.Expr:
        rel = self.ctx.graph.relationship(node.relationship)
        assert rel is not None
        path_mode = scope.path_mode or (scope.rel is None and needs_path(node))
        test = self._test(node)
        if id(node) not in self._ctes:
            if scope.rel is None and path_mode and flattenable(node):
                grouped = self._grouped(node, test, required)
                self._ctes[id(node)] = self._flat_cte(node, rel, test, grouped)
            else:
                grouped = self._grouped(node, test, required)
                self._ctes[id(node)] = self._entity_cte(node, rel, test, path_mode, grouped)
        if path_mode:
            keys = scope.path
        elif scope.rel is None and rel.relationship.trait is not None:
            # Keyed by the linking trait's value, like a nested node by its join column.
            keys = [self.ctx.trait(scope.traits(), rel.relationship.trait.name)]
        elif scope.rel is None:
            keys = scope.path[:1]
        else:
            keys = [col(scope.row, c) for c in rel.parent_key_columns()]
        cte = self._ctes[id(node)]
        return self._presence(node, scope, cte, keys, test, node.without, required)

    # -- CTEs ------------------------------------------------------------------------------

    def _grouped(self, node: Condition, test: CountTest, required: bool) -> bool:
        """Whether the node's CTE must be unique on its keys.

        A LEFT JOIN needs unique keys (it must not repeat the parent's row), and so does the
        FROM of the members SELECT; a semi-join does not, and grouping a CTE only ever
        probed by one costs a hash aggregate over every matching row (docs/compiler.md,
        "Speed"). A node is probed the same way wherever it is compiled (members and
        matched entities see the same ``and``/``or`` structure)."""
        grouped = (
            not required
            or test.having is not None
            or test.compared is not None
            # the FROM of a members SELECT must be unique, but inside a `users` node the
            # SELECT is only probed by semi-joins (PostgreSQL: 2.3x -> 1.1x the hand query)
            or (id(node) == self._driver and self.candidates is None)
            or self._keep_grouped > 0
        )
        if not grouped:
            self._ungrouped.add(id(node))
        return grouped

    def _entity_cte(
        self,
        node: EntityCondition,
        rel: RelationshipPath,
        test: CountTest,
        path_mode: bool,
        grouped: bool,
    ) -> str:
        """Keys of the parents (rows, or profiles) that have the matching related rows."""
        counts = test.having is None and test.compared is None
        branches = or_branches(node.where) if counts and not path_mode else None
        if branches is not None:
            return self._union_cte(rel, branches, grouped)
        source = entity_rows(self.ctx, rel, path_mode)
        where = [*source.conditions]
        if node.where is not None:
            where.append(self.condition(node.where, source.scope, {}, required=True))
        return self._keys_cte(node, source, rel, where, test, grouped, source.rows_unique)

    def _keys_cte(
        self,
        node: EntityCondition,
        source: RowSource,
        rel: RelationshipPath,
        where: list[exp.Expr],
        test: CountTest,
        grouped: bool,
        rows_unique: bool,
    ) -> str:
        """The keys of ``source``'s rows that satisfy ``where``, counted for ``test``.

        Rows are counted with COUNT(*) where no join can repeat one (a second hash aggregate
        per primary key otherwise: docs/compiler.md, "Counts"). An aggregate reads each
        entity once: where a join can repeat a row, a sum or an average reads the distinct
        (keys, primary key) rows first."""
        pk = entity_key(rel.entity, source.scope.row)
        present = key_present(rel.entity, source.scope.row)
        filters = [*(not_null(k) for k in source.keys), *present, *where]
        if node.aggregate is not None:
            return self._aggregate_cte(node, source, pk, filters, test, rows_unique)
        counted = exp.Count(
            this=exp.Star() if rows_unique else exp.Distinct(expressions=[pk.copy()])
        )
        query = select(
            keys_as(source.keys),
            source.from_,
            source.scope.joins,
            filters,
            group=source.keys if grouped else None,
            having=test.having(counted) if test.having else None,
        )
        return self.ctx.add_cte("q", query)

    def _aggregate_cte(
        self,
        node: EntityCondition,
        source: RowSource,
        pk: exp.Expr,
        filters: list[exp.Expr],
        test: CountTest,
        rows_unique: bool,
    ) -> str:
        assert node.aggregate is not None
        keys: list[exp.Expr] = list(source.keys)
        from_, joins, row = source.from_, source.scope.joins, source.scope.row
        if node.aggregate.function in ("sum", "avg") and not rows_unique:
            column = self.aggregated_column(node)[0]
            distinct = select(
                [
                    *keys_as(keys),
                    exp.alias_(pk.copy(), "p", quoted=True, copy=False),
                    exp.alias_(col(row, column), column, quoted=True, copy=False),
                ],
                from_,
                joins,
                filters,
            )
            distinct.set("distinct", exp.Distinct())
            keys = [col("d", f"k{i}") for i in range(len(keys))]
            from_ = exp.Subquery(this=distinct, alias=exp.TableAlias(this=ident("d")))
            joins, filters, row = [], [], "d"
        value = self.measure(node, row)
        columns = keys_as(keys)
        if test.compared is not None:
            columns.append(exp.alias_(value, "a", quoted=True, copy=False))
        query = select(
            columns,
            from_,
            joins,
            filters,
            group=keys,
            having=test.having(value) if test.having else None,
        )
        return self.ctx.add_cte("q", query)

    def flat_join(self) -> FlatJoin:
        """A builder of flat-subtree WHEREs whose column conditions compile as anywhere else."""
        return FlatJoin(self.ctx.graph, lambda c, s: self.condition(c, s, {}, required=True))

    def _union_cte(
        self, rel: RelationshipPath, branches: list[list[Condition]], grouped: bool
    ) -> str:
        """Keys with a row satisfying some branch of an ``or``: one SELECT per branch.

        One SELECT with LEFT JOINs to every branch's children reads every row any branch
        might want, joins all of them to every child, and filters last; a SELECT per branch
        prunes the scan with that branch's own filters and probes only its own children.
        Only for presence tests (a count would count a row once per branch it satisfies)."""
        self._keep_grouped += 1  # matched entities LEFT JOIN these children (``or`` guards)
        try:
            parts: list[exp.Select] = []
            for conjuncts in branches:
                source = entity_rows(self.ctx, rel, path_mode=False)
                where = [
                    *source.conditions,
                    *(not_null(k) for k in source.keys),
                    *key_present(rel.entity, source.scope.row),
                    *(self.condition(c, source.scope, {}, required=True) for c in conjuncts),
                ]
                parts.append(select(keys_as(source.keys), source.from_, source.scope.joins, where))
        finally:
            self._keep_grouped -= 1
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=grouped, copy=False)
        return self.ctx.add_cte("q", query)

    def _flat_cte(
        self, node: EntityCondition, rel: RelationshipPath, test: CountTest, grouped: bool
    ) -> str:
        """Profiles with a chain of rows satisfying the whole subtree: one join, grouped once."""
        source = entity_rows(self.ctx, rel, path_mode=True)
        where = [*source.conditions]
        if node.where is not None:
            where.append(self.flat_join().where(node.where, source.scope))
        self.flat.add(id(node))
        # The join repeats a top row once per chain below it: count distinct keys.
        return self._keys_cte(node, source, rel, where, test, grouped, rows_unique=False)

    def _event_cte(self, node: EventCondition, test: CountTest, grouped: bool) -> str:
        """Profiles with the matching events, counted in the window."""
        source = self.ctx.graph.event(node.event)
        assert source is not None
        profile, joins = self.ctx.event_profile(source, "ev", "g")
        scope = Scope(self.ctx, profile, [profile], joins=joins, event=source)
        ts = col("ev", source.timestamp)
        storage = self.ctx.storage(source.table, source.timestamp, "timestamp")
        where = [not_null(profile), not_null(ts), *self.window(ts, node.window, storage)]
        if source.event_column is not None:
            where.append(
                exp.EQ(this=col("ev", source.event_column), expression=string(source.name))
            )
        if node.where is not None:
            where.append(self.condition(node.where, scope, {}, required=True))
        counted = self.measure(node, "ev") if node.aggregate else exp.Count(this=exp.Star())
        having = test.having(counted) if test.having else None
        columns = keys_as([profile])
        if test.compared is not None:
            columns.append(exp.alias_(counted, "a", quoted=True, copy=False))
        query = select(
            columns,
            table(source.table, "ev"),
            scope.joins,
            where,
            group=[profile] if grouped else None,
            having=having,
        )
        return self.ctx.add_cte("e", query)

    def window(self, ts: exp.Expr, window: Window | None, storage: Storage) -> list[exp.Expr]:
        """Window bounds, from the one ``as_of`` literal; events after ``as_of`` never count.
        Bounds have the timestamp column's stored kind (an instant, or zone-less UTC)."""

        def bound(days: int) -> exp.Expr:
            return self.ctx.days_from_as_of(days, "timestamp", storage)

        upper = exp.LTE(this=ts.copy(), expression=bound(0))
        if window is None:
            return [upper]
        if window.within_last_days is not None:
            return [exp.GTE(this=ts.copy(), expression=bound(-window.within_last_days)), upper]
        assert window.between_days_ago is not None
        near, far = window.between_days_ago
        return [
            exp.GTE(this=ts.copy(), expression=bound(-far)),
            exp.LT(this=ts.copy(), expression=bound(-near)),
        ]


@dataclass
class RowSource:
    """FROM + joins that produce an entity node's rows, with the keys to group them by."""

    from_: exp.Expr
    scope: Scope
    keys: list[exp.Expr]
    conditions: list[exp.Expr]
    #: Each entity row appears once per key: primary keys are unique and nothing joined in
    #: can repeat a row (an identifiers table or a junction table can).
    rows_unique: bool = False


def entity_rows(ctx: CompileContext, rel: RelationshipPath, path_mode: bool) -> RowSource:
    """Rows of ``rel``'s entity keyed by the parent join value or, in path mode, the path."""
    chain = list(reversed(list(rel.ancestors())))
    if not path_mode and rel.parent is not None:
        return _nested_rows(ctx, rel)
    if not path_mode and rel.relationship.trait is not None:
        # Keyed by the join column: the profile side probes with its trait's value, so the
        # rows are never joined to the traits (a 1.5-million-row join for TPC-H's orders).
        row = f"r{rel.depth}"
        scope = Scope(ctx, None, []).child(rel, row, entity_key(rel.entity, row))
        key = col(row, rel.relationship.trait.join_key)
        return RowSource(table(rel.entity.table, row), scope, [key], [], rows_unique=True)
    top = chain[0]
    from_, profile, conditions = _top_link_source(ctx, top)
    scope = Scope(ctx, profile, [profile], path_mode=path_mode)
    if top.relationship.trait is not None:
        scope._shared["traits"] = "tr"  # the FROM already is the traits CTE
    row = "r2"
    joins: list[exp.Join] = [top_link_join(ctx, top, row, profile, conditions)]
    scope = scope.child(top, row, entity_key(top.entity, row))
    scope.joins.extend(joins)
    for level in chain[1:]:
        row = f"r{level.depth}"
        scope.joins.extend(nested_link_joins(level, scope.row, row))
        conditions.extend(key_present(scope.rel.entity, scope.row))  # type: ignore[union-attr]
        scope = scope.child(level, row, entity_key(level.entity, row))
    # From the one-row-per-profile traits CTE straight to the entity, nothing repeats a row.
    unique = len(chain) == 1 and top.relationship.trait is not None
    return RowSource(from_, scope, scope.path[:-1], conditions, rows_unique=unique)


def _nested_rows(ctx: CompileContext, rel: RelationshipPath) -> RowSource:
    row = f"r{rel.depth}"
    junction = rel.relationship.junction_table
    scope = Scope(ctx, None, [])
    if junction is None:
        keys: list[exp.Expr] = [col(row, child) for _, child in rel.join_pairs()]
        from_: exp.Expr = table(rel.entity.table, row)
    else:
        left, right = rel.junction_pairs()
        keys = [col("j", jc) for _, jc in left]
        from_ = table(junction.table, "j")
        scope.joins.append(
            exp.Join(
                this=table(rel.entity.table, row),
                on=equal_columns(row, "j", [(child, jc) for jc, child in right]),
            )
        )
    scope = scope.child(rel, row, entity_key(rel.entity, row))
    return RowSource(from_, scope, keys, [], rows_unique=junction is None)


def _top_link_source(
    ctx: CompileContext, top: RelationshipPath
) -> tuple[exp.Expr, exp.Expr, list[exp.Expr]]:
    """Where a top-level relationship starts when no profile is in the FROM yet."""
    key = ctx.graph.profile.key
    if top.relationship.external_id is not None:
        link = top.relationship.external_id
        return (
            table(ctx.graph.profile.identifiers_table, "i"),
            col("i", key),
            [
                exp.EQ(this=col("i", "type"), expression=string(link.type)),
                not_null(col("i", "value")),
            ],
        )
    return cte_ref(ctx.TRAITS, "tr"), col("tr", PROFILE_ID), []


def top_link_join(
    ctx: CompileContext,
    top: RelationshipPath,
    row: str,
    profile: exp.Expr,
    conditions: list[exp.Expr],
) -> exp.Join:
    """JOIN the top-level entity to the source :func:`_top_link_source` started from."""
    rel = top.relationship
    if rel.external_id is not None:
        on = exp.EQ(this=col(row, rel.external_id.join_key), expression=col("i", "value"))
    else:
        assert rel.trait is not None
        on = exp.EQ(this=col(row, rel.trait.join_key), expression=ctx.trait("tr", rel.trait.name))
    return exp.Join(this=table(top.entity.table, row), on=on)


def profile_link_joins(
    ctx: CompileContext, top: RelationshipPath, profile: exp.Expr, row: str, scope: Scope
) -> list[exp.Join]:
    """JOINs from a profile id already in the FROM to its top-level entity rows."""
    rel = top.relationship
    if rel.external_id is not None:
        ids = scope.alias("i")
        on = exp.and_(
            exp.EQ(this=col(ids, ctx.graph.profile.key), expression=profile.copy()),
            exp.EQ(this=col(ids, "type"), expression=string(rel.external_id.type)),
        )
        return [
            exp.Join(this=table(ctx.graph.profile.identifiers_table, ids), on=on),
            exp.Join(
                this=table(top.entity.table, row),
                on=exp.EQ(this=col(row, rel.external_id.join_key), expression=col(ids, "value")),
            ),
        ]
    assert rel.trait is not None
    value = ctx.trait(scope.traits(), rel.trait.name)
    return [
        exp.Join(
            this=table(top.entity.table, row),
            on=exp.EQ(this=col(row, rel.trait.join_key), expression=value),
        )
    ]


def or_branches(where: Condition | None) -> list[list[Condition]] | None:
    """The conjuncts of each branch when ``where`` is an ``or`` over entity nodes, or an
    ``and`` with one such ``or`` (its other members go into every branch); else None."""
    if not isinstance(where, GroupCondition):
        return None
    if where.operator == "or":
        return [[b] for b in where.conditions] if has_entity(where) else None
    splits = [
        c
        for c in where.conditions
        if isinstance(c, GroupCondition) and c.operator == "or" and has_entity(c)
    ]
    if len(splits) != 1:
        return None
    common = [c for c in where.conditions if c is not splits[0]]
    return [[*common, b] for b in splits[0].conditions]


def _is_true(e: exp.Expr) -> bool:
    return isinstance(e, exp.Boolean) and e.this is True


def needs_path(node: EntityCondition) -> bool:
    """True when the subtree compares with a trait or with a strict ancestor's column.

    Each entity node is checked against its *own* column conditions only: a nested node
    comparing two columns of its own row (``outstanding_balance >= credit_limit``) stays in
    the cheap shape keyed by the join value.
    """
    return any(
        isinstance(n, EntityCondition)
        and (
            _refers_upward(n.relationship, n.where)
            or (n.aggregate is not None and isinstance(n.aggregate.reference, TraitReference))
        )
        for _, n in walk(node)
    )


def _refers_upward(entity_slug: str, where: Condition | None) -> bool:
    for column in _own_columns(where):
        ref = column.reference
        if isinstance(ref, TraitReference):
            return True
        if isinstance(ref, ColumnReference) and ref.relationship != entity_slug:
            return True
    return False


def _own_columns(where: Condition | None) -> Iterator[ColumnCondition]:
    """Column conditions of one entity node's ``where``, not those of nested entity nodes."""
    stack = [where] if where is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, GroupCondition):
            stack.extend(current.conditions)
        elif isinstance(current, ColumnCondition):
            yield current


_NODE_BUILDERS: dict[type, Callable[..., exp.Expr]] = {
    GroupCondition: Membership._group,
    TraitCondition: Membership._trait,
    AudienceCondition: Membership._audience,
    EventCondition: Membership._event,
    EntityCondition: Membership._entity,
    PropertyCondition: Membership._property,
    ColumnCondition: Membership._column,
}
