"""Load reference-evaluator tables into the Redshift stand-in through redshift-connector.

Values are bound parameters (``?``, sent apart from the statement); identifiers are quoted
by sqlglot; column types are ones Redshift has (a bare VARCHAR there is only 256 bytes).
Every statement also parses as Redshift SQL.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from tests.reference.evaluator import Tables

from .standins import check_tables, create_table_sql, insert_rows, reparse, schema_of

#: SPEC §1 data type → Redshift column type.
REDSHIFT_TYPES = {
    "string": "VARCHAR(65535)",
    "number": "DOUBLE PRECISION",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMPTZ",
}


def execute(cursor: Any, statement: str, params: list[Any] | None = None) -> Any:
    """Run one statement after checking that it parses as Redshift SQL."""
    reparse(statement, "redshift")
    cursor.execute(statement, params)
    return cursor


def load_tables(cursor: Any, tables: Tables, column_types: dict[str, dict[str, str]]) -> None:
    """Create the schemas and tables and insert the rows; the caller owns the transaction."""
    check_tables(tables, column_types)
    for schema in sorted({s for s in map(schema_of, column_types) if s is not None}):
        name = exp.to_identifier(schema, quoted=True).sql("redshift")
        execute(cursor, f"CREATE SCHEMA IF NOT EXISTS {name}")
    for table, columns in column_types.items():
        execute(cursor, create_table_sql(table, columns, REDSHIFT_TYPES, "redshift"))
        insert_rows(execute, cursor, table, columns, tables.get(table, []), "redshift")
