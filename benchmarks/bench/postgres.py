"""The demo on PostgreSQL: compiled against hand-written SQL on a second engine.

DuckDB and PostgreSQL plan differently (PostgreSQL inlines CTEs used once, plans EXISTS as
hashed or nested-loop semi-joins and has no vectorised scans), so a shape that is fast on
one is not proven fast on the other. The demo is copied from its DuckDB file into a
throwaway PostgreSQL server (Debian's packages, the one the test suite starts) with the
primary keys the graph declares and ``ANALYZE``d, as a team running PostgreSQL would have it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

import linked_audiences as la

from .warehouses import log
from .workloads import HERE, Workload

_SCHEMAS = ("ps_materialize", "prod", "segment", "ml")
_PG_TYPES = {
    "VARCHAR": "TEXT",
    "DOUBLE": "DOUBLE PRECISION",
    "BIGINT": "BIGINT",
    "INTEGER": "INTEGER",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
    "TIMESTAMP": "TIMESTAMP",
}


@contextmanager
def postgres_server() -> Iterator[str]:
    """The test suite's throwaway server (tests/engines/postgres_server.py)."""
    root = str(HERE.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.engines.postgres_server import running_postgres

    with running_postgres() as dsn:
        yield dsn


def load_demo(duck_path: Path, dsn: str, graph: la.DataGraph) -> None:
    """Copy every demo table into PostgreSQL (COPY in text form), add the graph's primary
    keys and ANALYZE."""
    import psycopg
    from psycopg import sql

    def ident(*parts: str) -> sql.Composable:
        return sql.SQL(".").join(sql.Identifier(p) for p in parts)

    started = time.perf_counter()
    with duckdb.connect(str(duck_path), read_only=True) as duck, psycopg.connect(dsn) as pg:
        columns = duck.execute(
            "SELECT table_schema, table_name, column_name, data_type "
            "FROM information_schema.columns WHERE table_schema IN ? ORDER BY ordinal_position",
            [list(_SCHEMAS)],
        ).fetchall()
        tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, data_type in columns:
            tables.setdefault((schema, table), []).append((column, _PG_TYPES[data_type]))
        for schema in _SCHEMAS:
            pg.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema)))
        for (schema, table), cols in tables.items():
            spec = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in cols
            )
            pg.execute(sql.SQL("CREATE TABLE {} ({})").format(ident(schema, table), spec))
            names = sql.SQL(", ").join(sql.Identifier(c) for c, _ in cols)
            read = duckdb_select(schema, table, [c for c, _ in cols])
            cursor = duck.execute(read)
            copy_in = sql.SQL("COPY {} ({}) FROM STDIN").format(ident(schema, table), names)
            with pg.cursor().copy(copy_in) as copy:
                while batch := cursor.fetchmany(50_000):
                    for row in batch:
                        copy.write_row(row)
        for entity in graph.entities:
            schema, table = entity.table.split(".")
            pg.execute(
                sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
                    ident(schema, table),
                    sql.SQL(", ").join(sql.Identifier(c) for c in entity.key_columns),
                )
            )
        pg.commit()
        pg.autocommit = True
        pg.execute("ANALYZE")
    log(f"  loaded {len(tables)} tables into PostgreSQL in {time.perf_counter() - started:.1f} s")


def duckdb_select(schema: str, table: str, columns: list[str]) -> str:
    """``SELECT columns FROM schema.table`` for DuckDB, built by sqlglot (names quoted)."""
    query = exp.select(*(exp.column(c, quoted=True) for c in columns)).from_(
        exp.table_(table, db=schema, quoted=True)
    )
    return query.sql(dialect="duckdb")


def time_on_postgres(
    workload: Workload, dsn: str, repeat: int, warmup: int
) -> list[dict[str, Any]]:
    """Compiled (postgres dialect) and hand-written members queries, interleaved; medians."""
    import psycopg

    rows = []
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("SET TIME ZONE 'UTC'")
        for audience in workload.audiences:
            if audience.key not in workload.selected:
                continue
            compiled = la.compile(
                audience,
                workload.graph,
                dialect="postgres",
                as_of=workload.as_of,
                audiences=workload.audiences,
            ).profiles_sql
            hand = hand_sql(audience.key)
            got = {str(r[0]) for r in con.execute(compiled).fetchall()}  # type: ignore[arg-type]
            want = {str(r[0]) for r in con.execute(hand).fetchall()}  # type: ignore[arg-type]
            variants = {"compiled": compiled, "hand": hand}
            samples: dict[str, list[float]] = {v: [] for v in variants}
            for round_ in range(warmup + repeat):
                order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
                for variant in order:
                    sql = f"SELECT count(*) FROM ({variants[variant]}) AS q"
                    started = time.perf_counter()
                    con.execute(sql).fetchall()  # type: ignore[arg-type]
                    if round_ >= warmup:
                        samples[variant].append(time.perf_counter() - started)
            medians = {v: statistics.median(s) for v, s in samples.items()}
            row = {
                "audience": audience.key,
                "members": len(got),
                "agree": got == want,
                "mismatches": [] if got == want else [f"{len(got ^ want)} profiles differ"],
                "compiled_s": medians["compiled"],
                "hand_s": medians["hand"],
                "ratio": medians["compiled"] / medians["hand"],
                "samples": samples,
            }
            rows.append(row)
            log(
                f"  PostgreSQL {workload.label} {audience.key}: compiled "
                f"{row['compiled_s']:.3f} s, hand {row['hand_s']:.3f} s ({row['ratio']:.2f}x)"
            )
    return rows


def hand_sql(key: str) -> str:
    """The PostgreSQL version when the DuckDB one uses DuckDB-only SQL, else the DuckDB one."""
    own = HERE / "hand" / "demo_postgres" / f"{key}.sql"
    return (own if own.exists() else HERE / "hand" / "demo" / f"{key}.sql").read_text()
