"""``linked-audiences run-due PROJECT``: run every due audience of a project folder.

For cron, Airflow or Dagster: call it every few minutes; it decides what is due from each
audience's schedule and its last committed run, and runs audiences that name other audiences
after those (their membership is evaluated at the same ``as_of``).

A project folder holds ``linked-audiences.yaml``::

    graph: graph.yaml                 # the data graph, relative to the folder
    audiences: audiences              # folder of audience definitions
    warehouse: duckdb:///demo.duckdb  # relative to this folder; or --warehouse / $LA_WAREHOUSE_URL
    events_out: events.jsonl          # optional sink: FILE.jsonl, jsonl:PATH, segment:KEY
    state_schema: linked_audiences
    size_alert_percent: 20
    events_alert_percent: 50          # delivered events against the previous runs' mean
    alert_webhook: https://hooks.slack.com/services/…   # optional: alerts posted here
    schedules:
      premium_cardholders: {type: interval, every: 1h}
      upsell_premium: {type: day_time, days: [monday, thursday], time: "09:00",
                       timezone: Europe/Berlin}
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from graphlib import TopologicalSorter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from linked_audiences.catalog import raise_on_mismatch
from linked_audiences.conditions import Audience
from linked_audiences.dialects import scrub
from linked_audiences.dialects.duckdb import duckdb_path
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.loading import load_audience_folder, load_model
from linked_audiences.runs.alerts import Alert, check_webhook
from linked_audiences.runs.engine import DeliveryFailed, RunResult, run
from linked_audiences.runs.log import run_log
from linked_audiences.runs.schedules import Schedule, is_due, next_run_at
from linked_audiences.runs.sink_spec import sink_from_spec
from linked_audiences.runs.state import DEFAULT_SCHEMA
from linked_audiences.validation import audience_references
from linked_audiences.warehouse import connect

PROJECT_FILE = "linked-audiences.yaml"
WAREHOUSE_ENV = "LA_WAREHOUSE_URL"


class Project(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    graph: str
    audiences: str = "audiences"
    warehouse: str | None = None
    events_out: str | None = None
    state_schema: str = DEFAULT_SCHEMA
    size_alert_percent: float | None = Field(None, ge=0)
    events_alert_percent: float | None = Field(None, ge=0)
    alert_webhook: str | None = None
    schedules: dict[str, Schedule] = Field(default_factory=dict)


@dataclass(frozen=True)
class DueOutcome:
    key: str
    status: str  # "ran", "not due", "failed"
    detail: str
    result: RunResult | None = None
    #: alerts of the audience's run (also of a committed run whose delivery failed)
    alerts: tuple[Alert, ...] = ()
    alert_webhook_error: str | None = None


def load_project(folder: Path) -> Project:
    return load_model(Project, folder / PROJECT_FILE)


def run_order(audiences: list[Audience]) -> list[str]:
    """Keys so that every audience comes after the audiences it names."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for audience in sorted(audiences, key=lambda a: a.key):
        sorter.add(audience.key, *sorted({k for _, k in audience_references(audience.condition)}))
    return list(sorter.static_order())


def run_due(
    folder: Path, *, warehouse_url: str | None = None, now: datetime | None = None
) -> list[DueOutcome]:
    """Run what is due at ``now`` (default: the current time), in dependency order."""
    project = load_project(folder)
    graph = DataGraph.load(folder / project.graph)
    audiences = load_audience_folder(folder / project.audiences)
    by_key = {a.key: a for a in audiences}
    unknown = [k for k in project.schedules if k not in by_key]
    if unknown:
        raise DefinitionError(
            [
                Problem(
                    f"$.schedules.{k}", f"no audience {k!r} in {project.audiences}/", PROJECT_FILE
                )
                for k in unknown
            ]
        )
    url = warehouse_url or project_warehouse(project, folder) or os.environ.get(WAREHOUSE_ENV)
    if not url:
        raise DefinitionError(
            [
                Problem(
                    "$.warehouse",
                    "no warehouse: set it in the project, "
                    f"pass --warehouse or set ${WAREHOUSE_ENV}",
                    PROJECT_FILE,
                )
            ]
        )
    if project.events_out:
        _sink_spec(project.events_out, folder)  # an unknown sink is the project's mistake
    check_webhook(project.alert_webhook, PROJECT_FILE)
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    outcomes: list[DueOutcome] = []
    # cron runs elsewhere: a missing DuckDB file is an error, never a new empty database
    with connect(url, create=False) as warehouse:
        raise_on_mismatch(graph, warehouse, source=str(folder / project.graph))
        for key in run_order(audiences):
            schedule = project.schedules.get(key)
            if schedule is None:
                continue
            history = [
                e
                for e in run_log(warehouse, key, state_schema=project.state_schema)
                if e["status"] == "committed"
            ]
            # the moment the last run evaluated (its as_of), not its wall-clock start: a
            # slow or late run must not shift the schedule (and --now stays consistent)
            last = history[0]["as_of"] if history else None
            if not is_due(schedule, last, moment):
                upcoming = next_run_at(schedule, last or moment)
                when = upcoming.isoformat() if upcoming else "manual runs only"
                outcomes.append(DueOutcome(key, "not due", f"next: {when}"))
                continue
            sink = None
            try:
                # inside the try: a sink that cannot start (the segment extra is missing)
                # fails this audience, and the others still run
                if project.events_out:
                    sink = sink_from_spec(_sink_spec(project.events_out, folder))
                result = run(
                    by_key[key],
                    graph,
                    warehouse,
                    as_of=moment,
                    audiences=audiences,
                    sink=sink,
                    state_schema=project.state_schema,
                    size_alert_percent=project.size_alert_percent,
                    events_alert_percent=project.events_alert_percent,
                    alert_webhook=project.alert_webhook,
                )
            except Exception as exc:  # one audience's failure stops no other
                message = " ".join(str(exc).split()) or type(exc).__name__
                raised = exc.alerts if isinstance(exc, DeliveryFailed) else ()
                error = exc.webhook_error if isinstance(exc, DeliveryFailed) else None
                outcomes.append(DueOutcome(key, "failed", scrub(message, url), None, raised, error))
                continue
            finally:
                if sink is not None:
                    sink.close()
            stats = result.stats
            outcomes.append(
                DueOutcome(
                    key,
                    "ran",
                    f"{stats.members:,} members, "
                    f"+{stats.entered:,} -{stats.exited:,}, "
                    f"{stats.events:,} events",
                    result,
                    stats.alerts,
                    stats.alert_webhook_error,
                )
            )
    return outcomes


def project_warehouse(project: Project, folder: Path) -> str | None:
    """The project's warehouse URL, a relative DuckDB path made relative to the project
    folder (cron and schedulers start in some other folder)."""
    url = project.warehouse
    if not url or not url.startswith("duckdb://"):
        return url
    try:
        database = duckdb_path(url)
    except ValueError:
        return url  # connect reports the shape
    if database is None or Path(database).is_absolute():
        return url
    return f"duckdb:///{(folder / database).absolute()}"


def _sink_spec(spec: str, folder: Path) -> str:
    """``events_out`` with a relative JSON Lines path made relative to the project folder;
    ValueError (as a DefinitionError) when it names no sink."""
    text = spec.strip()
    for prefix in ("jsonl:", ""):
        path = text[len(prefix) :]
        if text.startswith(prefix) and (prefix or text.lower().endswith(".jsonl")):
            if path and not Path(path).is_absolute():
                return f"{prefix}{folder / path}"
            return text
    if text.startswith("segment:") and text != "segment:":
        return text
    raise DefinitionError(
        [
            Problem(
                "$.events_out",
                f"unknown sink {spec!r}: expected FILE.jsonl, jsonl:PATH or segment:WRITE_KEY",
                PROJECT_FILE,
            )
        ]
    )
