"""Warehouse dialects: one module per warehouse; this package never imports linked_audiences.

``get_dialect("postgresql")`` → the :class:`Postgres` dialect. Differences between warehouses
live in these small classes as data, never as ``if dialect == ...`` in the compiler.
"""

from __future__ import annotations

from .base import ClientUnavailable, WarehouseDialect
from .bigquery import BigQuery
from .databricks import Databricks
from .duckdb import DuckDB
from .postgres import Postgres
from .redshift import Redshift
from .snowflake import Snowflake

DIALECTS: dict[str, type[WarehouseDialect]] = {
    cls.name: cls for cls in (DuckDB, Postgres, Redshift, Snowflake, BigQuery, Databricks)
}
ALIASES: dict[str, str] = {"postgresql": "postgres", "spark": "databricks"}


def dialect_for_url(url: str) -> WarehouseDialect:
    """The dialect whose URL scheme starts ``url`` (``postgresql://…`` → Postgres)."""
    scheme = url.partition("://")[0].lower()
    for cls in DIALECTS.values():
        if scheme in cls.URL_SCHEMES:
            return cls()
    schemes = ", ".join(f"{s}://" for c in DIALECTS.values() for s in c.URL_SCHEMES)
    raise ValueError(f"unknown warehouse URL {url!r}; expected one of {schemes}")


def get_dialect(name: str) -> WarehouseDialect:
    """The dialect called ``name`` (or an alias); ValueError lists the known names."""
    key = ALIASES.get(name.lower(), name.lower())
    try:
        return DIALECTS[key]()
    except KeyError:
        known = ", ".join(sorted(DIALECTS))
        raise ValueError(f"unknown dialect {name!r}; expected one of {known}") from None


__all__ = [
    "ALIASES",
    "DIALECTS",
    "ClientUnavailable",
    "WarehouseDialect",
    "dialect_for_url",
    "get_dialect",
]
