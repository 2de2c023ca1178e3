"""Databricks SQL (Spark): no TIME type."""

from __future__ import annotations

from sqlglot import exp

from .base import WarehouseDialect


class Databricks(WarehouseDialect):
    name = "databricks"
    sqlglot_dialect = "databricks"
    URL_SCHEMES = ("databricks",)
    SUPPORTS_TIME = False
    TEXT_TYPE = "STRING"

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
