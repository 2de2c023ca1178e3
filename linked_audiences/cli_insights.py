"""The insight commands: ``suggest``, ``breakdown``, ``overlap``, ``consumers``, ``export``,
``explain`` and ``impact``. Each opens the warehouse read-only and is one library call;
``--json`` prints what the Python call's ``to_dict()`` returns."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from linked_audiences.cli_common import (
    EXIT_OK,
    _as_of,
    _definition_args,
    _load,
    _state_arg,
    _warehouse_arg,
)
from linked_audiences.conditions import Audience
from linked_audiences.errors import DefinitionError, Problem


def add_insight_commands(commands: Any) -> None:
    """Register the insight commands on the command line's subparsers."""
    suggest = commands.add_parser(
        "suggest", help="the most frequent values of a trait, event property or entity column"
    )
    suggest.add_argument("graph", metavar="GRAPH", help="data graph (.json, .yaml)")
    _warehouse_arg(suggest, "opened read-only")
    suggest.add_argument("--trait", metavar="T", help="a trait (65 values)")
    suggest.add_argument("--event", metavar="E", help="an event (with --property; 65 values)")
    suggest.add_argument("--property", metavar="P", help="a property of --event")
    suggest.add_argument(
        "--relationship", metavar="R", help="a relationship slug (with --column; 100 values)"
    )
    suggest.add_argument("--column", metavar="C", help="a column of --relationship's entity")
    suggest.add_argument(
        "--as-of", dest="as_of", metavar="TS", type=_as_of, help="for windowed computed traits"
    )
    _json_arg(suggest)
    suggest.set_defaults(handler=_cmd_suggest)

    breakdown = commands.add_parser(
        "breakdown", help="members per identifier type: how many a destination can reach"
    )
    _definition_args(breakdown)
    _warehouse_arg(breakdown, "opened read-only")
    _json_arg(breakdown)
    breakdown.set_defaults(handler=_cmd_breakdown)

    overlap = commands.add_parser(
        "overlap", help="sizes, shared members and Jaccard index of every pair of audiences"
    )
    overlap.add_argument("graph", metavar="GRAPH", help="data graph (.json, .yaml)")
    overlap.add_argument("audience_files", metavar="AUDIENCE", nargs="+", help="definitions")
    _warehouse_arg(overlap, "opened read-only")
    overlap.add_argument(
        "--as-of",
        dest="as_of",
        metavar="TS",
        type=_as_of,
        help="evaluate at this ISO-8601 time (default: now, UTC)",
    )
    overlap.add_argument(
        "--audiences",
        dest="audiences_dir",
        metavar="DIR",
        help="folder of audiences that `audience` nodes may name (default: each AUDIENCE's folder)",
    )
    _json_arg(overlap)
    overlap.set_defaults(handler=_cmd_overlap)

    consumers = commands.add_parser(
        "consumers", help="the audiences whose definitions name this one, directly or not"
    )
    consumers.add_argument("audience", metavar="AUDIENCE", help="definition file or audience key")
    consumers.add_argument(
        "--audiences",
        dest="audiences_dir",
        metavar="DIR",
        help="folder of audience definitions (default: the folder of AUDIENCE)",
    )
    _json_arg(consumers)
    consumers.set_defaults(handler=_cmd_consumers)

    export = commands.add_parser("export", help="write every member to a CSV file")
    _definition_args(export)
    _warehouse_arg(export, "opened read-only")
    export.add_argument("--out", required=True, metavar="FILE.csv", help="the CSV file to write")
    export.add_argument(
        "--format",
        choices=["formatted", "unformatted", "hashed"],
        default="formatted",
        help="formatted: a column per identifier type and trait; unformatted: profile_id and "
        "JSON objects; hashed: SHA-256 of each email (default: %(default)s)",
    )
    export.add_argument(
        "--identifiers",
        type=_names,
        metavar="TYPE,…",
        help="identifier types (default: user_id,email)",
    )
    export.add_argument(
        "--traits", type=_names, metavar="NAME,…", help="traits (default: those the audience uses)"
    )
    _json_arg(export)
    export.set_defaults(handler=_cmd_export)

    explain = commands.add_parser(
        "explain", help="why one profile is or is not a member, node by node"
    )
    _definition_args(explain)
    _warehouse_arg(explain, "opened read-only")
    explain.add_argument("--profile", required=True, metavar="ID", help="the profile key")
    _json_arg(explain)
    explain.set_defaults(handler=_cmd_explain)

    impact = commands.add_parser(
        "impact",
        help="who would enter and exit if this (edited) definition ran now; stores nothing",
    )
    _definition_args(impact)
    _warehouse_arg(impact, "opened read-only")
    _state_arg(impact)
    _json_arg(impact)
    impact.set_defaults(handler=_cmd_impact)


def _json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected names separated by commas, got {text!r}")
    return names


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _read_only(url: str) -> Any:
    from linked_audiences.warehouse import connect

    return connect(url, read_only=True, create=False)


def _cmd_suggest(args: argparse.Namespace) -> int:
    from linked_audiences.graph import DataGraph
    from linked_audiences.insights import suggest

    graph = DataGraph.load(args.graph)
    with _read_only(args.warehouse) as warehouse:
        result = suggest(
            graph,
            warehouse,
            trait=args.trait,
            event=args.event,
            property=args.property,
            relationship=args.relationship,
            column=args.column,
            as_of=args.as_of,
        )
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    what = {"trait": "profiles", "event property": "events", "entity column": "rows"}[result.kind]
    print(f"{result.kind} {result.source}: {len(result.values)} values (at most {result.limit})")
    for item in result.to_dict()["values"]:
        print(f"  {item['count']:>10,} {what:<8} {json.dumps(item['value'], ensure_ascii=False)}")
    return EXIT_OK


def _cmd_breakdown(args: argparse.Namespace) -> int:
    from linked_audiences.insights import breakdown

    graph, audience, audiences = _load(args)
    with _read_only(args.warehouse) as warehouse:
        result = breakdown(audience, graph, warehouse, as_of=args.as_of, audiences=audiences)
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    print(f"{result.audience_key}: {result.members:,} members as of {result.as_of.isoformat()}")
    for share in result.identifiers:
        print(f"  {share.type:<24} {share.count:>10,}  {share.share:>7.1%}")
    return EXIT_OK


def _cmd_overlap(args: argparse.Namespace) -> int:
    from linked_audiences.graph import DataGraph
    from linked_audiences.insights import overlap
    from linked_audiences.loading import load_audience_folder

    graph = DataGraph.load(args.graph)
    chosen: list[Audience] = []
    known: dict[str, Audience] = {}
    for path in args.audience_files:
        audience = Audience.load(path)
        chosen.append(audience)
        folder = args.audiences_dir or Path(path).parent
        for dependency in load_audience_folder(folder, audience):
            known.setdefault(dependency.key, dependency)
    with _read_only(args.warehouse) as warehouse:
        result = overlap(chosen, graph, warehouse, as_of=args.as_of, audiences=list(known.values()))
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    print(f"as of {result.as_of.isoformat()}")
    for key, name, size in result.audiences:
        print(f"  {key:<32} {size:>10,}  {name}")
    for pair in result.pairs:
        print(f"  {pair.a} & {pair.b}: {pair.shared:,} shared, Jaccard {pair.jaccard:.3f}")
    return EXIT_OK


def _cmd_consumers(args: argparse.Namespace) -> int:
    from linked_audiences.insights import consumers
    from linked_audiences.loading import load_audience_folder

    path = Path(args.audience)
    is_file = path.suffix.lower() in (".json", ".yaml", ".yml")
    key = Audience.load(path).key if is_file else args.audience
    folder = args.audiences_dir or (path.parent if is_file else None)
    if folder is None:
        raise DefinitionError(
            [Problem("--audiences", "give the folder of definitions with --audiences DIR")]
        )
    audiences = load_audience_folder(folder)
    if not is_file and key not in {a.key for a in audiences}:
        raise DefinitionError(
            [Problem("AUDIENCE", f"no audience with key {key!r} in {str(folder)!r}")]
        )
    result = consumers(key, audiences)
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    if not result.consumers:
        print(f"{key}: no audience names it")
    for consumer in result.consumers:
        how = "direct" if consumer.direct else "through " + " → ".join(consumer.chain[1:-1])
        print(f"{consumer.key:<32} {how}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from linked_audiences.insights import export

    graph, audience, audiences = _load(args)
    progress = _Progress() if sys.stderr.isatty() and not args.json else None
    with _read_only(args.warehouse) as warehouse:
        result = export(
            audience,
            graph,
            warehouse,
            args.out,
            format=args.format,
            identifiers=args.identifiers,
            traits=args.traits,
            as_of=args.as_of,
            audiences=audiences,
            progress=progress,
        )
    if progress is not None:
        progress.done()
    if args.json:
        _print_json(result.to_dict())
    else:
        print(f"wrote {result.rows:,} rows ({result.format}) to {result.path}", file=sys.stderr)
    return EXIT_OK


class _Progress:
    """One line on a terminal's stderr, rewritten as batches arrive."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, rows: int) -> None:
        seconds = max(time.monotonic() - self.started, 1e-9)
        sys.stderr.write(f"\rexporting… {rows:,} rows ({rows / seconds:,.0f}/s)")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\n")


def _cmd_explain(args: argparse.Namespace) -> int:
    from linked_audiences.insights import explain

    graph, audience, audiences = _load(args)
    with _read_only(args.warehouse) as warehouse:
        result = explain(
            audience, graph, warehouse, args.profile, as_of=args.as_of, audiences=audiences
        )
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    verdict = "is a member" if result.member else "is not a member"
    print(
        f"{result.profile_id} {verdict} of {result.audience_key} as of {result.as_of.isoformat()}"
    )
    _explained(result.tree.to_dict(), "  ")
    return EXIT_OK


def _explained(node: dict[str, Any], indent: str) -> None:
    mark = {True: "✓", False: "✗", None: "?"}[node["holds"]]
    value = ""
    if node["value_label"] is not None:
        shown = json.dumps(node["value"], ensure_ascii=False, default=str)
        value = f"  [{node['value_label']}: {shown}]"
    print(f"{indent}{mark} {node['label']}{value}")
    for row in node["rows"]:
        print(f"{indent}    · {row['source']} {row['id']}")
    total = node["rows_total"]
    if total is not None and total > len(node["rows"]):
        print(f"{indent}    · … {total - len(node['rows']):,} more")
    for child in node["children"]:
        _explained(child, indent + "  ")


def _cmd_impact(args: argparse.Namespace) -> int:
    from linked_audiences.insights import impact

    graph, audience, audiences = _load(args)
    with _read_only(args.warehouse) as warehouse:
        result = impact(
            audience,
            graph,
            warehouse,
            as_of=args.as_of,
            audiences=audiences,
            state_schema=args.state_schema,
        )
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    against = (
        f"against run {result.baseline_run_id} ({result.baseline_as_of.isoformat()})"
        if result.baseline_run_id and result.baseline_as_of
        else "with no committed run to compare with (all would enter)"
    )
    print(
        f"{result.audience_key}: {result.members:,} members now, +{result.entered:,} would "
        f"enter, -{result.exited:,} would exit, {against}; nothing was stored"
    )
    for label, ids, total in (
        ("enter", result.entering, result.entered),
        ("exit", result.exiting, result.exited),
    ):
        if ids:
            shown = ids[:10]  # the JSON lists more
            more = f" (first {len(shown)} of {total:,})" if total > len(shown) else ""
            print(f"  would {label}{more}: {', '.join(shown)}")
    return EXIT_OK
