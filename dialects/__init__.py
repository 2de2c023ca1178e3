"""Warehouse dialects: one module per warehouse; this package never imports linked_audiences.

``get_dialect("postgresql")`` → the :class:`Postgres` dialect. Differences between warehouses
live in these small classes as data, never as ``if dialect == ...`` in the compiler.
"""

from __future__ import annotations

from .base import ClientUnavailable, WarehouseDialect, redact_url, scrub, url_secrets
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


URL_FORMS = (
    "duckdb:///relative/path.duckdb, duckdb:////absolute/path.duckdb, duckdb:// (in memory), "
    "postgresql://user@host:port/db, snowflake://…, bigquery://…, redshift://…, databricks://…"
)


def dialect_for_url(url: str) -> WarehouseDialect:
    """The dialect whose URL scheme starts ``url`` (``postgresql://…`` → Postgres).

    Anything else is a ValueError naming the URL forms (the URL itself redacted)."""
    scheme, sep, _ = url.partition("://")
    for cls in DIALECTS.values():
        if sep and scheme.lower() in cls.URL_SCHEMES:
            return cls()
    if not url.strip():
        problem = "empty warehouse URL"
    elif not sep and ":" not in url.split("/", 1)[0]:
        problem = f"{redact_url(url)!r} is not a warehouse URL (a file path needs duckdb:///)"
    else:
        problem = f"unknown warehouse URL {redact_url(url)!r}"
    raise ValueError(f"{problem}; expected {URL_FORMS}")


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
    "redact_url",
    "scrub",
    "url_secrets",
]
