"""EXPLAIN ANALYZE of the compiled and the hand-written members query of one audience.

    python benchmarks/explain.py tpch 1 t02_frequent_buyers      # TPC-H SF 1
    python benchmarks/explain.py demo 1000000 travel_spenders    # demo, 1M profiles

Uses the warehouses ``run.py`` cached in --workdir (building them if missing) and prints both
plans (DuckDB's operator tree with rows and time per operator), for diagnosing a bad ratio.
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
    parser.add_argument("warehouse", choices=("demo", "tpch"))
    parser.add_argument("size", type=float, help="demo profiles, or TPC-H scale factor")
    parser.add_argument("audience")
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument(
        "--tree", action="store_true", help="one line per operator: rows, seconds, details"
    )
    parser.add_argument("--typed", action="store_true", help="compile with catalog types")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    raise SystemExit(main())
