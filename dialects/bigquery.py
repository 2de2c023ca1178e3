"""BigQuery: SAFE_CAST for parsing; TIMESTAMP is an instant in UTC."""

from __future__ import annotations

from .base import WarehouseDialect


class BigQuery(WarehouseDialect):
    name = "bigquery"
    sqlglot_dialect = "bigquery"
    URL_SCHEMES = ("bigquery",)
    TEXT_TYPE = "STRING"
