"""Load reference-evaluator tables into fakesnow through snowflake-connector-python.

Values are bound parameters (``?``, sent apart from the statement);
identifiers are quoted by sqlglot. Every statement also parses as Snowflake SQL.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from tests.reference.evaluator import Tables

from .standins import check_tables, create_table_sql, insert_rows, reparse, schema_of, table_expr

#: SPEC §1 data type → Snowflake column type.
SNOWFLAKE_TYPES = {
    "string": "VARCHAR",
    "number": "DOUBLE",
    "integer": "NUMBER(38, 0)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP_TZ",
}


def execute(cursor: Any, statement: str, params: list[Any] | None = None) -> Any:
    """Run one statement after checking that it parses as Snowflake SQL."""
    reparse(statement, "snowflake")
    return cursor.execute(statement, params)


def _schemas(column_types: dict[str, dict[str, str]]) -> list[str]:
    return sorted({s for s in map(schema_of, column_types) if s is not None} - {"PUBLIC"})


def load_tables(cursor: Any, tables: Tables, column_types: dict[str, dict[str, str]]) -> None:
    """Create the schemas and tables in the current database, and insert the rows.

    Snowflake makes a new schema the session's current one, so the session goes back to
    PUBLIC afterwards: bare table names in the graph live there.
    """
    check_tables(tables, column_types)
    for schema in _schemas(column_types):
        name = exp.to_identifier(schema, quoted=True).sql("snowflake")
        execute(cursor, f"CREATE SCHEMA IF NOT EXISTS {name}")
    execute(cursor, 'USE SCHEMA "PUBLIC"')
    for table, columns in column_types.items():
        execute(cursor, create_table_sql(table, columns, SNOWFLAKE_TYPES, "snowflake"))
        insert_rows(execute, cursor, table, columns, tables.get(table, []), "snowflake")


def drop_tables(cursor: Any, column_types: dict[str, dict[str, str]]) -> None:
    """Drop what :func:`load_tables` made (fakesnow cannot drop a database, and keeping one
    per example costs the server memory)."""
    for table in column_types:
        execute(cursor, f"DROP TABLE IF EXISTS {table_expr(table).sql('snowflake')}")
    for schema in _schemas(column_types):
        name = exp.to_identifier(schema, quoted=True).sql("snowflake")
        execute(cursor, f"DROP SCHEMA IF EXISTS {name}")
