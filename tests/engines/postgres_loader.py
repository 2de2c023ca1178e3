"""Load generated tables into PostgreSQL, typed explicitly, values as bound parameters."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from tests.reference.evaluator import Tables

PG_TYPES = {
    "string": "TEXT",
    "number": "DOUBLE PRECISION",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMPTZ",
}


def _pg_type(dtype: str) -> str:
    aliases = {"VARCHAR": "string", "DOUBLE": "number", "TIMESTAMPTZ": "timestamp"}
    return PG_TYPES[aliases.get(dtype.upper(), dtype.lower())]


def load_tables(conn: Any, tables: Tables, column_types: dict[str, dict[str, str]]) -> None:
    """Create each table (and its schema) and insert its rows; the caller owns the transaction."""
    for table, columns in column_types.items():
        parts = table.split(".")
        name = sql.Identifier(*parts)
        if len(parts) == 2:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(parts[0])))
        definition = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(t)))
            for c, t in columns.items()
        )
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(name, definition))
        rows = tables.get(table, [])
        if rows:
            # Values as psycopg Literals and no bound parameters: with parameters psycopg
            # reads every % in the statement as a placeholder, and names here contain %.
            values = sql.SQL(", ").join(
                sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(row.get(c)) for c in columns))
                for row in rows
            )
            conn.execute(sql.SQL("INSERT INTO {} VALUES {}").format(name, values))
