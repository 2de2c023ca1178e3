"""One object owns all I/O with a warehouse: SQL in, rows out (DESIGN: EngineAdapter).

The core hands it sqlglot expressions; it renders them in its dialect, runs them through
the warehouse's official client (imported lazily by ``dialects``) and fetches rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlglot import exp

from linked_audiences.dialects import ClientUnavailable, WarehouseDialect, dialect_for_url
from linked_audiences.errors import UnsupportedFeature

Row = tuple[Any, ...]


class WarehouseUnavailable(ConnectionError):
    """The warehouse could not be reached or refused the connection."""


class Warehouse:
    """A connected warehouse. Use as a context manager, or call :meth:`close`."""

    def __init__(self, dialect: WarehouseDialect, connection: Any, url: str = "") -> None:
        self.dialect = dialect
        self.connection = connection
        self.url = url

    def sql(self, query: exp.Expr | str) -> str:
        return query if isinstance(query, str) else self.dialect.render(query)

    def execute(self, query: exp.Expr | str) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.execute(self.sql(query))
        finally:
            cursor.close()

    def fetchall(self, query: exp.Expr | str) -> list[Row]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(self.sql(query))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def fetch_batches(self, query: exp.Expr | str, size: int = 10_000) -> Iterator[list[Row]]:
        """Rows in batches, so memory does not grow with the result."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(self.sql(query))
            while batch := cursor.fetchmany(size):
                yield [tuple(row) for row in batch]
        finally:
            cursor.close()

    def scalar(self, query: exp.Expr | str) -> Any:
        rows = self.fetchall(query)
        return rows[0][0] if rows else None

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Warehouse {self.dialect.name} {self.url!r}>"


def connect(url: str) -> Warehouse:
    """A warehouse from a URL: ``duckdb://`` (memory), ``duckdb:///file.duckdb``,
    ``postgresql://…``; ``snowflake://``, ``bigquery://``, ``redshift://``, ``databricks://``
    name their dialects (their adapters are not available yet)."""
    dialect = dialect_for_url(url)
    try:
        connection = dialect.connect(url)
    except ClientUnavailable as exc:
        raise UnsupportedFeature(dialect.name, "running SQL here", str(exc)) from None
    except (FileNotFoundError, ValueError):
        raise
    except Exception as exc:  # each client has its own error classes; all mean "unreachable"
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise WarehouseUnavailable(f"cannot connect to {dialect.name}: {reason}") from exc
    return Warehouse(dialect, connection, url)


def in_list(column: exp.Expr, values: Sequence[Any]) -> exp.Expr:
    """``column IN (literal, …)``; FALSE when empty (an empty IN list is not valid SQL)."""
    if not values:
        return exp.false()
    return exp.In(this=column, expressions=[exp.convert(v) for v in values])
