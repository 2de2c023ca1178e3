"""Snowflake: TRY_CAST takes text only, which the compiler always gives it."""

from __future__ import annotations

from .base import WarehouseDialect


class Snowflake(WarehouseDialect):
    name = "snowflake"
    sqlglot_dialect = "snowflake"
    URL_SCHEMES = ("snowflake",)
