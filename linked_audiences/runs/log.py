"""The run log: the last runs of an audience, committed and failed, newest first."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from linked_audiences.runs.ledger import Ledger
from linked_audiences.runs.state import DEFAULT_SCHEMA, FAILURES, RUNS, State
from linked_audiences.sql import col, select, string
from linked_audiences.warehouse import Warehouse

_RUN_COLUMNS = [name for name, _ in RUNS.columns]


def run_log(
    warehouse: Warehouse, audience_key: str, *, state_schema: str = DEFAULT_SCHEMA, limit: int = 50
) -> list[dict[str, Any]]:
    """Dicts with every run-log field; failed runs have ``status`` 'failed' and ``error``."""
    state = State(warehouse, state_schema)
    state.ensure()
    mine = exp.EQ(this=col("r", "audience_key"), expression=string(audience_key))
    # a commit row its run withdrew (it lost the commit race) is listed as that failure
    live = exp.Not(
        this=exp.In(this=col("r", "run_id"), query=Ledger(state, audience_key).withdrawn_ids())
    )
    committed = warehouse.fetchall(
        select([col("r", c) for c in _RUN_COLUMNS], state.table(RUNS, "r"), where=[mine, live])
    )
    entries = [
        {**dict(zip(_RUN_COLUMNS, row, strict=True)), "status": "committed", "error": None}
        for row in committed
    ]
    failure_columns = [name for name, _ in FAILURES.columns]
    failed = warehouse.fetchall(
        select([col("r", c) for c in failure_columns], state.table(FAILURES, "r"), where=[mine])
    )
    for row in failed:
        entry = dict(zip(failure_columns, row, strict=True))
        entries.append({**entry, "status": "failed", "committed_at": None})
    entries.sort(key=lambda e: e["started_at"], reverse=True)
    return entries[:limit]
