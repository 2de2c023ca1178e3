"""Run one audience, and SIGKILL this very process at a chosen point.

    python -m tests.harness.run_and_die DB GRAPH AUDIENCE AS_OF EVENTS_OUT \
        [--die-after-write N] [--die-after-send N]

``--die-after-write N`` kills the process right after the N-th statement that writes to the
warehouse returned; ``--die-after-send N`` right after the sink accepted its N-th batch (the
events are in the file, the delivery watermark is not yet written). No ``finally`` runs, no
buffer is flushed, no connection is closed: as if the machine lost power.
"""

from __future__ import annotations

import argparse
import os
import signal
from typing import Any

import linked_audiences as la
from linked_audiences.runs.sinks import JsonLinesSink
from linked_audiences.warehouse import Warehouse

WRITES = ("INSERT", "DELETE", "CREATE", "UPDATE")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("db", "graph", "audience", "as_of", "events_out"):
        parser.add_argument(name)
    parser.add_argument("--die-after-write", type=int, default=0)
    parser.add_argument("--die-after-send", type=int, default=0)
    parser.add_argument("--state-schema", default=la.runs.DEFAULT_SCHEMA)
    parser.add_argument("--setup", action="append", default=[], help="SQL run after connect")
    args = parser.parse_args()

    writes = {"n": 0}
    execute = Warehouse.execute

    def counting_execute(self: Warehouse, query: Any) -> None:
        execute(self, query)
        if self.sql(query).lstrip().upper().startswith(WRITES):
            writes["n"] += 1
            if writes["n"] == args.die_after_write:
                _die()

    Warehouse.execute = counting_execute  # type: ignore[method-assign]

    sink = JsonLinesSink(args.events_out)
    sends = {"n": 0}
    send = sink.send

    def dying_send(events: Any) -> None:
        send(events)
        sends["n"] += 1
        if sends["n"] == args.die_after_send:
            _die()

    sink.send = dying_send  # type: ignore[method-assign]

    graph = la.DataGraph.load(args.graph)
    audience = la.Audience.load(args.audience)
    url = args.db if "://" in args.db else f"duckdb:///{args.db}"  # a file, or any URL
    with la.connect(url) as warehouse:
        for statement in args.setup:  # what a stand-in session needs (Redshift's shims)
            execute(warehouse, statement)
        result = la.run(
            audience, graph, warehouse, as_of=args.as_of, sink=sink, state_schema=args.state_schema
        )
    print(f"writes={writes['n']} sends={sends['n']} events={result.stats.events}")


if __name__ == "__main__":
    main()
