"""Typed sqlglot node builders shared by the compiler, previews and runs.

Every builder takes names and values, never SQL text: identifiers are always quoted
identifiers and values are literals, so nothing a user writes is ever parsed as SQL.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, timezone
from typing import Any, Literal

from sqlglot import exp


@functools.lru_cache(maxsize=256)
def _data_type(name: str, dialect: str | None) -> exp.DataType:
    return exp.DataType.build(name, dialect=dialect)


def data_type(name: str, dialect: str | None = None) -> exp.DataType:
    """``name`` as a DataType node. Building one parses the name (tens of microseconds, a
    large share of compile time); the parsed node is kept and copied."""
    return _data_type(name, dialect).copy()


def cast_to(x: exp.Expr, name: str, dialect: str | None = None) -> exp.Cast:
    """``CAST(x AS name)``; takes ownership of ``x``."""
    return exp.Cast(this=x, to=data_type(name, dialect))


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(table: str, name: str) -> exp.Column:
    """``"table"."name"``; both parts are identifiers, never parsed."""
    return exp.Column(this=ident(name), table=ident(table))


def table(name: str, alias: str) -> exp.Table:
    """A graph table name (``db.schema.table``) with an alias; each part is quoted."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"table name {name!r} is not table, schema.table or db.schema.table")
    kwargs: dict[str, exp.Identifier] = {"this": ident(parts[-1])}
    if len(parts) >= 2:
        kwargs["db"] = ident(parts[-2])
    if len(parts) == 3:
        kwargs["catalog"] = ident(parts[0])
    return exp.Table(**kwargs, alias=exp.TableAlias(this=ident(alias)))


def cte_ref(name: str, alias: str) -> exp.Table:
    return exp.Table(this=ident(name), alias=exp.TableAlias(this=ident(alias)))


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def and_all(conditions: list[exp.Expr]) -> exp.Expr:
    """AND of ``conditions`` (TRUE when empty); parenthesised so precedence never surprises."""
    if not conditions:
        return exp.true()
    return connect(exp.And, conditions)


def connect(kind: type[exp.And] | type[exp.Or], parts: Sequence[exp.Expr]) -> exp.Expr:
    """``parts`` joined by AND / OR, each AND/OR operand in parentheses; takes ownership.

    What ``exp.and_(…, wrap=True, copy=False)`` builds, without its per-operand parsing
    step: the compiler joins thousands of conditions for a large audience."""
    first, *rest = parts
    if not rest:
        return first
    combined = _wrapped(first)
    for part in rest:
        combined = kind(this=combined, expression=_wrapped(part))
    return combined


def _wrapped(e: exp.Expr) -> exp.Expr:
    return exp.Paren(this=e) if isinstance(e, exp.Connector) else e


def named(expression: exp.Expr, name: str) -> exp.Expr:
    """``expression AS "name"``; takes ownership of ``expression`` (no copy)."""
    return exp.alias_(expression, name, quoted=True, copy=False)


def select(
    columns: list[exp.Expr],
    from_: exp.Expr,
    joins: list[exp.Join] | None = None,
    where: list[exp.Expr] | None = None,
    group: list[exp.Expr] | None = None,
    having: exp.Expr | None = None,
    distinct: bool = False,
) -> exp.Select:
    """A SELECT from typed parts (no builder parsing anywhere)."""
    args: dict[str, object] = {"expressions": columns, "from_": exp.From(this=from_)}
    if joins:
        args["joins"] = joins
    # a condition that became TRUE (a node turned into an inner join) filters nothing
    where = [w for w in where or [] if not (isinstance(w, exp.Boolean) and w.this is True)]
    if where:
        args["where"] = exp.Where(this=and_all(where))
    if group:
        args["group"] = exp.Group(expressions=[g.copy() for g in group])
    if having is not None:
        args["having"] = exp.Having(this=having)
    if distinct:
        args["distinct"] = exp.Distinct()
    return exp.Select(**args)


def not_null(e: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=e.copy(), expression=exp.null()))


def in_list(column: exp.Expr, values: Sequence[Any]) -> exp.Expr:
    """``column IN (literal, …)``; FALSE when empty (an empty IN list is not valid SQL)."""
    if not values:
        return exp.false()
    return exp.In(this=column, expressions=[exp.convert(v) for v in values])


Storage = Literal["date", "naive", "aware"]
"""How the warehouse stores a date-like column: DATE, a zone-less TIMESTAMP (by convention
UTC wall-clock time), or an instant (TIMESTAMPTZ, TIMESTAMP_TZ/LTZ, BigQuery TIMESTAMP).
A comparison is only independent of the session time zone when its literal has the
column's own kind: DATE with DATE, zone-less with zone-less, instant with an instant
whose offset is written out."""

_NAIVE_TYPES = ("TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP_NTZ", "TIMESTAMPNTZ", "DATETIME")
_AWARE_MARKERS = ("WITH TIME ZONE", "TZ", "LTZ")


def storage_of(sql_type: str | None, declared: str = "timestamp") -> Storage:
    """The storage kind of a warehouse column type (as its catalog spells it).

    Unknown: a column declared ``date`` is taken to be a DATE, anything else an instant —
    what a graph's declared types most often mean.
    """
    if not sql_type:
        return "date" if declared == "date" else "aware"
    name = " ".join(sql_type.upper().split())
    name = name.split("(")[0].strip()
    if name == "DATE":
        return "date"
    if (
        name in _NAIVE_TYPES
        or name == "TIMESTAMP"
        or (name.startswith("TIMESTAMP") and not any(m in name for m in _AWARE_MARKERS))
    ):
        return "naive"
    return "aware"


MIN_MOMENT = datetime(1, 1, 1, tzinfo=timezone.utc)
MAX_MOMENT = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)


def _wall_clock(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, the year always four digits (strftime's ``%Y``
    writes year 1 as ``1``, which PostgreSQL then reads as 2001)."""
    m = moment.astimezone(timezone.utc)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d} "
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}"
    )


def instant_literal(moment: datetime, storage: Storage = "aware") -> exp.Expr:
    """A literal for the UTC instant ``moment``, of the kind the column is stored as.

    An instant carries its ``+00:00`` offset; for zone-less and DATE columns the literal is
    the zone-less UTC wall-clock time, so no engine converts through the session zone.
    """
    if storage == "aware":
        return cast_to(string(_wall_clock(moment) + "+00:00"), "TIMESTAMPTZ")
    return cast_to(string(_wall_clock(moment)), "TIMESTAMPNTZ")


def date_literal(day: date) -> exp.Expr:
    return cast_to(string(day.isoformat()), "DATE")
