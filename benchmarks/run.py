"""Benchmark: compiled SQL against an expert's hand-written SQL, a naive query and one scan.

    python benchmarks/run.py                       # demo 100k + 1M, TPC-H SF 0.1 + 1
    python benchmarks/run.py --demo 2000 --tpch 0.01 --repeat 1 --no-runs   # a smoke run

For every demo example audience and every TPC-H audience (benchmarks/tpch/) it times, in
rotation in one process: the compiled members query, the hand-written one
(benchmarks/hand/<warehouse>/<key>.sql), a naive join-then-DISTINCT query and the floor (one
scan of each table read). It checks that compiled and hand-written return the same profiles
(a mismatch is a correctness finding and makes the exit status 1), times ``la.compile`` per
dialect and ``la.preview``, and measures full runs on the demo in fresh subprocesses.
Markdown goes to stdout and <workdir>/results.md, every number to <workdir>/results.json
(written as each workload finishes; --out renames them). Previews run at the largest size
(the target is a preview of every example at a million profiles under a second).
Numbers depend on the machine and its load: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import postgres, report, runs, timing
from bench.warehouses import demo_warehouse, log, tpch_warehouse
from bench.workloads import Workload, build_queries, demo_workload, tpch_workload

_MAX_DEFAULT_PROFILES = 1_000_000
_MAX_DEFAULT_SCALE = 1.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workdir", type=Path, default=Path(".bench"), help="cache and output")
    parser.add_argument(
        "--demo", type=int, nargs="*", default=[100_000, 1_000_000], metavar="PROFILES"
    )
    parser.add_argument("--tpch", type=float, nargs="*", default=[0.1, 1.0], metavar="SF")
    parser.add_argument(
        "--postgres",
        type=int,
        nargs="*",
        default=[100_000],
        metavar="PROFILES",
        help="the demo at these sizes on PostgreSQL too (none: skip)",
    )
    parser.add_argument(
        "--large", action="store_true", help="allow demo > 1M profiles and TPC-H SF > 1 (10M, 10)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per query")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--compile-repeat", type=int, default=20)
    parser.add_argument("--preview-repeat", type=int, default=3)
    parser.add_argument("--no-runs", action="store_true", help="skip the full-run measurements")
    parser.add_argument(
        "--runs-only", action="store_true", help="only the full-run measurements on the demo"
    )
    parser.add_argument("--no-preview", action="store_true", help="skip preview timings")
    parser.add_argument("--only", nargs="*", default=[], help="only these audience keys")
    parser.add_argument("--out", default="results", help="<workdir>/<out>.json and .md")
    parser.add_argument("--plot", type=Path, default=None, help="PNG of the scaling plot")
    parser.add_argument("--run-child", nargs=2, metavar=("DB", "KEY"), help=argparse.SUPPRESS)
    return parser


def _machine() -> dict[str, Any]:
    import duckdb
    import sqlglot

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "duckdb": duckdb.__version__,
        "sqlglot": sqlglot.__version__,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _workloads(args: argparse.Namespace) -> list[tuple[str, int, Workload]]:
    out = []
    for profiles in args.demo:
        path = demo_warehouse(args.workdir, profiles)
        w = demo_workload(path, profiles)
        out.append(("demo", profiles, w))
    for scale in args.tpch:
        path = tpch_warehouse(args.workdir, scale)
        w = tpch_workload(path, scale)
        customers = round(150_000 * scale)
        out.append(("tpch", customers, w))
    for _, profiles, w in out:
        w.profiles = profiles
        if args.only:
            keep = [a for a in w.audiences if a.key in args.only]
            # Keep the audiences they refer to, so they still compile.
            w.audiences = keep + [a for a in w.audiences if a not in keep and _used(a, keep)]
            w.selected = {a.key for a in keep}
    return [item for item in out if item[2].selected]


def _used(audience: Any, by: list[Any]) -> bool:
    from linked_audiences.conditions import AudienceCondition, walk

    return any(
        isinstance(node, AudienceCondition) and node.key == audience.key
        for other in by
        for _, node in walk(other.condition)
    )


def _save(args: argparse.Namespace, results: dict[str, Any], sections: list[str]) -> None:
    """Write what is measured so far, so a run cut short still leaves its numbers."""
    (args.workdir / f"{args.out}.json").write_text(json.dumps(results, indent=1, default=str))
    (args.workdir / f"{args.out}.md").write_text("\n".join(sections))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.run_child:
        return runs.child(*args.run_child)
    too_big = [p for p in args.demo if p > _MAX_DEFAULT_PROFILES] + [
        s for s in args.tpch if s > _MAX_DEFAULT_SCALE
    ]
    if too_big and not args.large:
        print(f"error: {too_big} is beyond 1M profiles / SF 1: add --large", file=sys.stderr)
        return 2
    if args.repeat < 1 or args.warmup < 0:
        print("error: --repeat must be at least 1 and --warmup at least 0", file=sys.stderr)
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": _machine(), "args": vars(args), "workloads": []}
    results["args"] = {k: str(v) for k, v in vars(args).items()}
    sections = []
    previews: dict[str, dict[str, float]] = {}
    compile_times: dict[str, dict[str, float]] = {}
    demo_sources = []
    compiled_families: set[str] = set()
    for family, profiles, w in _workloads(args):
        if args.runs_only:
            if family == "demo":
                demo_sources.append((profiles, w.path))
            continue
        import duckdb

        with duckdb.connect(str(w.path), read_only=True) as con:
            build_queries(w, con)
        log(f"Timing {w.label} ({len(w.queries)} audiences, {args.repeat} rounds) …")
        rows = timing.time_workload(w, args.repeat, args.warmup)
        results["workloads"].append(
            {"family": family, "label": w.label, "profiles": profiles, "rows": rows}
        )
        sections.append(report.workload_table(w.label, rows))
        _save(args, results, sections)
        largest = max(args.demo if family == "demo" else args.tpch)
        if not args.no_preview and profiles == (
            largest if family == "demo" else round(150_000 * largest)
        ):
            log(f"Previewing {w.label} …")
            previews[w.label] = timing.preview_times(w, args.preview_repeat)
        if family not in compiled_families:  # the same audiences at every size
            compiled_families.add(family)
            log(f"Compile times for the {family} audiences …")
            compile_times.update(timing.compile_times(w, args.compile_repeat))
        if family == "demo":
            demo_sources.append((profiles, w.path))
    for profiles in [] if args.runs_only else args.postgres:
        w = demo_workload(demo_warehouse(args.workdir, profiles), profiles)
        if args.only:
            w.selected = {k for k in w.selected if k in args.only}
        log(f"PostgreSQL: loading {w.label} …")
        with postgres.postgres_server() as dsn:
            postgres.load_demo(w.path, dsn, w.graph)
            rows = postgres.time_on_postgres(w, dsn, args.repeat, args.warmup)
        label = f"PostgreSQL, {w.label}"
        results["workloads"].append(
            {"family": "postgres", "label": label, "profiles": profiles, "rows": rows}
        )
        sections.append(report.postgres_table(label, rows))
        _save(args, results, sections)
    results["compile_ms"] = compile_times
    results["preview_s"] = previews
    md = ["## Members query: compiled vs hand-written (seconds, median)\n", *sections]
    if compile_times:
        md += [
            f"## la.compile per dialect (ms, median of {args.compile_repeat})\n",
            report.compile_table(compile_times),
        ]
    if previews:
        md += [
            f"## la.preview on DuckDB (s, median of {args.preview_repeat})\n",
            report.preview_table(previews),
        ]
    if not args.no_runs and demo_sources:
        results["runs"] = {}
        for profiles, path in demo_sources:
            log(f"Full runs on the demo at {profiles:,} profiles (fresh subprocesses) …")
            rows = runs.run_measurements(Path(__file__).resolve(), path, args.workdir)
            results["runs"][str(profiles)] = rows
            _save(args, results, md)
            md += [f"## Full runs, demo {profiles:,} profiles\n", report.runs_table(rows)]
    text = "\n".join(md)
    print(text)
    _save(args, results, md)
    if args.plot:
        report.plot(results, args.plot)
    mismatches = [
        (w["label"], r["audience"])
        for w in results["workloads"]
        for r in w["rows"]
        if not r["agree"]
    ]
    if mismatches:
        log(f"!!! compiled and hand-written SQL disagree: {mismatches}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
