"""``linked-audiences send-test``: the events a run would send one profile, as tests."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from linked_audiences.cli_common import (
    EXIT_OK,
    EXIT_USAGE,
    _definition_args,
    _load,
    _warehouse_arg,
)


def add_send_test(commands: Any) -> None:
    """Register ``send-test`` on the subcommands of ``linked-audiences``."""
    send = commands.add_parser(
        "send-test",
        help="send the events a run would send one profile entering now, marked as tests",
    )
    _definition_args(send)
    _warehouse_arg(send, "opened read-only: nothing is stored")
    send.add_argument("--profile", required=True, metavar="ID", help="the profile (or account)")
    send.add_argument(
        "--events-out",
        metavar="FILE.jsonl",
        help="append the test events here (default: write them to stdout)",
    )
    send.add_argument(
        "--force",
        action="store_true",
        help="send the test even if the profile is not a member at --as-of",
    )
    send.set_defaults(handler=_cmd_send_test)


def _cmd_send_test(args: argparse.Namespace) -> int:
    from linked_audiences.catalog import CatalogMismatch
    from linked_audiences.errors import one_line
    from linked_audiences.runs.sinks import JsonLinesSink
    from linked_audiences.runs.stream_sink import StreamSink
    from linked_audiences.runs.testing import NotAMember, send_test
    from linked_audiences.warehouse import connect

    graph, audience, audiences = _load(args)
    sink = JsonLinesSink(args.events_out) if args.events_out else StreamSink(sys.stdout.buffer)
    try:
        with connect(args.warehouse, read_only=True, create=False) as warehouse:
            try:
                result = send_test(
                    audience,
                    graph,
                    warehouse,
                    args.profile,
                    sink=sink,
                    as_of=args.as_of,
                    audiences=audiences,
                    force=args.force,
                )
            except CatalogMismatch as exc:  # the graph file is what does not match
                raise exc.with_source(args.graph) from None
            except NotAMember as exc:
                rule = exc.problems[0].rule.replace("force the test", "pass --force")
                print(f"error: {one_line(rule)}", file=sys.stderr)
                return EXIT_USAGE
    finally:
        sink.close()
    skipped = f" ({result.skipped_events:,} over 32 KB not sent)" if result.skipped_events else ""
    note = "" if result.member else " (not a member: forced)"
    print(
        f"sent {len(result.events):,} test events for {one_line(args.profile)!s}{note}{skipped}",
        file=sys.stderr,
    )
    return EXIT_OK
