"""DuckDB: the embedded default; a new user needs no server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from .base import ClientUnavailable, WarehouseDialect, _ordered, split_url


class DuckDB(WarehouseDialect):
    name = "duckdb"
    sqlglot_dialect = "duckdb"
    URL_SCHEMES = ("duckdb",)
    SUPPORTS_RUNS = True

    def json_array_agg(self, value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
        """LIST(... ORDER BY ...) as JSON: DuckDB's JSON_GROUP_ARRAY is a macro that takes no
        ORDER BY."""
        ordered = exp.Anonymous(this="LIST", expressions=[_ordered(value, order_by)])
        return exp.Anonymous(this="TO_JSON", expressions=[ordered])

    def connect(self, url: str) -> Any:
        """``duckdb://`` in memory; ``duckdb:///rel.duckdb`` relative to the working folder;
        ``duckdb:////abs/path.duckdb`` absolute (SQLAlchemy's habit)."""
        try:
            import duckdb
        except ImportError as exc:  # pragma: no cover - duckdb is a core dependency
            raise ClientUnavailable("pip install duckdb") from exc
        rest = split_url(url, "duckdb")
        if rest in ("", "/", "/:memory:"):
            database = ":memory:"
        elif rest.startswith("/"):
            database = rest[1:]
            if not Path(database).parent.exists():
                raise FileNotFoundError(f"no such folder for the DuckDB file: {database}")
        else:
            raise ValueError(f"expected duckdb:// or duckdb:///path.duckdb, got {url!r}")
        connection = duckdb.connect(database)
        connection.execute("SET TimeZone = 'UTC'")
        return connection
