"""Alerts of a committed run: its membership moved (size), or the events it delivered
departed from what the previous runs delivered (event health).

Both are appended to ``la_alerts`` once the run's delivery ended (the ``la_runs`` row is
written before delivery and never updated), returned with the run, and posted to an
optional webhook as Slack-compatible JSON. The webhook is a notification, not part of the
run: when it fails the committed run stands, and the failure is a warning.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from sqlglot import exp

from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.runs.ledger import Ledger
from linked_audiences.runs.state import ALERTS
from linked_audiences.sql import col, select, string

log = logging.getLogger(__name__)

#: The events alert compares a run with the mean of this many earlier committed runs (the
#: latest ones that delivered events, the first run's backfill excepted).
EVENTS_BASELINE_RUNS = 5
WEBHOOK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Alert:
    kind: str  # "size" or "events"
    audience_key: str
    run_id: str
    message: str
    value: float
    baseline: float
    change_percent: float
    threshold_percent: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _change(value: float, baseline: float) -> float:
    """Percent change; callers pass a baseline above 0."""
    return (value - baseline) * 100 / baseline


def size_alert(
    key: str, run_id: str, members: int, previous: int, threshold: float, unit: str = "members"
) -> Alert | None:
    """Membership moved more than ``threshold`` percent since the previous run (the rule the
    run log's ``size_alert`` flag always had: an empty previous run counts as one member)."""
    if abs(members - previous) * 100 <= threshold * max(previous, 1):
        return None
    change = _change(members, max(previous, 1))
    return Alert(
        "size",
        key,
        run_id,
        f"size alert: audience {key} run {run_id} has {members:,} {unit}, {change:+.1f}% "
        f"against {previous:,} at the previous run (threshold {threshold:g}%)",
        float(members),
        float(previous),
        change,
        threshold,
    )


def events_alert(
    key: str, run_id: str, delivered: int, earlier: Sequence[int], threshold: float
) -> Alert | None:
    """The run delivered more than ``threshold`` percent more or fewer events than the mean
    of the last :data:`EVENTS_BASELINE_RUNS` earlier runs that delivered any. ``earlier``:
    the delivered counts of the earlier committed runs, oldest first, without the first
    run's backfill (it sends every member once and says nothing about a normal run's
    volume). No such run yet: no alert."""
    counted = [n for n in earlier if n > 0][-EVENTS_BASELINE_RUNS:]
    if not counted:
        return None
    mean = sum(counted) / len(counted)
    change = _change(delivered, mean)
    if abs(change) <= threshold:
        return None
    return Alert(
        "events",
        key,
        run_id,
        f"events alert: audience {key} run {run_id} delivered {delivered:,} events, "
        f"{change:+.1f}% against a mean of {mean:,.1f} over the previous {len(counted)} "
        f"runs that delivered events (threshold {threshold:g}%)",
        float(delivered),
        mean,
        change,
        threshold,
    )


def record_alerts(ledger: Ledger, alerts: Sequence[Alert]) -> None:
    """Append the alerts to ``la_alerts``; best effort, the run has committed."""
    now = exp.cast(string(datetime.now(timezone.utc).isoformat()), "TIMESTAMPTZ")
    for alert in alerts:
        values = [
            string(alert.audience_key),
            string(alert.run_id),
            string(alert.kind),
            string(alert.message),
            *(
                exp.Literal.number(round(v, 6))
                for v in (alert.value, alert.baseline, alert.change_percent)
            ),
            exp.Literal.number(alert.threshold_percent),
            now.copy(),
        ]
        try:
            ledger.w.execute(ledger.state.insert(ALERTS, values))
        except Exception as exc:
            log.warning(
                "could not record the %s alert of run %s: %s", alert.kind, alert.run_id, exc
            )


def alerts_by_run(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    """The recorded alerts of the audience, per run, in the order they were raised."""
    table, mine = ledger._of(ALERTS, "a")
    names = (
        "run_id",
        "kind",
        "message",
        "value",
        "baseline",
        "change_percent",
        "threshold_percent",
    )
    rows = ledger.w.fetchall(select([col("a", c) for c in names], table, where=[mine]))
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        entry = dict(zip(names[1:], row[1:], strict=True))
        found.setdefault(str(row[0]), []).append(entry)
    for entries in found.values():
        entries.sort(key=lambda e: str(e["kind"]) != "size")  # size first, as raised
    return found


def check_webhook(url: str | None, source: str | None = None) -> None:
    """An http(s) URL with a host, or a DefinitionError before anything runs."""
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DefinitionError(
            [
                Problem(
                    "$.alert_webhook",
                    "the alert webhook must be an http:// or https:// URL",
                    source,
                )
            ]
        )


def webhook_host(url: str) -> str:
    """What a message may show of a webhook URL: its host. Slack's path is a secret."""
    return urlsplit(url).hostname or "?"


def post_alerts(url: str, alerts: Sequence[Alert]) -> str | None:
    """POST ``{"text": …, "alerts": [...]}`` (Slack reads ``text``; other receivers may read
    the structured ``alerts``). Returns None, or why it failed: a webhook that fails must not
    fail a committed run, so nothing is raised."""
    body = {
        "text": "\n".join(a.message for a in alerts),
        "alerts": [a.as_dict() for a in alerts],
    }
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        reason = f"HTTP {exc.code}"
    except Exception as exc:  # refused, timed out, bad TLS: a warning, never the run's failure
        reason = " ".join(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}".split())
    else:
        return None
    warning = f"alert webhook ({webhook_host(url)}) failed: {reason}; the run stands"
    log.warning("%s", warning)
    return warning
