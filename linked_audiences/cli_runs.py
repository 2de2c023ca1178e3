"""The commands that run audiences: ``run``, ``runs``, ``deliver`` and ``run-due``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from linked_audiences.cli_common import (
    EXIT_OK,
    EXIT_RUN_FAILED,
    _broken_pipe,
    _load,
    _percent,
    _silence_stdout,
)
from linked_audiences.conditions import Audience
from linked_audiences.runs.alerts import Alert
from linked_audiences.runs.engine import DeliveryFailed


def add_alert_args(run_: argparse.ArgumentParser) -> None:
    """``--events-alert`` and ``--alert-webhook`` of ``run`` (beside ``--size-alert``)."""
    run_.add_argument(
        "--events-alert",
        type=_percent,
        metavar="PCT",
        help="alert when the run delivered more than PCT percent more or fewer events than "
        "the mean of the previous 5 runs that delivered events",
    )
    run_.add_argument(
        "--alert-webhook",
        type=_webhook,
        metavar="URL",
        help="post alerts here as Slack-compatible JSON; a failing webhook is a warning",
    )


def _webhook(text: str) -> str:
    from linked_audiences.errors import DefinitionError
    from linked_audiences.runs.alerts import check_webhook

    try:
        check_webhook(text)
    except DefinitionError:
        raise argparse.ArgumentTypeError("expected an http:// or https:// URL") from None
    return text


def _print_alerts(alerts: tuple[Alert, ...], webhook_error: str | None) -> None:
    for alert in alerts:
        print(alert.message, file=sys.stderr)
    if webhook_error:
        print(f"warning: {webhook_error}", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from linked_audiences.catalog import CatalogMismatch
    from linked_audiences.runs import run
    from linked_audiences.runs.stream_sink import StreamSink, pending_events
    from linked_audiences.warehouse import connect

    graph, audience, audiences = _load(args)
    # Without --events-out the events go to stdout through a sink, so an event counts as
    # delivered only once it was written and flushed (a closed pipe leaves the rest pending).
    sink = _jsonl_sink(args.events_out) or StreamSink(sys.stdout.buffer)
    with connect(args.warehouse, create=False) as warehouse:
        try:
            result = run(
                audience,
                graph,
                warehouse,
                as_of=args.as_of,
                audiences=audiences,
                send_backfill=not args.no_backfill,
                sink=sink,
                state_schema=args.state_schema,
                size_alert_percent=args.size_alert,
                allow_backdated=args.allow_backdated,
                events_alert_percent=getattr(args, "events_alert", None),
                alert_webhook=getattr(args, "alert_webhook", None),
            )
        except CatalogMismatch as exc:  # the graph file is what does not match
            raise exc.with_source(args.graph) from None
        except DeliveryFailed as exc:
            _print_alerts(exc.alerts, exc.webhook_error)
            if not isinstance(sink, StreamSink) or not _broken_pipe(exc):
                raise
            _silence_stdout()
            pending = pending_events(warehouse, audience.key, state_schema=args.state_schema)
            print(
                f"error: stdout closed after {sink.written:,} events; {pending:,} events stay "
                f"pending: send them with `linked-audiences deliver {audience.key} "
                "--warehouse URL --events-out FILE.jsonl`",
                file=sys.stderr,
            )
            return EXIT_RUN_FAILED
        finally:
            sink.close()
    stats = result.stats
    _print_alerts(stats.alerts, stats.alert_webhook_error)
    alert = "".join(f"  {a.kind.upper()} ALERT" for a in stats.alerts)
    members = "accounts" if audience.level == "account" else "members"
    print(
        f"run {result.run_id}: {stats.members:,} {members} (+{stats.entered:,} "
        f"-{stats.exited:,}), entities +{stats.entities_added:,} -{stats.entities_removed:,}, "
        f"{stats.events:,} events ({stats.skipped_events:,} skipped over 32 KB), "
        f"{stats.delivered:,} delivered{alert}",
        file=sys.stderr,
    )
    if stats.skipped_events:
        print(
            f"error: {stats.skipped_events:,} events were not sent: each is over 32 KB "
            "(see `linked-audiences runs`)",
            file=sys.stderr,
        )
        return EXIT_RUN_FAILED
    return EXIT_OK


def _jsonl_sink(path: str | None) -> Any:
    if path is None:
        return None
    from linked_audiences.runs.sinks import JsonLinesSink

    return JsonLinesSink(path)


def _audience_key(text: str) -> str:
    """AUDIENCE as a definition file (its key) or the key itself."""
    path = Path(text)
    if path.suffix.lower() in (".json", ".yaml", ".yml"):
        return Audience.load(path).key
    return text


def _cmd_runs(args: argparse.Namespace) -> int:
    from linked_audiences.runs import run_log
    from linked_audiences.warehouse import connect

    with connect(args.warehouse, create=False) as warehouse:
        entries = run_log(warehouse, _audience_key(args.audience), state_schema=args.state_schema)
    if args.json:
        print(json.dumps(entries, indent=2, default=str))
        return EXIT_OK
    # events: created; filtered: over 32 KB or not activated; pending: to retry; failed:
    # events a sink rejected at least once (also in delivered once a retry got them through)
    print(
        f"{'run':<32} {'status':<9} {'as of':<25} {'members':>9} {'+in':>7} {'-out':>7} "
        f"{'events':>8} {'filtered':>8} {'pending':>8} {'failed':>7} {'delivered':>9} "
        f"{'seconds':>8}  alert/error"
    )
    for e in entries:
        seconds = sum(
            e.get(k) or 0.0
            for k in ("compile_seconds", "query_seconds", "diff_seconds", "events_seconds")
        )
        kinds = [str(a["kind"]) for a in e.get("alerts") or []]
        if e.get("size_alert") and "size" not in kinds:  # logged before alerts were recorded
            kinds.insert(0, "size")
        note = " ".join(f"{k.upper()} ALERT" for k in kinds) or (e.get("error") or "")
        d = e.get("delivery") or {}
        print(
            f"{e['run_id']:<32} {e['status']:<9} {str(e['as_of'])[:25]:<25} "
            f"{_n(e.get('members')):>9} {_n(e.get('entered')):>7} {_n(e.get('exited')):>7} "
            f"{_n(e.get('events')):>8} {_n(d.get('filtered')):>8} "
            f"{_n(d.get('pending_retry')):>8} {_n(d.get('failed')):>7} "
            f"{_n(d.get('delivered')):>9} {seconds:>8.2f}  {note}"
        )
    return EXIT_OK


def _n(value: Any) -> str:
    return "" if value is None else f"{value:,}"


def _cmd_deliver(args: argparse.Namespace) -> int:
    from linked_audiences.runs import deliver
    from linked_audiences.warehouse import connect

    with connect(args.warehouse, create=False) as warehouse:
        sent = deliver(
            warehouse,
            _audience_key(args.audience),
            _jsonl_sink(args.events_out),
            state_schema=args.state_schema,
        )
    print(f"delivered {sent:,} pending events", file=sys.stderr)
    return EXIT_OK


def _cmd_run_due(args: argparse.Namespace) -> int:
    from linked_audiences.runs.project import run_due

    outcomes = run_due(Path(args.project), warehouse_url=args.warehouse, now=args.now)
    for outcome in outcomes:
        print(f"{outcome.status:<8} {outcome.key}: {outcome.detail}")
        _print_alerts(outcome.alerts, outcome.alert_webhook_error)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        print(f"error: {len(failed)} of {len(outcomes)} audiences failed", file=sys.stderr)
    return EXIT_RUN_FAILED if failed else EXIT_OK
