"""SQL of one run: snapshot the membership, then diff it against the baseline into events.

Everything happens in the warehouse with INSERT … SELECT: the snapshot of this run, the
anti-joins against the previous committed run's snapshot, and the event payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from linked_audiences.compiler import CompiledAudience
from linked_audiences.compiler.keys import entity_key
from linked_audiences.dialects import WarehouseDialect
from linked_audiences.graph import DataGraph
from linked_audiences.identifiers import picked_identifiers
from linked_audiences.runs.events import Activation
from linked_audiences.runs.state import ENTITIES, MEMBERS, State, TableSpec
from linked_audiences.sql import col, cte_ref, not_null, select, string, table


def _count_if(condition: exp.Expr) -> exp.Expr:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): counts rows on every warehouse."""
    return exp.Sum(
        this=exp.Case(
            ifs=[exp.If(this=condition, true=exp.Literal.number(1))],
            default=exp.Literal.number(0),
        )
    )


NO_RUN = ""  # previous_run_id of a first run: never a real run id
#: Warehouses that compute a CTE named twice in a statement once (DuckDB, PostgreSQL and
#: Snowflake materialize it; BigQuery, Redshift and Spark may inline it twice).
SHARED_CTES = frozenset({"duckdb", "postgres", "snowflake"})
_SNAPSHOT_MEMBERS = "la_snapshot_members"
_SNAPSHOT_ENTITIES = "la_snapshot_entities"


@dataclass
class RunSql:
    state: State
    compiled: CompiledAudience
    graph: DataGraph
    run_id: str
    previous_run_id: str

    @property
    def key(self) -> str:
        return self.compiled.audience.key

    @property
    def dialect(self) -> WarehouseDialect:
        return self.compiled.dialect

    def _text(self, e: exp.Expr) -> exp.Expr:
        return exp.cast(
            e, exp.DataType.build(self.dialect.TEXT_TYPE, dialect=self.dialect.sqlglot_dialect)
        )

    def _insert(self, spec: TableSpec, query: exp.Query) -> exp.Insert:
        target = exp.Schema(
            this=self.state.table(spec),
            expressions=[exp.to_identifier(c, quoted=True) for c, _ in spec.columns],
        )
        # graph tables the query reads, as the warehouse stores their names
        return exp.Insert(this=target, expression=self.compiled.names.apply(query))

    def _snapshot(
        self, spec: TableSpec, alias: str, run_id: str
    ) -> tuple[exp.Expr, list[exp.Expr]]:
        """A snapshot table aliased, with the conditions that select one run of this audience."""
        return self.state.table(spec, alias), [
            exp.EQ(this=col(alias, "run_id"), expression=string(run_id)),
            exp.EQ(this=col(alias, "audience_key"), expression=string(self.key)),
        ]

    # -- snapshots -------------------------------------------------------------------------

    def members_snapshot(self) -> exp.Insert:
        """This run's members with the ids their events will carry.

        Where a CTE named twice is computed once (:data:`SHARED_CTES`), the identifiers are
        looked up for this run's members only: aggregating every profile's identifiers
        first was most of the statement's time and memory (1M profiles: 1.1 s of 1.9 s)
        when an audience holds a tenth of them. Elsewhere naming the members twice would
        compute the audience twice, so every profile's identifiers are aggregated.

        An account audience's members are accounts: no identifiers (its Identify calls
        look up each member profile's when they are built)."""
        if self.compiled.level == "account":
            null = exp.cast(exp.null(), "TEXT")
            accounts = select(
                [
                    string(self.run_id),
                    string(self.key),
                    self._text(col("a", "account_id")),
                    null,
                    null.copy(),
                ],
                self.compiled.expression.subquery("a"),
            )
            return self._insert(MEMBERS, accounts)
        if self.dialect.name not in SHARED_CTES:
            members = self.compiled.expression.subquery("a")
            ids = self._identifiers().subquery("ids")
            return self._insert(MEMBERS, self._members_select(members, ids))
        query = self.compiled.expression.copy()
        ctes = query.args.get("with_")
        query.set("with_", None)
        only = exp.In(
            this=col("i", self.graph.profile.key),
            query=select([col("sm", "profile_id")], cte_ref(_SNAPSHOT_MEMBERS, "sm")).subquery(),
        )
        outer = self._members_select(
            cte_ref(_SNAPSHOT_MEMBERS, "a"), self._identifiers(only).subquery("ids")
        )
        outer.set("with_", ctes)
        outer = outer.with_(
            exp.to_identifier(_SNAPSHOT_MEMBERS, quoted=True), as_=query, copy=False
        )
        return self._insert(MEMBERS, outer)

    def _members_select(self, members: exp.Expr, ids: exp.Expr) -> exp.Select:
        return select(
            [
                string(self.run_id),
                string(self.key),
                self._text(col("a", "profile_id")),
                col("ids", "user_id"),
                col("ids", "anonymous_id"),
            ],
            members,
            [
                exp.Join(
                    this=ids,
                    side="LEFT",
                    on=exp.EQ(this=col("ids", "k"), expression=col("a", "profile_id")),
                )
            ],
        )

    def _identifiers(self, only: exp.Expr | None = None) -> exp.Select:
        """One row per profile (of those ``only`` admits): ``k``, its ``user_id`` and
        ``anonymous_id`` (the most recent when the identifiers table has a timestamp column,
        else the greatest value) — the same pick as an export's."""
        kinds = ["user_id", "anonymous_id"]
        return picked_identifiers(self.graph, kinds, only, names=kinds)

    def entities_snapshot(self, checksum_columns: dict[str, list[str]]) -> exp.Insert:
        """This run's matched entities, each with a checksum of its selected columns.

        Where a CTE named twice is computed once, each relationship's entities are joined
        to their table apart (UNION ALL): the join then hashes that relationship's matched
        entities, not every row of the entity table with all its columns (1M profiles: DuckDB
        needed 400 MB of buffers for the single statement, which failed under a 160 MB
        ``memory_limit``; this one runs within 100 MB). Elsewhere one LEFT JOIN per
        relationship on the whole set, as the audience would be computed once per branch."""
        levels: dict[str, tuple[str, exp.Expr]] = {}
        for level in self.compiled.levels:
            rel = self.graph.relationship(level.slug)
            assert rel is not None
            if level.slug in levels:
                continue
            alias = f"t{len(levels)}"
            columns = checksum_columns.get(level.slug) or sorted(rel.entity.columns)
            kinds = rel.entity.columns
            values = self.dialect.json_object(
                [(c, self.dialect.payload_value(col(alias, c), kinds.get(c))) for c in columns]
            )
            levels[level.slug] = (alias, exp.MD5(this=self.dialect.json_text(values)))

        def join(slug: str, alias: str, on_relationship: bool) -> exp.Join:
            rel = self.graph.relationship(slug)
            assert rel is not None
            same = exp.EQ(
                this=self._text(entity_key(rel.entity, alias)),
                expression=col("e", "entity_id"),
            )
            of_slug = exp.EQ(this=col("e", "relationship"), expression=string(slug))
            return exp.Join(
                this=table(rel.entity.table, alias),
                side="LEFT",
                on=exp.and_(of_slug, same) if on_relationship else same,
            )

        def row(
            source: exp.Expr, checksum: exp.Expr, joins: list[exp.Join], where: list[exp.Expr]
        ) -> exp.Select:
            return select(
                [
                    string(self.run_id),
                    string(self.key),
                    self._text(col("e", "profile_id")),
                    col("e", "relationship"),
                    col("e", "entity_id"),
                    checksum,
                ],
                source,
                joins,
                where,
            )

        no_checksum = exp.cast(exp.null(), "TEXT")
        if not levels or self.dialect.name not in SHARED_CTES:
            cases = [exp.If(this=string(slug), true=md5) for slug, (_, md5) in levels.items()]
            checksum = exp.Case(this=col("e", "relationship"), ifs=cases) if cases else no_checksum
            joins = [join(slug, alias, True) for slug, (alias, _) in levels.items()]
            entities = self.compiled.entities_expression.subquery("e")
            return self._insert(ENTITIES, row(entities, checksum, joins, []))
        query = self.compiled.entities_expression.copy()
        ctes = query.args.get("with_")
        query.set("with_", None)
        source = cte_ref(_SNAPSHOT_ENTITIES, "e")
        of = col("e", "relationship")
        parts: list[exp.Query] = [
            row(
                source.copy(),
                md5,
                [join(slug, alias, False)],
                [exp.EQ(this=of.copy(), expression=string(slug))],
            )
            for slug, (alias, md5) in levels.items()
        ]
        # a relationship no level names (none today): kept, without a checksum, as before
        others = exp.Not(this=exp.In(this=of.copy(), expressions=[string(s) for s in levels]))
        parts.append(row(source.copy(), no_checksum, [], [others]))
        union = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=False)
        union.set("with_", ctes)
        union = union.with_(
            exp.to_identifier(_SNAPSHOT_ENTITIES, quoted=True), as_=query, copy=False
        )
        return self._insert(ENTITIES, union)

    # -- events ----------------------------------------------------------------------------

    def events(self, activation: Activation, as_of: datetime, seq_offset: int) -> exp.Insert:
        """Changes for one activation since the baseline, with their payloads."""
        from linked_audiences.runs.event_sql import events_insert

        return events_insert(self, activation, as_of, seq_offset)

    def member_counts(self) -> exp.Select:
        """(members, entered, exited) in one pass: this run's snapshot FULL JOIN the
        baseline's (three anti-join queries before)."""
        now, then = (
            self._keys(MEMBERS, self.run_id, "c"),
            self._keys(MEMBERS, self.previous_run_id, "p"),
        )
        on = exp.EQ(this=col("c", "profile_id"), expression=col("p", "profile_id"))
        return select(
            [
                _count_if(not_null(col("c", "profile_id"))),
                _count_if(exp.Is(this=col("p", "profile_id"), expression=exp.null())),
                _count_if(exp.Is(this=col("c", "profile_id"), expression=exp.null())),
            ],
            now,
            [exp.Join(this=then, side="FULL", on=on)],
        )

    def entity_counts(self, slugs: list[str]) -> exp.Select:
        """Per relationship of ``slugs``: (relationship, added, removed, values changed) in
        one pass over both snapshots (two or three anti-join queries per relationship
        before). Snapshots hold each (profile, relationship, entity) once, so the counts are
        those of :meth:`changes`."""
        keys = ("profile_id", "relationship", "entity_id")
        now = self._keys(ENTITIES, self.run_id, "c", (*keys, "checksum"), slugs)
        then = self._keys(ENTITIES, self.previous_run_id, "p", (*keys, "checksum"), slugs)
        on = exp.and_(*(exp.EQ(this=col("c", k), expression=col("p", k)) for k in keys))
        relationship = exp.Coalesce(
            this=col("c", "relationship"), expressions=[col("p", "relationship")]
        )
        both = exp.and_(not_null(col("c", "entity_id")), not_null(col("p", "entity_id")))
        return select(
            [
                exp.alias_(relationship, "relationship", quoted=True),
                _count_if(exp.Is(this=col("p", "entity_id"), expression=exp.null())),
                _count_if(exp.Is(this=col("c", "entity_id"), expression=exp.null())),
                _count_if(
                    exp.and_(
                        both,
                        exp.NullSafeNEQ(this=col("c", "checksum"), expression=col("p", "checksum")),
                    )
                ),
            ],
            now,
            [exp.Join(this=then, side="FULL", on=on)],
            group=[relationship.copy()],
        )

    def _keys(
        self,
        spec: TableSpec,
        run_id: str,
        alias: str,
        columns: tuple[str, ...] = ("profile_id",),
        relationships: list[str] | None = None,
    ) -> exp.Subquery:
        source, where = self._snapshot(spec, "s", run_id)
        if relationships is not None:
            of = [string(r) for r in relationships]
            where.append(exp.In(this=col("s", "relationship"), expressions=of))
        return select([col("s", c) for c in columns], source, where=where).subquery(alias)

    def changes(self, activation: Activation) -> exp.Query:
        """Rows (profile_id, entity_id, user_id, anonymous_id, member_now) that changed."""
        trigger = activation.trigger
        if trigger == "account_user_membership_changed":
            return self._account_user_changes()
        if trigger == "account_membership_changed":
            trigger = "audience_membership_changed"  # the accounts that entered or exited
        if trigger == "audience_entered":
            return self._member_changes(self.run_id, self.previous_run_id, exp.true())
        if trigger == "audience_exited":
            return self._member_changes(self.previous_run_id, self.run_id, exp.false())
        if trigger == "audience_membership_changed":
            return exp.union(
                self._member_changes(self.run_id, self.previous_run_id, exp.true()),
                self._member_changes(self.previous_run_id, self.run_id, exp.false()),
                distinct=False,
            )
        assert activation.relationship is not None
        return self._entity_changes(trigger, activation.relationship)

    def _account_user_changes(self) -> exp.Select:
        """Per account that entered or exited, each member profile (its membership rows at
        this run) with its ids: rows (profile, account as entity_id, ids, member_now)."""
        accounts = self.graph.accounts
        assert accounts is not None
        m = accounts.memberships
        changed = exp.union(
            self._member_changes(self.run_id, self.previous_run_id, exp.true()),
            self._member_changes(self.previous_run_id, self.run_id, exp.false()),
            distinct=False,
        ).subquery("ac")
        pairs = select(
            [
                exp.alias_(self._text(col("m", m.account_key)), "account_id", quoted=True),
                exp.alias_(col("m", m.profile_key), "profile_key", quoted=True),
            ],
            table(accounts.memberships_table, "m"),
            where=[not_null(col("m", m.account_key)), not_null(col("m", m.profile_key))],
            distinct=True,
        ).subquery("mp")
        ids = self._identifiers().subquery("ids")
        return select(
            [
                exp.alias_(self._text(col("mp", "profile_key")), "profile_id", quoted=True),
                exp.alias_(col("ac", "profile_id"), "entity_id", quoted=True),
                col("ids", "user_id"),
                col("ids", "anonymous_id"),
                col("ac", "member_now"),
            ],
            changed,
            [
                exp.Join(
                    this=pairs,
                    on=exp.EQ(this=col("mp", "account_id"), expression=col("ac", "profile_id")),
                ),
                exp.Join(
                    this=ids,
                    side="LEFT",
                    on=exp.EQ(this=col("ids", "k"), expression=col("mp", "profile_key")),
                ),
            ],
        )

    def _member_changes(self, now: str, then: str, member_now: exp.Expr) -> exp.Select:
        """Members of run ``now`` that were not members in run ``then``."""
        table_now, where_now = self._snapshot(MEMBERS, "c", now)
        table_then, where_then = self._snapshot(MEMBERS, "p", then)
        absent = exp.Not(
            this=exp.Exists(
                this=select(
                    [exp.Literal.number(1)],
                    table_then,
                    where=[
                        *where_then,
                        exp.EQ(this=col("p", "profile_id"), expression=col("c", "profile_id")),
                    ],
                )
            )
        )
        return select(
            [
                col("c", "profile_id"),
                exp.alias_(exp.cast(exp.null(), "TEXT"), "entity_id", quoted=True),
                col("c", "user_id"),
                col("c", "anonymous_id"),
                exp.alias_(member_now, "member_now", quoted=True),
            ],
            table_now,
            where=[*where_now, absent],
        )

    def _entity_changes(self, trigger: str, relationship: str) -> exp.Select:
        now, then = (
            (self.run_id, self.previous_run_id)
            if trigger != "entity_removed"
            else (self.previous_run_id, self.run_id)
        )
        table_now, where_now = self._snapshot(ENTITIES, "c", now)
        table_then, where_then = self._snapshot(ENTITIES, "p", then)
        same = [
            exp.EQ(this=col("p", k), expression=col("c", k))
            for k in ("profile_id", "relationship", "entity_id")
        ]
        where = [*where_now, exp.EQ(this=col("c", "relationship"), expression=string(relationship))]
        joins: list[exp.Join] = []
        if trigger == "entity_values_changed":
            joins.append(exp.Join(this=table_then, on=exp.and_(*where_then, *same)))
            where.append(
                exp.NullSafeNEQ(this=col("c", "checksum"), expression=col("p", "checksum"))
            )
        else:
            where.append(
                exp.Not(
                    this=exp.Exists(
                        this=select([exp.Literal.number(1)], table_then, where=[*where_then, *same])
                    )
                )
            )
        # ids and "member now" come from this run's members, else from the baseline's
        members_now, on_now = self._snapshot(MEMBERS, "mn", self.run_id)
        members_then, on_then = self._snapshot(MEMBERS, "mp", self.previous_run_id)
        joins += [
            exp.Join(
                this=members_now,
                side="LEFT",
                on=exp.and_(
                    *on_now, exp.EQ(this=col("mn", "profile_id"), expression=col("c", "profile_id"))
                ),
            ),
            exp.Join(
                this=members_then,
                side="LEFT",
                on=exp.and_(
                    *on_then,
                    exp.EQ(this=col("mp", "profile_id"), expression=col("c", "profile_id")),
                ),
            ),
        ]
        return select(
            [
                col("c", "profile_id"),
                col("c", "entity_id"),
                exp.alias_(
                    exp.Coalesce(this=col("mn", "user_id"), expressions=[col("mp", "user_id")]),
                    "user_id",
                    quoted=True,
                ),
                exp.alias_(
                    exp.Coalesce(
                        this=col("mn", "anonymous_id"), expressions=[col("mp", "anonymous_id")]
                    ),
                    "anonymous_id",
                    quoted=True,
                ),
                exp.alias_(not_null(col("mn", "profile_id")), "member_now", quoted=True),
            ],
            table_now,
            joins,
            where,
        )
