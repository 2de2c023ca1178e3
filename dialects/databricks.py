"""Databricks SQL (Spark): no TIME type, so time values are canonical text."""

from __future__ import annotations

import re

from sqlglot import exp

from .base import WarehouseDialect

#: What a time text lacks of ``HH:MM:SS.ffffff``, after its ``HH:MM`` (5 characters).
_TIME_TAIL = ":00.000000"


class Databricks(WarehouseDialect):
    name = "databricks"
    sqlglot_dialect = "databricks"
    URL_SCHEMES = ("databricks",)
    SUPPORTS_TIME = False
    TEXT_TYPE = "STRING"

    def parse_text(
        self, text: exp.Expr, to: str, pattern: str, cast_text: exp.Expr | None = None
    ) -> exp.Expr:
        """A time (``to`` TIME) is kept as text, zero-padded to ``HH:MM:SS.ffffff`` when
        ``text`` matches ``pattern`` (``HH:MM``, ``HH:MM:SS`` or 1–6 fraction digits), else
        NULL: fixed-width text compares as the times do, exactly and with no cast to fail.
        Padding appends the tail of ``:00.000000`` that ``text``'s length leaves out (for a
        literal, here rather than in SQL)."""
        if to.upper() != "TIME":
            return super().parse_text(text, to, pattern, cast_text)
        if isinstance(text, exp.Literal) and text.is_string:
            if re.fullmatch(pattern, text.this) is None:
                return exp.null()
            return exp.Literal.string(text.this + _TIME_TAIL[len(text.this) - 5 :])
        tail = exp.Substring(
            this=exp.Literal.string(_TIME_TAIL),
            start=exp.Sub(this=exp.Length(this=text.copy()), expression=exp.Literal.number(4)),
        )
        padded = exp.Concat(expressions=[text.copy(), tail])
        guard = exp.and_(
            exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(pattern)),
            # Java's $ also matches before a final line break; a time ends in a digit.
            exp.Between(
                this=exp.Right(this=text.copy(), expression=exp.Literal.number(1)),
                low=exp.Literal.string("0"),
                high=exp.Literal.string("9"),
            ),
        )
        return exp.Case(ifs=[exp.If(this=guard, true=padded)])

    def utc_wall_clock(self, instant: exp.Expr) -> exp.Expr:
        """Spark's TIMESTAMP is an instant and its cast to TIMESTAMP_NTZ gives the session
        zone's wall clock; CONVERT_TIMEZONE moves that wall clock from the session zone to
        UTC."""
        local = exp.cast(instant, exp.DataType.build("TIMESTAMPNTZ"))
        return exp.Anonymous(
            this="CONVERT_TIMEZONE",
            expressions=[
                exp.Anonymous(this="CURRENT_TIMEZONE", expressions=[]),
                exp.Literal.string("UTC"),
                local,
            ],
        )
