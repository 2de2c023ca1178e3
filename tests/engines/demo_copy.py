"""The demo warehouse's tables as rows plus declared types, for loading into a stand-in."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.reference.evaluator import Tables

SCHEMAS = ("ps_materialize", "prod", "segment")
_KINDS = {
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
}


def _kind(duckdb_type: str, integers: bool) -> str:
    if integers and duckdb_type.upper() in ("BIGINT", "INTEGER"):
        return "integer"
    return _KINDS.get(duckdb_type.upper(), "number")


def demo_tables(
    path: Path, schemas: tuple[str, ...] = SCHEMAS, *, integers: bool = False
) -> tuple[Tables, dict[str, dict[str, str]]]:
    """Every table of the demo ``schemas``: ``schema.table`` → rows, and → {column: type}.

    ``integers``: whole-number columns load as integers, not as numbers (DOUBLE), so a
    composite key keeps the spelling ``1`` in its entity_id on every stand-in."""
    tables: Tables = {}
    column_types: dict[str, dict[str, str]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        listed = con.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM "
            "information_schema.columns WHERE table_schema IN ? ORDER BY ordinal_position",
            [list(schemas)],
        ).fetchall()
        for schema, table, column, data_type in listed:
            column_types.setdefault(f"{schema}.{table}", {})[column] = _kind(data_type, integers)
        for name in column_types:
            schema, table = name.split(".")
            cursor = con.execute(f'SELECT * FROM "{schema}"."{table}"')
            names = [d[0] for d in cursor.description]
            tables[name] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return tables, column_types
