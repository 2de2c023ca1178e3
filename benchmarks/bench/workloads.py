"""A workload: one warehouse, its graph and audiences, and the four queries per audience.

* **compiled** — ``la.compile(...).profiles_sql`` exactly as ``la.preview`` and ``la.run``
  compile it (no catalog column types);
* **compiled_typed** — the same with ``column_types`` read from the catalog (DATE columns
  then compare with DATE literals without a time-zone conversion);
* **hand** — ``benchmarks/hand/<workload>/<key>.sql``, what an expert writes;
* **naive** — join the chain, ``SELECT DISTINCT`` (see ``naive.py``), when defined;
* **floor** — one scan of every table the compiled query reads, hashing the columns it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
from sqlglot import exp

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import DEMO_AS_OF
from linked_audiences.loading import load_audience_folder

from .naive import NotNaive, naive_sql

HERE = Path(__file__).resolve().parent.parent
TPCH_AS_OF = datetime(1998, 8, 3, tzinfo=timezone.utc)
"""The day after TPC-H's last order date: windows reach back into the data."""


@dataclass
class Queries:
    key: str
    compiled: str
    compiled_typed: str
    hand: str
    naive: str | None
    naive_note: str
    floor: list[str]
    tables: list[str]


@dataclass
class Workload:
    name: str  # "demo" or "tpch": the folder of the hand-written queries
    label: str  # "demo 100,000 profiles"
    path: Path
    graph: la.DataGraph
    audiences: list[la.Audience]
    as_of: datetime
    profiles: int = 0
    #: Keys of the audiences to measure (others are only there to be referred to).
    selected: set[str] = field(default_factory=set)
    queries: list[Queries] = field(default_factory=list)


def demo_workload(path: Path, profiles: int) -> Workload:
    graph, audiences = load_examples()
    w = Workload("demo", f"demo {profiles:,} profiles", path, graph, audiences, DEMO_AS_OF)
    w.selected = {a.key for a in audiences}
    return w


def tpch_workload(path: Path, scale: float) -> Workload:
    graph = la.DataGraph.load(HERE / "tpch" / "graph.yaml")
    audiences = sorted(load_audience_folder(HERE / "tpch" / "audiences"), key=lambda a: a.key)
    for audience in audiences:
        problems = la.validate_audience(audience, graph, audiences)
        if problems:
            raise SystemExit(f"{audience.key} is not valid: {problems}")
    w = Workload("tpch", f"TPC-H SF {scale:g}", path, graph, audiences, TPCH_AS_OF)
    w.selected = {a.key for a in audiences}
    return w


def catalog_types(con: duckdb.DuckDBPyConnection, graph: la.DataGraph) -> dict[str, dict[str, str]]:
    """Graph table name → column → SQL type, as the catalog reports it."""
    tables = {e.table for e in graph.entities} | {graph.profile.traits_table}
    types: dict[str, dict[str, str]] = {}
    for name in tables:
        schema, _, table = name.rpartition(".")
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema or "main", table],
        ).fetchall()
        types[name] = {str(c): str(t) for c, t in rows}
    return types


def floor_queries(compiled: exp.Expr) -> tuple[list[str], list[str]]:
    """One ``SELECT bit_xor(hash(col, …)) FROM t`` per table the query reads (CTEs excluded):
    a scan that must read every value of the columns the query reads there."""
    ctes = {cte.alias for cte in compiled.find_all(exp.CTE)}
    columns: dict[str, set[str]] = {}
    for table in compiled.find_all(exp.Table):
        if table.name in ctes:
            continue
        name = ".".join(p for p in (table.db, table.name) if p)
        used = columns.setdefault(name, set())
        # Aliases are reused across CTEs ("ev", "i"), so resolve them per SELECT.
        scope = table.find_ancestor(exp.Select)
        if scope is None:
            continue
        for column in scope.find_all(exp.Column):
            if column.table == table.alias_or_name and column.find_ancestor(exp.Select) is scope:
                used.add(column.name)
    queries = []
    for name, used in sorted(columns.items()):
        # count(col) and max(col) are answered from metadata; a hash of every value is not.
        values = ", ".join(f'"{c}"' for c in sorted(used)) or "1"
        queries.append(f"SELECT bit_xor(hash({values})) FROM {name}")
    return queries, sorted(columns)


def build_queries(workload: Workload, con: duckdb.DuckDBPyConnection) -> None:
    types = catalog_types(con, workload.graph)
    for audience in workload.audiences:
        if workload.selected and audience.key not in workload.selected:
            continue
        compiled = la.compile(
            audience, workload.graph, as_of=workload.as_of, audiences=workload.audiences
        )
        typed = la.compile(
            audience,
            workload.graph,
            as_of=workload.as_of,
            audiences=workload.audiences,
            column_types=types,
        )
        hand = (HERE / "hand" / workload.name / f"{audience.key}.sql").read_text()
        try:
            naive: str | None = naive_sql(
                audience, workload.graph, workload.as_of, workload.audiences, types
            )
            note = ""
        except NotNaive as why:
            naive, note = None, str(why)
        floor, tables = floor_queries(compiled.expression)
        workload.queries.append(
            Queries(
                audience.key,
                compiled.profiles_sql,
                typed.profiles_sql,
                hand,
                naive,
                note,
                floor,
                tables,
            )
        )
