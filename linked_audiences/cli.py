"""The ``linked-audiences`` command line: thin; every command is one library call.

A user's mistake prints one line per problem to stderr and exits 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from linked_audiences.conditions import Audience
from linked_audiences.datatypes import parse_iso_timestamp
from linked_audiences.dialects import DIALECTS
from linked_audiences.errors import DefinitionError, Problem, UnsupportedFeature
from linked_audiences.graph import DataGraph
from linked_audiences.loading import load_audience_folder
from linked_audiences.preview import ExplorerGroup, Preview

EXIT_OK, EXIT_USAGE = 0, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments in one line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _cmd_schema(args: argparse.Namespace) -> int:
    from linked_audiences.schema import definition_schemas

    print(json.dumps(definition_schemas(), indent=2))
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


def _load(args: argparse.Namespace) -> tuple[DataGraph, Audience, list[Audience]]:
    """GRAPH, AUDIENCE and the audiences its `audience` nodes may name (--audiences DIR)."""
    graph = DataGraph.load(args.graph)
    audience = Audience.load(args.audience)
    folder = args.audiences_dir or Path(args.audience).parent
    return graph, audience, load_audience_folder(folder, audience)


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
    with connect(args.warehouse) as warehouse:
        result = preview(
            audience, graph, warehouse, as_of=args.as_of, audiences=audiences, sample=args.sample
        )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_preview(result, audience.name))
    return EXIT_OK


def format_preview(result: Preview, name: str) -> str:
    """The preview as text: count, then each sampled profile with its explorer tree."""
    lines = [
        f"{result.audience_key} ({name}): {result.count:,} profiles as of "
        f"{result.as_of.isoformat()}"
    ]
    for pid in result.sample:
        ids = ", ".join(f"{k}={'|'.join(v)}" for k, v in result.identifiers.get(pid, {}).items())
        lines.append(f"  {pid}  {ids}")
        lines.extend(_tree(result.entities.get(pid, ()), "      "))
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


def _cmd_demo(args: argparse.Namespace) -> int:
    from linked_audiences.demo import run_demo

    return run_demo(
        Path(args.warehouse), profiles=args.profiles, seed=args.seed, rebuild=args.rebuild
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="linked-audiences",
        description="Compile and run Segment-style Linked Audiences in your own warehouse.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    schema = commands.add_parser("schema", help="print the JSON Schema of graphs and audiences")
    schema.set_defaults(handler=_cmd_schema)

    validate = commands.add_parser("validate", help="check audiences against a data graph")
    validate.add_argument("graph", metavar="GRAPH")
    validate.add_argument("audiences", metavar="AUDIENCE", nargs="+")
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
    preview_.add_argument(
        "--warehouse",
        required=True,
        metavar="URL",
        help="e.g. duckdb:///demo.duckdb or postgresql://…",
    )
    preview_.add_argument("--sample", type=_positive_int, default=10, metavar="N")
    preview_.add_argument("--json", action="store_true", help="print JSON")
    preview_.set_defaults(handler=_cmd_preview)

    demo = commands.add_parser(
        "demo", help="build the demo DuckDB warehouse and show the example audiences"
    )
    demo.add_argument(
        "--warehouse",
        default="linked_audiences_demo.duckdb",
        metavar="PATH",
        help="DuckDB file to build (default: %(default)s)",
    )
    demo.add_argument("--profiles", type=_positive_int, default=10_000, metavar="N")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument(
        "--rebuild", action="store_true", help="rebuild the warehouse even when the file exists"
    )
    demo.set_defaults(handler=_cmd_demo)
    return parser


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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; map a user's mistakes to one-line messages and exit status 2."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except DefinitionError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
    except (UnsupportedFeature, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `linked-audiences compile … | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return EXIT_USAGE


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}"
    return " ".join(str(exc).split())
