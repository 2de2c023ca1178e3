"""Timing: the four queries of an audience interleaved in one process, then compile and preview.

Variants run in rotation (compiled, hand, naive, floor, then starting one further along on the
next round), so a burst of load from another process hits every variant alike. Each query is
timed as ``SELECT count(*) FROM (<query>)``, so no time goes into moving rows to Python.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import duckdb

import linked_audiences as la
from linked_audiences.dialects import DIALECTS

from .warehouses import log
from .workloads import Queries, Workload

VARIANTS = ("compiled", "compiled_typed", "hand", "naive", "floor")


class Mismatch(Exception):
    """Compiled and hand-written SQL disagree: a correctness finding, never a timing."""


def _ids(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    return {str(row[0]) for row in con.execute(sql).fetchall()}


def check(con: duckdb.DuckDBPyConnection, q: Queries) -> tuple[int, list[str]]:
    """Member count, and the variants whose profile ids differ from the compiled query's."""
    compiled = _ids(con, q.compiled)
    others = {"compiled_typed": q.compiled_typed, "hand": q.hand}
    if q.naive is not None:
        others["naive"] = q.naive
    wrong = []
    for name, sql in others.items():
        got = _ids(con, sql)
        if got != compiled:
            wrong.append(
                f"{name}: {len(got - compiled)} extra, {len(compiled - got)} missing "
                f"(e.g. {sorted(got ^ compiled)[:3]})"
            )
    return len(compiled), wrong


def _runner(con: duckdb.DuckDBPyConnection, q: Queries, variant: str) -> Callable[[], None]:
    if variant == "floor":
        statements = list(q.floor)

        def floor() -> None:
            for sql in statements:
                con.execute(sql).fetchall()

        return floor
    sql: str | None = getattr(q, variant)
    assert sql is not None
    counted = f"SELECT count(*) FROM ({sql}) AS q"
    return lambda: con.execute(counted).fetchall() and None


def time_workload(workload: Workload, repeat: int, warmup: int) -> list[dict[str, Any]]:
    """Median seconds per variant per audience, after checking the answers agree."""
    rows = []
    with duckdb.connect(str(workload.path), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")
        for q in workload.queries:
            members, wrong = check(con, q)
            for problem in wrong:
                log(f"!!! MISMATCH {workload.label} {q.key}: {problem}")
            variants = [v for v in VARIANTS if v != "naive" or q.naive is not None]
            runners = {v: _runner(con, q, v) for v in variants}
            samples: dict[str, list[float]] = {v: [] for v in variants}
            for round_ in range(warmup + repeat):
                shift = round_ % len(variants)
                for variant in variants[shift:] + variants[:shift]:
                    started = time.perf_counter()
                    runners[variant]()
                    elapsed = time.perf_counter() - started
                    if round_ >= warmup:
                        samples[variant].append(elapsed)
            medians = {v: statistics.median(s) for v, s in samples.items()}
            row: dict[str, Any] = {
                "audience": q.key,
                "members": members,
                "agree": not wrong,
                "mismatches": wrong,
                "naive_note": q.naive_note,
                "tables": q.tables,
                **{f"{v}_s": medians.get(v) for v in VARIANTS},
                "samples": samples,
            }
            row["ratio"] = medians["compiled"] / medians["hand"]
            row["typed_ratio"] = medians["compiled_typed"] / medians["hand"]
            rows.append(row)
            log(
                f"  {workload.label} {q.key}: compiled {medians['compiled']:.3f} s, "
                f"hand {medians['hand']:.3f} s ({row['ratio']:.2f}x)"
            )
    return rows


def compile_times(workload: Workload, repeat: int) -> dict[str, dict[str, float]]:
    """Audience → dialect → median milliseconds of ``la.compile`` (both queries rendered)."""
    result: dict[str, dict[str, float]] = {}
    for audience in workload.audiences:
        if audience.key not in workload.selected:
            continue
        per_dialect = {}
        for dialect in sorted(DIALECTS):

            def once(dialect: str = dialect, audience: la.Audience = audience) -> None:
                c = la.compile(
                    audience,
                    workload.graph,
                    dialect=dialect,
                    as_of=workload.as_of,
                    audiences=workload.audiences,
                )
                _ = c.profiles_sql, c.entities_sql

            once()
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                once()
                samples.append(time.perf_counter() - started)
            per_dialect[dialect] = statistics.median(samples) * 1000
        result[audience.key] = per_dialect
    return result


def preview_times(workload: Workload, repeat: int) -> dict[str, float]:
    """Audience → median seconds of ``la.preview`` on the DuckDB file (warm)."""
    result = {}
    with la.connect(f"duckdb:///{workload.path}") as warehouse:
        warehouse.execute("SET enable_progress_bar = false")
        for audience in workload.audiences:
            if audience.key not in workload.selected:
                continue

            def once(audience: la.Audience = audience) -> None:
                la.preview(
                    audience,
                    workload.graph,
                    warehouse,
                    as_of=workload.as_of,
                    audiences=workload.audiences,
                )

            once()
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                once()
                samples.append(time.perf_counter() - started)
            result[audience.key] = statistics.median(samples)
    return result
