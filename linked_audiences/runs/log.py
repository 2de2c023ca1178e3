"""The run log: the last runs of an audience, committed and failed, newest first, each with
its delivery overview (``delivery``) and the alerts it raised (``alerts``)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from linked_audiences.runs.alerts import alerts_by_run
from linked_audiences.runs.ledger import Ledger
from linked_audiences.runs.overview import delivery_overview
from linked_audiences.runs.state import DEFAULT_SCHEMA, FAILURES, RUNS, State
from linked_audiences.sql import col, select, string
from linked_audiences.warehouse import Warehouse

_RUN_COLUMNS = [name for name, _ in RUNS.columns]


def run_log(
    warehouse: Warehouse, audience_key: str, *, state_schema: str = DEFAULT_SCHEMA, limit: int = 50
) -> list[dict[str, Any]]:
    """Dicts with every run-log field; failed runs have ``status`` 'failed' and ``error``.

    ``delivery`` is the committed run's delivery overview (created, filtered, pending
    retry, failed, delivered: linked_audiences/runs/overview.py), None for a failed run;
    ``alerts`` the alerts it raised (dicts: kind, message, value, baseline, change and
    threshold percent) and ``events_alert`` whether one of them is the events alert."""
    state = State(warehouse, state_schema)
    state.ensure()
    ledger = Ledger(state, audience_key)
    mine = exp.EQ(this=col("r", "audience_key"), expression=string(audience_key))
    # a commit row its run withdrew (it lost the commit race) is listed as that failure
    live = exp.Not(this=exp.In(this=col("r", "run_id"), query=ledger.withdrawn_ids()))
    committed = warehouse.fetchall(
        select([col("r", c) for c in _RUN_COLUMNS], state.table(RUNS, "r"), where=[mine, live])
    )
    overview = delivery_overview(ledger)
    alerts = alerts_by_run(ledger)
    entries = []
    for row in committed:
        entry = {**dict(zip(_RUN_COLUMNS, row, strict=True)), "status": "committed", "error": None}
        delivery = overview.get(str(entry["run_id"]))
        raised = alerts.get(str(entry["run_id"]), [])
        entry["unselected_changes"] = entry.get("unselected_changes") or 0
        entry["delivery"] = delivery.as_dict() if delivery else None
        entry["alerts"] = raised
        entry["events_alert"] = any(a["kind"] == "events" for a in raised)
        entries.append(entry)
    failure_columns = [name for name, _ in FAILURES.columns]
    failed = warehouse.fetchall(
        select([col("r", c) for c in failure_columns], state.table(FAILURES, "r"), where=[mine])
    )
    for row in failed:
        entry = dict(zip(failure_columns, row, strict=True))
        entries.append(
            {
                **entry,
                "status": "failed",
                "committed_at": None,
                "delivery": None,
                "alerts": [],
                "events_alert": False,
            }
        )
    entries.sort(key=lambda e: e["started_at"], reverse=True)
    return entries[:limit]
