"""``la.run_history``: an audience's last runs, for a notebook to chart.

The run log (``la.runs.run_log``) as an object a notebook draws: audience size and events
per run as a small chart, and the runs as a table with their delivery figures and alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linked_audiences.runs import run_log
from linked_audiences.runs.state import DEFAULT_SCHEMA
from linked_audiences.warehouse import Warehouse


@dataclass(frozen=True)
class RunHistory:
    audience_key: str
    #: Run-log entries, newest first (committed and failed runs).
    entries: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"audience_key": self.audience_key, "runs": list(self.entries)}

    def _repr_html_(self) -> str:
        from linked_audiences.notebook import run_history_html

        return run_history_html(list(self.entries))


def run_history(
    warehouse: Warehouse,
    audience_key: str,
    *,
    state_schema: str = DEFAULT_SCHEMA,
    limit: int = 50,
) -> RunHistory:
    """The last ``limit`` runs of ``audience_key``, newest first."""
    entries = run_log(warehouse, audience_key, state_schema=state_schema, limit=limit)
    return RunHistory(audience_key, tuple(entries))
