"""EXPLAIN ANALYZE of the compiled and the hand-written members query of one audience.

    python benchmarks/explain.py tpch 1 t02_frequent_buyers      # TPC-H SF 1
    python benchmarks/explain.py demo 1000000 travel_spenders    # demo, 1M profiles
    python benchmarks/explain.py postgres 100000 churn_risk_vips lapsed_vips   # PostgreSQL

Uses the warehouses ``run.py`` cached in --workdir (building them if missing) and prints both
plans (DuckDB's operator tree with rows and time per operator), for diagnosing a bad ratio.
``postgres`` copies the demo into a throwaway PostgreSQL server as ``run.py --postgres`` does
(loading takes a while, so it takes several audiences) and prints its EXPLAIN ANALYZE text
of ``SELECT count(*) FROM (<query>)``, the form the benchmark times.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb
from bench.warehouses import demo_warehouse, tpch_warehouse
from bench.workloads import build_queries, demo_workload, tpch_workload

_SKIP = {"RESULT_COLLECTOR", "EXPLAIN_ANALYZE", "PROJECTION"}
_DETAILS = ("Table", "Join Type", "Conditions", "Groups", "Aggregates", "Expression", "Filters")


def _tree(node: dict[str, Any], depth: int = 0) -> Iterator[str]:
    """Operators as an indented list (projections folded away): name, rows, time, details."""
    for child in node.get("operator", node.get("children", [])):
        name = child.get("name", "")
        if name in _SKIP:
            yield from _tree(child, depth)
            continue
        info = child.get("extra_info", {})
        details = "; ".join(
            f"{key}: {' '.join(v) if isinstance(v, list) else v}"
            for key, v in info.items()
            if key in _DETAILS
        )
        rows = child.get("operator_cardinality", child.get("intermediate_rows", 0))
        seconds = child.get("operator_timing", child.get("timing", 0.0))
        yield f"{'  ' * depth}{name} {rows:,} rows {seconds:.3f} s  {details[:160]}"
        yield from _tree(child, depth + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/explain.py", description=__doc__)
    parser.add_argument("warehouse", choices=("demo", "tpch", "postgres"))
    parser.add_argument("size", type=float, help="demo profiles, or TPC-H scale factor")
    parser.add_argument("audience", nargs="+", help="one (several with postgres)")
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument(
        "--tree", action="store_true", help="one line per operator: rows, seconds, details"
    )
    parser.add_argument("--typed", action="store_true", help="compile with catalog types")
    args = parser.parse_args(argv)
    if args.warehouse == "postgres":
        return _explain_postgres(args.workdir, int(args.size), args.audience)
    if len(args.audience) > 1:
        print("error: one audience at a time on DuckDB", file=sys.stderr)
        return 2
    args.audience = args.audience[0]
    if args.warehouse == "demo":
        w = demo_workload(demo_warehouse(args.workdir, int(args.size)), int(args.size))
    else:
        w = tpch_workload(tpch_warehouse(args.workdir, args.size), args.size)
    w.selected = {args.audience}
    with duckdb.connect(str(w.path), read_only=True) as con:
        build_queries(w, con)
        if not w.queries:
            print(f"error: no audience {args.audience!r} in {w.label}", file=sys.stderr)
            return 2
        q = w.queries[0]
        con.execute("SET enable_progress_bar = false")
        for label, sql in (
            ("compiled", q.compiled_typed if args.typed else q.compiled),
            ("hand", q.hand),
        ):
            print(f"\n===== {label}: {q.key} on {w.label}\n")
            print(sql)
            if args.tree:
                plan = con.execute(f"EXPLAIN (ANALYZE, FORMAT json) {sql}").fetchall()
                started = time.perf_counter()
                con.execute(f"SELECT count(*) FROM ({sql}) AS q").fetchall()
                print(f"(wall {time.perf_counter() - started:.3f} s)")
                for line in _tree(json.loads(plan[0][1])):
                    print(line)
            else:
                for row in con.execute(f"EXPLAIN ANALYZE {sql}").fetchall():
                    print(row[1])
    return 0


def _explain_postgres(workdir: Path, profiles: int, keys: list[str]) -> int:
    """The demo loaded into PostgreSQL once; compiled and hand-written plans per audience."""
    import psycopg
    from bench.postgres import hand_sql, load_demo, postgres_server

    import linked_audiences as la
    from linked_audiences.demo import load_examples

    audiences = {a.key: a for a in load_examples()[1]}
    unknown = [k for k in keys if k not in audiences]
    if unknown:  # before building or loading anything
        print(f"error: no demo audience {unknown[0]!r}", file=sys.stderr)
        return 2
    w = demo_workload(demo_warehouse(workdir, profiles), profiles)
    audiences = {a.key: a for a in w.audiences}
    with postgres_server() as dsn:
        load_demo(w.path, dsn, w.graph)
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute("SET TIME ZONE 'UTC'")
            for key in keys:
                compiled = la.compile(
                    audiences[key],
                    w.graph,
                    dialect="postgres",
                    as_of=w.as_of,
                    audiences=w.audiences,
                ).profiles_sql
                for label, sql in (("compiled", compiled), ("hand", hand_sql(key))):
                    print(f"\n===== {label}: {key} on PostgreSQL, {w.label}\n\n{sql}\n")
                    # The form run.py times: PostgreSQL may plan it unlike the bare query.
                    counted = f"SELECT count(*) FROM ({sql}) AS q"
                    con.execute(counted).fetchall()  # type: ignore[arg-type]  # warm
                    explain = f"EXPLAIN (ANALYZE, BUFFERS) {counted}"
                    plan = con.execute(explain).fetchall()  # type: ignore[arg-type]
                    print("\n".join(str(row[0]) for row in plan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
