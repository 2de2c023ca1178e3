"""What every command of the command line shares: exit statuses, loading definitions, and
leaving quietly when the reader of stdout went away."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import datetime
from pathlib import Path

from linked_audiences.conditions import Audience
from linked_audiences.datatypes import parse_iso_timestamp
from linked_audiences.graph import DataGraph
from linked_audiences.loading import load_audience_folder
from linked_audiences.runs.engine import DeliveryFailed, RunConflict, RunInProgress

EXIT_OK, EXIT_USAGE = 0, 2
EXIT_RUN_FAILED = 1  # the input was fine; the run or its delivery failed (and is recoverable)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C

MAX_SAMPLE = 10_000  # a preview prints each sampled profile; more is an export's job
RUN_ERRORS = (DeliveryFailed, RunConflict, RunInProgress)


def _load(args: argparse.Namespace) -> tuple[DataGraph, Audience, list[Audience]]:
    """GRAPH, AUDIENCE and the audiences its `audience` nodes may name (--audiences DIR)."""
    graph = DataGraph.load(args.graph)
    audience = Audience.load(args.audience)
    folder = args.audiences_dir or Path(args.audience).parent
    return graph, audience, load_audience_folder(folder, audience)


def _broken_pipe(exc: BaseException) -> bool:
    """Whether a BrokenPipeError is ``exc`` or among its causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BrokenPipeError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _silence_stdout() -> None:
    """The reader of stdout left: send what Python still flushes at exit to /dev/null, so
    that flush does not print a second error."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# --- argument types and shared options ---------------------------------------------------


def _warehouse_arg(parser: argparse.ArgumentParser, note: str) -> None:
    parser.add_argument(
        "--warehouse",
        required=True,
        metavar="URL",
        help=f"duckdb:///relative.duckdb, duckdb:////absolute.duckdb or postgresql://… ({note})",
    )


def _state_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-schema",
        default="linked_audiences",
        metavar="SCHEMA",
        help="schema for run state (default: %(default)s)",
    )


def _definition_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("graph", metavar="GRAPH", help="data graph (.json, .yaml)")
    parser.add_argument("audience", metavar="AUDIENCE", help="audience definition")
    parser.add_argument(
        "--as-of",
        dest="as_of",
        metavar="TS",
        type=_as_of,
        help="evaluate at this ISO-8601 time (default: now, UTC)",
    )
    parser.add_argument(
        "--audiences",
        dest="audiences_dir",
        metavar="DIR",
        help="folder of audiences that `audience` nodes may name (default: the folder of AUDIENCE)",
    )


def _as_of(text: str) -> datetime:
    try:
        return parse_iso_timestamp(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO-8601 timestamp, got {text!r}") from None


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a percentage >= 0, got {text!r}")
    return value


def _sample_size(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_SAMPLE:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_SAMPLE:,}, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value
