"""DuckDB: the embedded default; a new user needs no server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from .base import ClientUnavailable, WarehouseDialect, _ordered, redact_url, split_url


class DuckDB(WarehouseDialect):
    name = "duckdb"
    sqlglot_dialect = "duckdb"
    URL_SCHEMES = ("duckdb",)
    RUN_LOCK = "file"
    ENFORCES_UNIQUE = True

    def is_unique_violation(self, exc: BaseException) -> bool:
        return "ConstraintException" in {cls.__name__ for cls in type(exc).__mro__}

    def json_array_agg(self, value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
        """LIST(... ORDER BY ...) as JSON: DuckDB's JSON_GROUP_ARRAY is a macro that takes no
        ORDER BY."""
        ordered = exp.Anonymous(this="LIST", expressions=[_ordered(value, order_by)])
        return exp.Anonymous(this="TO_JSON", expressions=[ordered])

    def database_file(self) -> exp.Expr | None:
        """DUCKDB_DATABASES() row of the current database: its file path (NULL in memory)."""
        return (
            exp.select(exp.column("path"))
            .from_(exp.Anonymous(this="DUCKDB_DATABASES"))
            .where(
                exp.EQ(
                    this=exp.column("database_name"),
                    expression=exp.Anonymous(this="CURRENT_DATABASE"),
                )
            )
        )

    def connect(self, url: str, *, read_only: bool = False, create: bool = True) -> Any:
        """``duckdb://`` in memory; ``duckdb:///rel.duckdb`` relative to the working folder;
        ``duckdb:////abs/path.duckdb`` absolute (SQLAlchemy's habit).

        A missing file is created only when ``create`` is set and ``read_only`` is not; else
        it is a FileNotFoundError ("no such DuckDB file"), and nothing is written.
        """
        try:
            import duckdb
        except ImportError as exc:  # pragma: no cover - duckdb is a core dependency
            raise ClientUnavailable("pip install duckdb") from exc
        database = duckdb_path(url)
        if database is None:
            connection = duckdb.connect(":memory:")
        else:
            if not Path(database).exists():
                if read_only or not create:
                    raise FileNotFoundError(f"no such DuckDB file: {database}")
                if not Path(database).parent.is_dir():
                    raise FileNotFoundError(f"no such folder for the DuckDB file: {database}")
            elif Path(database).is_dir():
                raise IsADirectoryError(f"a folder, not a DuckDB file: {database}")
            connection = duckdb.connect(database, read_only=read_only)
        connection.execute("SET TimeZone = 'UTC'")
        return connection


def duckdb_path(url: str) -> str | None:
    """The database file a ``duckdb://`` URL names (as written: relative paths stay relative),
    or None for an in-memory database. Raises ValueError for any other shape."""
    rest = split_url(url, "duckdb")
    if rest in ("", "/", "/:memory:"):
        return None
    if not rest.startswith("/") or "?" in rest or "#" in rest:
        raise ValueError(
            f"expected duckdb:// (in memory), duckdb:///relative/path.duckdb or "
            f"duckdb:////absolute/path.duckdb, got {redact_url(url)!r}"
        )
    return rest[1:]
