"""Export of a large audience: peak memory and whether the file streams.

    .venv/bin/python benchmarks/export.py --profiles 1000000 [--postgres]

Builds (or reuses, under --workdir) the demo warehouse, then exports an audience of every
profile with an email — most of the demo — in each format, each in a process of its own,
and records:

- the process's peak resident memory (its own VmHWM: a child's ru_maxrss can start at
  its parent's);
- the peak of memory Python itself allocated (tracemalloc): rows held by the exporter;
- the CSV's size while it is written: a streamed export grows its file in many steps, a
  buffered one all at the end;
- for comparison, the peak RSS of a preview (count) of the same audience in the same way:
  what the engine needs to evaluate the audience at all.

With ``--postgres`` the demo is also copied into a throwaway PostgreSQL server and exported
from there: the audience is evaluated by the server, so the client's memory is the export's
own. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.warehouses import demo_warehouse, log

ROOT = Path(__file__).resolve().parent.parent
#: Every profile with an email: at the demo's sizes, most profiles.
EVERYONE = {
    "key": "everyone_with_an_email",
    "name": "Everyone with an email",
    "include_anonymous": True,
    "condition": {"type": "trait", "trait": "email", "operator": "exists"},
}

#: What the child process runs: one export (or one preview) with Python's own allocations
#: traced, its result as JSON on stdout.
CHILD = """
import json, sys, time, tracemalloc
import linked_audiences as la
graph = la.DataGraph.load(sys.argv[1])
audience = la.Audience.load(sys.argv[2])
if sys.argv[6] == "traced":  # slows every allocation: a second run, for this figure only
    tracemalloc.start()
started = time.perf_counter()
with la.connect(sys.argv[3], read_only=True) as warehouse:
    if sys.argv[4] == "preview":
        rows = la.preview(audience, graph, warehouse, sample=1).count
    else:
        rows = la.export(audience, graph, warehouse, sys.argv[5], format=sys.argv[4]).rows
seconds = time.perf_counter() - started
status = open("/proc/self/status").read().split("VmHWM:")[1].split()  # this process's peak
print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_mb": int(status[0]) / 1024,
                  "python_peak_mb": tracemalloc.get_traced_memory()[1] / 2**20}))
"""


def measure(url: str, audience: Path, out: Path, form: str) -> dict[str, float]:
    """One export (or ``preview``) in a child process for time, peak RSS and the file's
    growth; then again with Python's allocations traced, for their peak alone."""
    result = _child(url, audience, out, form, traced=False)
    result["python_peak_mb"] = _child(url, audience, out, form, traced=True)["python_peak_mb"]
    return result


def _child(url: str, audience: Path, out: Path, form: str, *, traced: bool) -> dict[str, float]:
    command = [
        sys.executable,
        "-c",
        CHILD,
        str(ROOT / "examples" / "graph.yaml"),
        str(audience),
        url,
        form,
        str(out),
        "traced" if traced else "plain",
    ]
    report = out.with_suffix(".json")
    sizes: list[int] = []
    with report.open("w") as stdout:
        child = subprocess.Popen(command, stdout=stdout)
        while True:
            pid, status, _ = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            # The file is written under a temporary name and renamed when complete.
            partial = list(out.parent.glob(f".{out.name}.*.part"))
            sizes.append(sum(p.stat().st_size for p in partial if p.exists()))
            time.sleep(0.05)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{form} failed ({os.waitstatus_to_exitcode(status)})")
    result = json.loads(report.read_text())
    result["file_mb"] = out.stat().st_size / 2**20 if out.exists() else 0.0
    result["sizes_seen"] = len({s for s in sizes if s > 0})
    return dict(result)


def report(engine: str, url: str, folder: Path, audience: Path) -> None:
    baseline = measure(url, audience, folder / f"{engine}-preview.csv", "preview")
    print(
        f"| {engine} | preview (count only) | {baseline['rows']:,} | {baseline['seconds']:.1f} "
        f"| {baseline['peak_rss_mb']:.0f} | {baseline['python_peak_mb']:.1f} | – | – |"
    )
    for form in ("formatted", "unformatted", "hashed"):
        log(f"{engine}: exporting ({form})…")
        r = measure(url, audience, folder / f"{engine}-{form}.csv", form)
        print(
            f"| {engine} | export {form} | {r['rows']:,} | {r['seconds']:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {r['python_peak_mb']:.1f} | {r['file_mb']:.0f} | "
            f"{r['sizes_seen']} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument("--postgres", action="store_true", help="also export from PostgreSQL")
    args = parser.parse_args()
    args.workdir.mkdir(exist_ok=True)
    log(f"demo warehouse of {args.profiles:,} profiles (built once, then reused)…")
    duck = demo_warehouse(args.workdir, args.profiles)
    print(
        "| engine | what | rows | seconds | peak RSS (MB) | Python peak (MB) | file (MB) "
        "| file sizes seen while running |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        audience = folder / "everyone.json"
        audience.write_text(json.dumps(EVERYONE))
        report("duckdb", f"duckdb:///{duck}", folder, audience)
        if args.postgres:
            from bench.postgres import load_demo, postgres_server

            import linked_audiences as la

            with postgres_server() as dsn:
                log("copying the demo into PostgreSQL…")
                load_demo(duck, dsn, la.DataGraph.load(ROOT / "examples" / "graph.yaml"))
                params = dict(part.split("=", 1) for part in dsn.split())
                url = (
                    f"postgresql://{params['user']}@/{params['dbname']}"
                    f"?host={params['host']}&port={params['port']}"
                )
                report("postgres", url, folder, audience)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
