"""Benchmark: compile time per dialect, and DuckDB preview time on the demo warehouse.

    python benchmarks/compile_and_preview.py --profiles 100000 1000000 --runs

Writes nothing but the demo warehouse files (under --workdir); prints Markdown tables that
docs/compiler.md quotes. A benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import linked_audiences as la
from linked_audiences.conditions import walk
from linked_audiences.demo import ensure_demo_warehouse, load_examples
from linked_audiences.dialects import DIALECTS
from linked_audiences.examples.generator import DEMO_AS_OF


def _timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def compile_times(repeat: int) -> None:
    graph, audiences = load_examples()
    largest = max(audiences, key=lambda a: sum(1 for _ in walk(a.condition)))
    nodes = sum(1 for _ in walk(largest.condition))
    print(f"\n### Compile time: `{largest.key}` ({nodes} nodes), median of {repeat}\n")
    print("| dialect | validate + build + render both queries (ms) |")
    print("| --- | ---: |")
    for dialect in sorted(DIALECTS):

        def run(dialect: str = dialect) -> None:
            compiled = la.compile(
                largest, graph, dialect=dialect, as_of=DEMO_AS_OF, audiences=audiences
            )
            _ = compiled.profiles_sql, compiled.entities_sql

        run()  # first call per dialect loads sqlglot's dialect module
        print(f"| {dialect} | {_timed(run, repeat) * 1000:.1f} |")


def preview_times(profiles: int, workdir: Path, repeat: int) -> None:
    path = workdir / f"demo_{profiles}.duckdb"
    started = time.perf_counter()
    built = ensure_demo_warehouse(path, profiles=profiles, seed=42)
    if built:
        print(f"\n(built {path} in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    graph, audiences = load_examples()
    print(f"\n### DuckDB preview at {profiles:,} profiles (median of {repeat}, warm)\n")
    print("| audience | members | count + sample (s) | + matched entities of all members (s) |")
    print("| --- | ---: | ---: | ---: |")
    with la.connect(f"duckdb:///{path}") as warehouse:
        for audience in audiences:
            result = la.preview(audience, graph, warehouse, as_of=DEMO_AS_OF, audiences=audiences)

            def run_preview(audience: la.Audience = audience) -> None:
                la.preview(audience, graph, warehouse, as_of=DEMO_AS_OF, audiences=audiences)

            preview_s = _timed(run_preview, repeat)
            compiled = la.compile(audience, graph, as_of=DEMO_AS_OF, audiences=audiences)
            sql = f"SELECT COUNT(*) FROM ({compiled.entities_sql}) AS e"
            entities_s = _timed(lambda sql=sql: warehouse.fetchall(sql), repeat)
            print(f"| {audience.key} | {result.count:,} | {preview_s:.3f} | {entities_s:.3f} |")


def run_times(profiles: int, workdir: Path) -> None:
    """A backfill run, then an incremental run a day later, on a copy of the warehouse."""
    source = workdir / f"demo_{profiles}.duckdb"
    ensure_demo_warehouse(source, profiles=profiles, seed=42)
    graph, audiences = load_examples()
    print(f"\n### Full runs at {profiles:,} profiles (state in the same DuckDB file)\n")
    print("| audience | run | members | events | compile | query | diff | events | total (s) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key in ("premium_cardholders", "abandoned_cart_7d", "high_value_loyalty"):
        audience = next(a for a in audiences if a.key == key)
        copy = workdir / f"run_{profiles}.duckdb"
        shutil.copy(source, copy)
        with la.connect(f"duckdb:///{copy}") as warehouse:
            for label, as_of in (
                ("backfill", DEMO_AS_OF),
                ("next day", DEMO_AS_OF + timedelta(days=1)),
            ):
                started = time.perf_counter()
                result = la.run(audience, graph, warehouse, as_of=as_of, audiences=audiences)
                consumed = sum(1 for _ in result.events)
                total = time.perf_counter() - started
                s = result.stats.seconds
                print(
                    f"| {key} | {label} | {result.stats.members:,} | {consumed:,} | "
                    f"{s['compile']:.2f} | {s['warehouse_query']:.2f} | {s['diff']:.2f} | "
                    f"{s['event_preparation']:.2f} | {total:.2f} |"
                )
        copy.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, nargs="*", default=[100_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/linked_audiences_bench"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", action="store_true", help="also time full runs")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    compile_times(repeat=20)
    for n in args.profiles:
        preview_times(n, args.workdir, args.repeat)
        if args.runs:
            run_times(n, args.workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
