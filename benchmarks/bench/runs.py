"""Full runs on the demo: backfill, a run with no change, a run after the data changed.

Each run is its own subprocess (``python benchmarks/run.py --run-child …``): the parent has
built warehouses and run queries, so its peak RSS says nothing about a run. The child reports
``la.run``'s per-step seconds and its own peak RSS (VmHWM from /proc/self/status) as one JSON
line. Run state lives in a copy of the warehouse, so the cached file stays untouched.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from .warehouses import log

RUN_AUDIENCES = ("premium_cardholders", "abandoned_cart_7d", "high_value_loyalty")

# One percent of the rows each audience reads change between the second and third run.
_CHANGES = (
    "UPDATE prod.credit_card SET card_type = CASE card_type WHEN 'premium' THEN 'standard' "
    "ELSE 'premium' END WHERE hash(id) % 100 = 0",
    "UPDATE prod.cart SET status = 'abandoned', "
    "updated_at = TIMESTAMPTZ '2026-10-31 12:00:00+00' WHERE hash(id) % 100 = 0",
    "UPDATE ps_materialize.user_traits SET value = 'platinum' "
    "WHERE name = 'loyalty_tier' AND hash(canonical_segment_id) % 100 = 0",
)


def _vm_hwm_mb() -> float:
    """Peak RSS of this process. Not ``ru_maxrss``: Linux keeps the parent's high-water mark
    across fork and exec, so a child of a big parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str, key: str) -> int:
    """One ``la.run`` of the demo audience ``key`` on ``path``; prints a JSON line."""
    import linked_audiences as la
    from linked_audiences.demo import load_examples
    from linked_audiences.examples.generator import DEMO_AS_OF
    from linked_audiences.runs.sinks import JsonLinesSink

    baseline_mb = _vm_hwm_mb()
    graph, audiences = load_examples()
    audience = next(a for a in audiences if a.key == key)
    with tempfile.TemporaryDirectory() as folder:
        sink = JsonLinesSink(Path(folder) / "events.jsonl")
        started = time.perf_counter()
        with la.connect(f"duckdb:///{path}") as warehouse:
            warehouse.execute("SET enable_progress_bar = false")
            result = la.run(
                audience, graph, warehouse, as_of=DEMO_AS_OF, audiences=audiences, sink=sink
            )
        total = time.perf_counter() - started
    stats = result.stats
    print(
        json.dumps(
            {
                "members": stats.members,
                "entered": stats.entered,
                "exited": stats.exited,
                "events": stats.events,
                "delivered": stats.delivered,
                "seconds": stats.seconds,
                "total_s": total,
                "peak_rss_mb": _vm_hwm_mb(),
                "import_rss_mb": baseline_mb,
            }
        )
    )
    return 0


def _spawn(script: Path, path: Path, key: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(script), "--run-child", str(path), key],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_measurements(script: Path, source: Path, workdir: Path) -> list[dict[str, Any]]:
    rows = []
    for key in RUN_AUDIENCES:
        copy = workdir / "run_copy.duckdb"
        shutil.copy(source, copy)
        try:
            for label in ("backfill", "no change", "changed data"):
                if label == "changed data":
                    with duckdb.connect(str(copy)) as con:
                        for statement in _CHANGES:
                            con.execute(statement)
                log(f"  run {key}: {label} …")
                rows.append({"audience": key, "run": label, **_spawn(script, copy, key)})
        finally:
            copy.unlink(missing_ok=True)
    return rows
