"""Load reference-evaluator tables into DuckDB, so the compiled SQL can run on the same data.

Every identifier is double-quoted (a ``"`` inside is doubled); every value is a bound
parameter, never text spliced into SQL. Column types are explicit, one DuckDB type per
SPEC §1 data type. The connection's time zone is UTC, so TIMESTAMPTZ values read back and
compared in SQL are in UTC (SPEC §1 "Timestamps are compared in UTC").
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import duckdb

from linked_audiences.graph import DataGraph
from tests.reference.evaluator import Tables

#: SPEC §1 data type → DuckDB column type.
DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMPTZ",
    "integer": "BIGINT",  # a whole-number key column (a number would be spelt 1.0 in a key)
}


def quote(identifier: str) -> str:
    """``identifier`` as a double-quoted SQL identifier (``"`` doubled)."""
    return '"' + identifier.replace('"', '""') + '"'


def table_parts(table: str) -> list[str]:
    """``db.schema.table``, ``schema.table`` or ``table`` split on dots (SPEC §2 table names;
    a name part therefore never holds a dot)."""
    parts = table.split(".")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"not a table name: {table!r}")
    return parts


def qualified(table: str) -> str:
    """A graph table name as quoted SQL (``prod.account`` → ``"prod"."account"``)."""
    return ".".join(quote(part) for part in table_parts(table))


def duckdb_type(dtype: str) -> str:
    """The DuckDB type for a SPEC §1 data type (a DuckDB type name passes through)."""
    if dtype in DUCKDB_TYPES:
        return DUCKDB_TYPES[dtype]
    if dtype.upper() in DUCKDB_TYPES.values():
        return dtype.upper()
    raise ValueError(f"unknown column type {dtype!r}")


def graph_tables(graph: DataGraph) -> set[str]:
    """Every table a data graph reads (SPEC §2): traits, identifiers, id graph, entities,
    junctions and events."""
    names = {graph.profile.traits_table, graph.profile.identifiers_table}
    if graph.profile.id_graph_table:
        names.add(graph.profile.id_graph_table)
    names.update(entity.table for entity in graph.entities)
    for path in graph.relationship_paths():
        if path.relationship.junction_table is not None:
            names.add(path.relationship.junction_table.table)
    names.update(event.table for event in graph.events)
    return names


def _ensure_container(con: duckdb.DuckDBPyConnection, parts: list[str]) -> None:
    """Create the database (attached in memory) and schema a table name needs."""
    if len(parts) == 3:
        found = con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
        attached = {row[0] for row in found}
        if parts[0] not in attached:
            con.execute(f"ATTACH ':memory:' AS {quote(parts[0])}")
    if len(parts) >= 2:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {'.'.join(quote(p) for p in parts[:-1])}")


def load_tables(
    con: duckdb.DuckDBPyConnection,
    graph: DataGraph,
    tables: Tables,
    column_types: dict[str, dict[str, str]],
) -> None:
    """Create every table of ``column_types`` (columns in that order, typed explicitly) and
    insert the rows of ``tables`` with bound parameters. A column a row lacks is NULL.

    Every table the graph reads must have its column types, and every table given rows must
    too; otherwise ``ValueError`` (a test-setup mistake, caught before any SQL runs).
    """
    missing = sorted(graph_tables(graph) - set(column_types))
    if missing:
        raise ValueError(f"no column types for tables {missing}")
    untyped = sorted(set(tables) - set(column_types))
    if untyped:
        raise ValueError(f"rows given for tables without column types: {untyped}")
    con.execute("SET TimeZone='UTC'")
    for table, columns in column_types.items():
        if not columns:
            raise ValueError(f"table {table!r} has no columns")
        parts = table_parts(table)
        _ensure_container(con, parts)
        column_sql = ", ".join(f"{quote(c)} {duckdb_type(t)}" for c, t in columns.items())
        con.execute(f"CREATE TABLE {qualified(table)} ({column_sql})")
        rows = tables.get(table, [])
        for row in rows:
            unknown = set(row) - set(columns)
            if unknown:
                raise ValueError(f"row of {table!r} has undeclared columns {sorted(unknown)}")
        if rows:
            placeholders = ", ".join("?" for _ in columns)
            con.executemany(
                f"INSERT INTO {qualified(table)} VALUES ({placeholders})",
                [[row.get(column) for column in columns] for row in rows],
            )


def read_table(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]
) -> list[dict[str, Any]]:
    """All rows of ``table`` as dicts, values as the evaluator sees them.

    TIMESTAMPTZ columns are read as UTC wall time and made aware here, so reading needs no
    ``pytz`` (DuckDB's Python client asks for it when it returns TIMESTAMPTZ values).
    """
    selected = []
    for column, dtype in columns.items():
        if duckdb_type(dtype) == "TIMESTAMPTZ":
            selected.append(f"timezone('UTC', {quote(column)})")
        else:
            selected.append(quote(column))
    result = con.execute(f"SELECT {', '.join(selected)} FROM {qualified(table)}").fetchall()
    rows = []
    for values in result:
        row: dict[str, Any] = {}
        for (column, dtype), value in zip(columns.items(), values, strict=True):
            if duckdb_type(dtype) == "TIMESTAMPTZ" and isinstance(value, datetime):
                value = value.replace(tzinfo=timezone.utc)
            row[column] = value
        rows.append(row)
    return rows


__all__ = [
    "DUCKDB_TYPES",
    "duckdb_type",
    "graph_tables",
    "load_tables",
    "qualified",
    "quote",
    "read_table",
    "table_parts",
]
