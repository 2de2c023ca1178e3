"""PostgreSQL: no TRY_CAST (sqlglot would silently write CAST), so casts are regex-guarded."""

from __future__ import annotations

from .base import WarehouseDialect


class Postgres(WarehouseDialect):
    name = "postgres"
    sqlglot_dialect = "postgres"
    SUPPORTS_TRY_CAST = False
    TEXT_TYPE = "TEXT"
