"""The ``compute-traits`` command: trait values per profile, as CSV or JSON."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from linked_audiences.cli_common import EXIT_OK, _as_of, _warehouse_arg


def add_compute_traits(commands: Any) -> None:
    """Register ``compute-traits`` on the command line's subparsers."""
    parser = commands.add_parser(
        "compute-traits", help="print the values of computed, SQL or stored traits per profile"
    )
    parser.add_argument("graph", metavar="GRAPH", help="data graph (.json, .yaml)")
    _warehouse_arg(parser, "opened read-only")
    parser.add_argument(
        "--traits",
        required=True,
        type=_names,
        metavar="A,B",
        help="comma-separated trait names",
    )
    parser.add_argument(
        "--as-of",
        dest="as_of",
        metavar="TS",
        type=_as_of,
        help="windows end at this ISO-8601 time (default: now, UTC)",
    )
    parser.add_argument(
        "--format", choices=["csv", "json"], default="csv", help="output (default: %(default)s)"
    )
    parser.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    parser.set_defaults(handler=_cmd_compute_traits)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected trait names separated by commas, got {text!r}")
    return names


def _cmd_compute_traits(args: argparse.Namespace) -> int:
    from linked_audiences.compute_traits import compute_traits
    from linked_audiences.graph import DataGraph
    from linked_audiences.warehouse import connect

    graph = DataGraph.load(args.graph)
    with connect(args.warehouse, read_only=True, create=False) as warehouse:
        values = compute_traits(graph, warehouse, args.traits, as_of=args.as_of)
        with _output(args.out) as out:
            if args.format == "csv":
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(values.columns)
                for row in values.tuples():
                    writer.writerow(["" if v is None else _plain(v) for v in row])
            else:
                _json_array(out, values)
    return EXIT_OK


def _json_array(out: IO[str], rows: Any) -> None:
    """One JSON array, written row by row (the rows are read in batches)."""
    out.write("[")
    for i, row in enumerate(rows):
        out.write(("," if i else "") + "\n  " + json.dumps(row, default=_plain, ensure_ascii=False))
    out.write("\n]\n")


def _plain(value: Any) -> Any:
    """A value as JSON/CSV write it: instants and dates in ISO-8601, decimals as numbers."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as handle:
        yield handle


__all__ = ["add_compute_traits"]
