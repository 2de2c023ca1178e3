"""DuckDB: the embedded default."""

from __future__ import annotations

from .base import WarehouseDialect


class DuckDB(WarehouseDialect):
    name = "duckdb"
    sqlglot_dialect = "duckdb"
