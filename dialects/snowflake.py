"""Snowflake: TRY_CAST takes text only, which the compiler always gives it."""

from __future__ import annotations

from sqlglot import exp

from .base import WarehouseDialect


class Snowflake(WarehouseDialect):
    name = "snowflake"
    sqlglot_dialect = "snowflake"
    URL_SCHEMES = ("snowflake",)

    def utc_wall_clock(self, instant: exp.Expr) -> exp.Expr:
        """CONVERT_TIMEZONE('UTC', x) keeps a TIMESTAMP_TZ; the cast drops the (UTC) zone."""
        converted = exp.Anonymous(
            this="CONVERT_TIMEZONE", expressions=[exp.Literal.string("UTC"), instant]
        )
        return exp.cast(converted, exp.DataType.build("TIMESTAMPNTZ"))
