"""The events of one run as SQL: each change of an activation joined to what its payload
carries (traits, entity columns, arrays of matched entities), built into JSON per warehouse."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlglot import exp

from linked_audiences.compiler.context import CompileContext
from linked_audiences.compiler.keys import entity_key
from linked_audiences.runs.events import MAX_EVENT_BYTES, Activation, message_id, payload
from linked_audiences.runs.state import ENTITIES, EVENTS
from linked_audiences.sql import col, cte_ref, select, string, table

if TYPE_CHECKING:
    from linked_audiences.runs.diff import RunSql


def events_insert(
    sql: RunSql, activation: Activation, as_of: datetime, seq_offset: int
) -> exp.Insert:
    """Changes for one activation since the baseline, with their payloads.

    Each change is numbered (``seq``) before its payload is built: the sort behind
    ROW_NUMBER then carries five short columns, not the JSON text (at 1M profiles the
    payload-carrying sort was the statement that needed the most memory, beyond a
    100 MB ``memory_limit``)."""
    order = exp.Order(
        expressions=[
            exp.Ordered(this=col("c0", "profile_id")),
            exp.Ordered(this=col("c0", "entity_id")),
        ]
    )
    seq = exp.Add(
        this=exp.Literal.number(seq_offset),
        expression=exp.Window(this=exp.RowNumber(), order=order),
    )
    names = ("profile_id", "entity_id", "user_id", "anonymous_id", "member_now")
    changes = select(
        [*(col("c0", n) for n in names), exp.alias_(seq, "seq", quoted=True)],
        sql.changes(activation).subquery("c0"),
    )
    ctx = CompileContext(sql.graph, sql.dialect, as_of, {})
    joins: list[exp.Join] = []
    traits: list[tuple[str, exp.Expr]] = []
    if activation.traits and activation.trigger == "account_membership_changed":
        accounts = sql.graph.accounts
        assert accounts is not None
        joins.append(
            exp.Join(
                this=table(accounts.traits_table, "at"),
                side="LEFT",
                on=exp.EQ(
                    this=sql._text(col("at", accounts.key)), expression=col("ch", "profile_id")
                ),
            )
        )
        traits = [
            (t, sql.dialect.payload_value(col("at", t), accounts.traits.get(t)))
            for t in activation.traits
        ]
    elif activation.traits:
        joins.append(
            exp.Join(
                this=cte_ref(ctx.TRAITS, "tr"),
                side="LEFT",
                on=exp.EQ(
                    this=sql._text(col("tr", "profile_id")), expression=col("ch", "profile_id")
                ),
            )
        )
        # Stored, computed and SQL traits alike; computed windows end at the run's as_of.
        traits = [
            (t, sql.dialect.payload_value(ctx.trait("tr", t), sql.graph.trait_type(t)))
            for t in activation.traits
        ]
    entity_columns: list[tuple[str, exp.Expr]] = []
    if activation.relationship is not None and activation.entity_columns:
        rel = sql.graph.relationship(activation.relationship)
        assert rel is not None
        joins.append(
            exp.Join(
                this=table(rel.entity.table, "t"),
                side="LEFT",
                on=exp.EQ(
                    this=sql._text(entity_key(rel.entity, "t")),
                    expression=col("ch", "entity_id"),
                ),
            )
        )
        entity_columns = [
            (c, sql.dialect.payload_value(col("t", c), rel.entity.columns.get(c)))
            for c in activation.entity_columns
        ]
    arrays: list[tuple[str, exp.Expr]] = []
    for n, enrichment in enumerate(activation.entities):
        alias = f"x{n}"
        joins.append(
            exp.Join(
                this=_entity_array(sql, enrichment.relationship, enrichment.columns).subquery(
                    alias
                ),
                side="LEFT",
                on=exp.EQ(this=col(alias, "profile_id"), expression=col("ch", "profile_id")),
            )
        )
        empty = sql.dialect.empty_json_array()
        arrays.append(
            (
                enrichment.relationship,
                exp.Coalesce(this=col(alias, "items"), expressions=[empty]),
            )
        )
    mid = message_id(
        [
            string(sql.key),
            string(sql.run_id),
            string(activation.trigger),
            col("ch", "profile_id"),
            string(activation.relationship)
            if activation.relationship
            else exp.cast(exp.null(), "TEXT"),
            col("ch", "entity_id"),
        ]
    )
    body = payload(
        sql.dialect,
        sql.compiled.audience,
        activation,
        as_of,
        message=mid,
        user_id=col("ch", "user_id"),
        anonymous_id=col("ch", "anonymous_id"),
        member_now=col("ch", "member_now"),
        traits=traits,
        entity_id=col("ch", "entity_id"),
        entity_columns=entity_columns,
        arrays=arrays,
        # the account: a Group call's own id; a member's Identify carries it as entity_id
        group_id=col(
            "ch",
            "entity_id"
            if activation.trigger == "account_user_membership_changed"
            else "profile_id",
        ),
    )
    built = select(
        [
            col("ch", "profile_id"),
            col("ch", "entity_id"),
            col("ch", "seq"),
            exp.alias_(mid, "message_id", quoted=True),
            exp.alias_(body, "payload", quoted=True),
        ],
        changes.subquery("ch"),
        joins,
    )
    relationship = (
        string(activation.relationship) if activation.relationship else exp.cast(exp.null(), "TEXT")
    )
    query = select(
        [
            string(sql.run_id),
            string(sql.key),
            col("b", "seq"),
            string(activation.trigger),
            col("b", "profile_id"),
            relationship,
            col("b", "entity_id"),
            col("b", "message_id"),
            col("b", "payload"),
            exp.GT(
                this=exp.Length(this=col("b", "payload")),
                expression=exp.Literal.number(MAX_EVENT_BYTES),
            ),
        ],
        built.subquery("b"),
    )
    for name, body_ in ctx.traits_ctes():
        query = query.with_(exp.to_identifier(name, quoted=True), as_=body_, copy=False)
    return sql._insert(EVENTS, query)


def _entity_array(sql: RunSql, relationship: str, columns: list[str]) -> exp.Select:
    """Per profile, this run's matched entities of ``relationship`` as a JSON array of
    objects (Segment's shape: the columns plus ``__entity``)."""
    rel = sql.graph.relationship(relationship)
    assert rel is not None
    snapshot, mine = sql._snapshot(ENTITIES, "s", sql.run_id)
    item = sql.dialect.json_object(
        [
            *(
                (c, sql.dialect.payload_value(col("t", c), rel.entity.columns.get(c)))
                for c in columns
            ),
            ("__entity", string(rel.entity.slug)),
        ]
    )
    return select(
        [
            col("s", "profile_id"),
            exp.alias_(
                sql.dialect.json_array_agg(item, col("s", "entity_id")), "items", quoted=True
            ),
        ],
        snapshot,
        [
            exp.Join(
                this=table(rel.entity.table, "t"),
                on=exp.EQ(
                    this=sql._text(entity_key(rel.entity, "t")),
                    expression=col("s", "entity_id"),
                ),
            )
        ],
        where=[*mine, exp.EQ(this=col("s", "relationship"), expression=string(relationship))],
        group=[col("s", "profile_id")],
    )
