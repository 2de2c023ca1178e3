"""The ``linked-audiences`` command line: thin; every command is one library call.

A user's mistake prints one line per problem to stderr and exits 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from linked_audiences.cli_common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_USAGE,
    MAX_SAMPLE,
    RUN_ERRORS,
    _as_of,
    _definition_args,
    _load,
    _percent,
    _positive_int,
    _sample_size,
    _silence_stdout,
    _state_arg,
    _warehouse_arg,
)
from linked_audiences.cli_insights import add_insight_commands
from linked_audiences.cli_runs import (
    _cmd_deliver,
    _cmd_run,
    _cmd_run_due,
    _cmd_runs,
    add_alert_args,
)
from linked_audiences.cli_send_test import add_send_test
from linked_audiences.cli_traits import add_compute_traits
from linked_audiences.conditions import Audience
from linked_audiences.dialects import DIALECTS
from linked_audiences.errors import DefinitionError, Problem, UnsupportedFeature
from linked_audiences.graph import DataGraph
from linked_audiences.loading import load_audience_folder
from linked_audiences.preview import ExplorerGroup, Preview
from linked_audiences.warehouse import (
    QUERY_THREAD,
    WarehouseError,
    WarehouseUnavailable,
    WarehouseURLError,
    is_interrupt,
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments in one line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _cmd_schema(args: argparse.Namespace) -> int:
    from linked_audiences.schema import bundled_schema, definition_schemas

    if args.kind is None:
        print(json.dumps(bundled_schema(), indent=2))
    else:
        print(json.dumps(definition_schemas()[args.kind.replace("-", "_")], indent=2))
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from linked_audiences.validation import validate_audience

    graph = DataGraph.load(args.graph)
    problems: list[Problem] = []
    for path in args.audiences:
        try:
            audience = Audience.load(path)
            folder = args.audiences_dir or Path(path).parent
            validate_audience(audience, graph, load_audience_folder(folder, audience))
        except DefinitionError as exc:
            problems.extend(exc.with_source(str(path)).problems)
        else:
            print(f"ok  {path}  ({audience.key}: {audience.name})")
    if problems:
        raise DefinitionError(problems)
    return EXIT_OK


def _cmd_compile(args: argparse.Namespace) -> int:
    from linked_audiences.compiler import compile

    graph, audience, audiences = _load(args)
    compiled = compile(audience, graph, dialect=args.dialect, as_of=args.as_of, audiences=audiences)
    print(
        f"-- {audience.key}: members ({compiled.dialect.name}, as of {compiled.as_of.isoformat()})"
    )
    print(compiled.sql(pretty=True) + ";")
    if args.entities:
        print(f"\n-- {audience.key}: matched entities")
        print(compiled.sql(pretty=True, entities=True) + ";")
    return EXIT_OK


def _cmd_preview(args: argparse.Namespace) -> int:
    from linked_audiences.preview import preview
    from linked_audiences.warehouse import connect

    graph, audience, audiences = _load(args)
    with connect(args.warehouse, read_only=True) as warehouse:
        result = preview(
            audience,
            graph,
            warehouse,
            as_of=args.as_of,
            audiences=audiences,
            sample=args.sample,
            blocks=args.blocks,
            events=args.events,
        )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_preview(result, audience.name))
    return EXIT_OK


def format_preview(result: Preview, name: str) -> str:
    """The preview as text: count, then each sampled profile with its explorer tree."""
    members = "accounts" if result.level == "account" else "profiles"
    lines = [
        f"{result.audience_key} ({name}): {result.count:,} {members} as of "
        f"{result.as_of.isoformat()}"
    ]
    for pid in result.sample:
        ids = ", ".join(f"{k}={'|'.join(v)}" for k, v in result.identifiers.get(pid, {}).items())
        lines.append(f"  {pid}  {ids}")
        lines.extend(_tree(result.entities.get(pid, ()), "      "))
    if result.blocks:
        lines.append("each top-level condition alone:")
        lines.extend(f"  {b.count:>10,}  {b.label}  ({b.path})" for b in result.blocks)
    for shape in result.events:
        on = f" ({shape['relationship']})" if shape.get("relationship") else ""
        lines.append(f"event {shape['trigger']}{on}: {shape['type']} {shape['event'] or ''}")
        lines.append(textwrap.indent(json.dumps(shape["payload"], indent=2), "    "))
    return "\n".join(lines)


def _tree(groups: tuple[ExplorerGroup, ...], indent: str) -> list[str]:
    lines = []
    for group in groups:
        more = (
            f" (showing {len(group.shown)} of {group.total})"
            if group.total > len(group.shown)
            else ""
        )
        lines.append(f"{indent}{group.relationship}{more}")
        for node in group.shown:
            lines.append(f"{indent}  - {node.entity_id}")
            lines.extend(_tree(node.children, indent + "    "))
    return lines


def _cmd_estimate(args: argparse.Namespace) -> int:
    from linked_audiences.catalog import CatalogMismatch
    from linked_audiences.estimate import estimate, format_estimate
    from linked_audiences.warehouse import connect

    graph, audience, audiences = _load(args)
    with connect(args.warehouse, read_only=True, create=False) as warehouse:
        try:
            result = estimate(audience, graph, warehouse, as_of=args.as_of, audiences=audiences)
        except CatalogMismatch as exc:  # the graph file is what does not match
            raise exc.with_source(args.graph) from None
    print(format_estimate(result))
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from linked_audiences.catalog import raise_on_mismatch
    from linked_audiences.warehouse import connect

    graph = DataGraph.load(args.graph)
    with connect(args.warehouse, read_only=True) as warehouse:
        raise_on_mismatch(graph, warehouse, source=args.graph)
    print("ok")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from linked_audiences.demo import run_demo

    return run_demo(
        Path(args.warehouse), profiles=args.profiles, seed=args.seed, rebuild=args.rebuild
    )


def build_parser() -> argparse.ArgumentParser:
    from linked_audiences import __version__

    parser = _Parser(
        prog="linked-audiences",
        description="Compile and run Segment-style Linked Audiences in your own warehouse.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND", help="one of:"
    )

    schema = commands.add_parser("schema", help="print the JSON Schema of graphs and audiences")
    schema.add_argument(
        "--kind",
        choices=["audience", "data-graph"],
        help="print only this schema (default: one document that accepts either)",
    )
    schema.set_defaults(handler=_cmd_schema)

    validate = commands.add_parser("validate", help="check audiences against a data graph")
    validate.add_argument("graph", metavar="GRAPH", help="data graph (.json, .yaml)")
    validate.add_argument(
        "audiences", metavar="AUDIENCE", nargs="+", help="audience definitions to check"
    )
    validate.add_argument(
        "--audiences",
        dest="audiences_dir",
        metavar="DIR",
        help="folder of audiences that `audience` nodes may name (default: each AUDIENCE's folder)",
    )
    validate.set_defaults(handler=_cmd_validate)

    compile_ = commands.add_parser("compile", help="print the SQL of an audience")
    _definition_args(compile_)
    compile_.add_argument(
        "--dialect",
        default="duckdb",
        choices=sorted(DIALECTS),
        help="warehouse SQL dialect (default: %(default)s)",
    )
    compile_.add_argument(
        "--entities", action="store_true", help="also print the matched-entities query"
    )
    compile_.set_defaults(handler=_cmd_compile)

    preview_ = commands.add_parser("preview", help="count and sample an audience")
    _definition_args(preview_)
    _warehouse_arg(preview_, "opened read-only")
    preview_.add_argument(
        "--sample",
        type=_sample_size,
        default=10,
        metavar="N",
        help=f"show N members, 1 to {MAX_SAMPLE:,} (default: %(default)s)",
    )
    preview_.add_argument(
        "--blocks", action="store_true", help="also count each top-level condition alone"
    )
    preview_.add_argument(
        "--events",
        action="store_true",
        help="also show the shape of each event a run will send (default activations)",
    )
    preview_.add_argument("--json", action="store_true", help="print JSON")
    preview_.set_defaults(handler=_cmd_preview)

    estimate_ = commands.add_parser(
        "estimate",
        help="what the warehouse says an audience's query would scan, or its plan; runs nothing",
    )
    _definition_args(estimate_)
    _warehouse_arg(estimate_, "opened read-only")
    estimate_.set_defaults(handler=_cmd_estimate)

    check = commands.add_parser(
        "check", help="check that a data graph's tables, columns and types match the warehouse"
    )
    check.add_argument("graph", metavar="GRAPH", help="data graph (.json, .yaml)")
    _warehouse_arg(check, "opened read-only")
    check.set_defaults(handler=_cmd_check)

    run_ = commands.add_parser("run", help="run an audience: snapshot, diff, emit events")
    _definition_args(run_)
    _warehouse_arg(run_, "the DuckDB file must exist")
    run_.add_argument(
        "--events-out",
        metavar="FILE.jsonl",
        help="append events here (default: write them to stdout)",
    )
    run_.add_argument(
        "--no-backfill", action="store_true", help="first run: record the baseline, send nothing"
    )
    run_.add_argument(
        "--allow-backdated",
        action="store_true",
        help="run even though --as-of is earlier than the last committed run's",
    )
    run_.add_argument(
        "--size-alert",
        type=_percent,
        metavar="PCT",
        help="mark runs whose membership moved more than PCT percent",
    )
    add_alert_args(run_)
    _state_arg(run_)
    run_.set_defaults(handler=_cmd_run)

    runs = commands.add_parser("runs", help="show an audience's run log")
    runs.add_argument("audience", metavar="AUDIENCE", help="definition file or audience key")
    _warehouse_arg(runs, "the DuckDB file must exist")
    runs.add_argument("--json", action="store_true", help="print JSON")
    _state_arg(runs)
    runs.set_defaults(handler=_cmd_runs)

    deliver_ = commands.add_parser("deliver", help="send events left pending by earlier runs")
    deliver_.add_argument("audience", metavar="AUDIENCE", help="definition file or audience key")
    _warehouse_arg(deliver_, "the DuckDB file must exist")
    deliver_.add_argument(
        "--events-out", required=True, metavar="FILE.jsonl", help="append the events here"
    )
    _state_arg(deliver_)
    deliver_.set_defaults(handler=_cmd_deliver)

    due = commands.add_parser("run-due", help="run every due audience of a project folder")
    due.add_argument("project", metavar="PROJECT", help="folder with linked-audiences.yaml")
    due.add_argument(
        "--warehouse",
        metavar="URL",
        help="overrides the project's warehouse (a relative DuckDB path is relative to the "
        "working folder; in the project file, to the project folder)",
    )
    due.add_argument("--now", type=_as_of, metavar="TS", help="pretend it is TS (testing)")
    due.set_defaults(handler=_cmd_run_due)

    add_compute_traits(commands)
    add_send_test(commands)
    add_insight_commands(commands)

    demo = commands.add_parser(
        "demo", help="build the demo DuckDB warehouse and show the example audiences"
    )
    demo.add_argument(
        "--warehouse",
        default="linked_audiences_demo.duckdb",
        metavar="PATH",
        help="DuckDB file to build (default: %(default)s)",
    )
    demo.add_argument(
        "--profiles",
        type=_positive_int,
        default=10_000,
        metavar="N",
        help="number of profiles (default: %(default)s)",
    )
    demo.add_argument(
        "--seed", type=int, default=42, help="random seed of the data (default: %(default)s)"
    )
    demo.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild a demo warehouse even when it exists (never a file the demo did not build)",
    )
    demo.set_defaults(handler=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; map a user's mistakes to one-line messages and exit status 2, a
    failed (recoverable) run to one line and exit status 1, Ctrl-C to exit status 130."""
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # a newcomer's first try: show usage
        print(parser.format_usage().strip(), file=sys.stderr)
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except DefinitionError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
    except (
        UnsupportedFeature,
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
        FileExistsError,
        PermissionError,
        WarehouseUnavailable,
        WarehouseURLError,
    ) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
    except UnicodeDecodeError as exc:  # a binary file given as a definition
        print(f"error: a definition file is not UTF-8 text ({exc.reason})", file=sys.stderr)
    except WarehouseError as exc:
        if not exc.catalog:
            print(f"error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_RUN_FAILED
        hint = "the data graph does not match the warehouse: see `linked-audiences check`"
        print(f"error: {_one_line(exc)} ({hint})", file=sys.stderr)
    except RUN_ERRORS as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        _leave_if_a_query_still_runs(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `linked-audiences compile … | head`: the reader left; not an error
        _silence_stdout()
        return EXIT_RUN_FAILED
    except Exception as exc:
        code = client_error_exit(exc)
        if code is None:
            raise
        print(
            "interrupted" if code == EXIT_INTERRUPTED else f"error: {_one_line(exc)}",
            file=sys.stderr,
        )
        return code
    return EXIT_USAGE


def _leave_if_a_query_still_runs(code: int) -> None:
    """Exit at once when a query the warehouse would not cancel still runs in its worker
    thread: the interpreter's normal shutdown would kill that thread inside the client's
    C++ code, which aborts the process (exit -6) instead of reporting ``code``."""
    if any(thread.name == QUERY_THREAD and thread.is_alive() for thread in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def client_error_exit(exc: BaseException) -> int | None:
    """The exit status for a warehouse client's exception that escaped the ``Warehouse``
    wrapper (the demo's build talks to DuckDB directly): 130 for an interrupted query, 1 for
    an I/O failure such as a full disk; None for anything else (a bug: let it show)."""
    if is_interrupt(exc):
        return EXIT_INTERRUPTED
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"IOException", "OutOfMemoryException"} or isinstance(exc, OSError):
        return EXIT_RUN_FAILED
    return None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}"
    return " ".join(str(exc).split())
