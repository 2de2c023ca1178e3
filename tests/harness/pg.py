"""The demo warehouse copied into a fresh PostgreSQL database, for run tests on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

import linked_audiences as la

DEMO_SCHEMAS = "('ps_materialize', 'prod', 'segment', 'ml')"


def pg_url(postgres_dsn: str, database: str) -> str:
    """A ``postgresql://`` URL for ``database`` on the server of ``postgres_dsn``."""
    return f"postgresql:///{database}?" + "&".join(
        f"{k}={v}" for k, v in (p.split("=") for p in postgres_dsn.split()) if k != "dbname"
    )


@contextmanager
def demo_postgres(template: Path, postgres_dsn: str) -> Iterator[la.Warehouse]:
    """The rows of the DuckDB file ``template`` in a new PostgreSQL database, connected."""
    import psycopg

    from tests.engines.postgres_loader import load_tables
    from tests.test_differential_demo import _DUCKDB_TO_SPEC

    name = f"runs_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = postgres_dsn.replace("dbname=postgres", f"dbname={name}")
    con = duckdb.connect(str(template), read_only=True)
    con.execute("SET TimeZone='UTC'")
    tables, types = {}, {}
    for schema, table in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema IN {DEMO_SCHEMAS}"
    ).fetchall():
        cursor = con.execute(f'SELECT * FROM "{schema}"."{table}"')
        cols = [d[0] for d in cursor.description]
        types[f"{schema}.{table}"] = {d[0]: _DUCKDB_TO_SPEC[str(d[1])] for d in cursor.description}
        tables[f"{schema}.{table}"] = [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]
    con.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_tables(conn, tables, types)
    warehouse = la.connect(pg_url(postgres_dsn, name))
    try:
        yield warehouse
    finally:
        warehouse.close()
