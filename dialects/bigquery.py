"""BigQuery: SAFE_CAST for parsing; TIMESTAMP is an instant in UTC."""

from __future__ import annotations

from sqlglot import exp

from .base import WarehouseDialect


class BigQuery(WarehouseDialect):
    name = "bigquery"
    sqlglot_dialect = "bigquery"
    URL_SCHEMES = ("bigquery",)
    TEXT_TYPE = "STRING"

    def utc_wall_clock(self, instant: exp.Expr) -> exp.Expr:
        """DATETIME(x, 'UTC'): the civil time of a TIMESTAMP in UTC."""
        return exp.Anonymous(this="DATETIME", expressions=[instant, exp.Literal.string("UTC")])
