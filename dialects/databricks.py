"""Databricks SQL (Spark): no TIME type."""

from __future__ import annotations

from .base import WarehouseDialect


class Databricks(WarehouseDialect):
    name = "databricks"
    sqlglot_dialect = "databricks"
    URL_SCHEMES = ("databricks",)
    SUPPORTS_TIME = False
    TEXT_TYPE = "STRING"
