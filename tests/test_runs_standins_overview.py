"""The delivery overview, alerts and send-test on the Snowflake, BigQuery, Redshift and
Databricks stand-ins (tests/test_warehouse_runs.py builds them): the same state queries,
another SQL."""

from __future__ import annotations

from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.runs import DeliveryFailed, deliver, run_log, send_test
from linked_audiences.runs.sinks import CallableSink

from .test_alerts import Hook, hook  # noqa: F401 (a fixture)
from .test_runs import AUDIENCE, T1, T2
from .test_runs_delivery_overview import FailingOn
from .test_warehouse_runs import (  # noqa: F401 (fixtures)
    ENGINES,
    NO_ARRAYS,
    _schemas,
    bigquery_standin,
    databricks_standin,
    demo,
    redshift_standin,
    snowflake_standin,
    standin,
)

KEY = AUDIENCE.key


@pytest.mark.parametrize("engine", ENGINES)
def test_overview_alerts_and_send_test(
    request: pytest.FixtureRequest,
    engine: str,
    hook: Hook,  # noqa: F811
) -> None:
    graph, _ = load_examples()
    schema = f"state_{next(_schemas)}"
    with standin(request, engine).connect() as w:
        with pytest.raises(DeliveryFailed):
            la.run(AUDIENCE, graph, w, as_of=T1, sink=FailingOn(1), state_schema=schema,
                   activations=NO_ARRAYS)  # fmt: skip
        (entry,) = run_log(w, KEY, state_schema=schema)
        created = entry["events"]
        d = entry["delivery"]
        assert created > 0
        assert (d["created"], d["delivered"], d["pending_retry"]) == (created, 0, created)
        assert (d["failed"], d["failed_attempts"]) == (created, 1)
        received: list[dict[str, Any]] = []
        assert deliver(w, KEY, CallableSink(received.append), state_schema=schema) == created
        d = run_log(w, KEY, state_schema=schema)[0]["delivery"]
        assert (d["delivered"], d["pending_retry"], d["failed"]) == (created, 0, created)

        counts = []
        for as_of in (T2, T2):
            got: list[dict[str, Any]] = []
            result = la.run(AUDIENCE, graph, w, as_of=as_of, sink=CallableSink(got.append),
                            state_schema=schema, activations=NO_ARRAYS,
                            events_alert_percent=50, alert_webhook=hook.url)  # fmt: skip
            counts.append(len(got))
        (alert,) = result.stats.alerts
        assert (alert.kind, alert.value, alert.baseline) == ("events", 0, counts[0])
        assert [p["json"]["text"] for p in hook.posts] == [alert.message]
        assert run_log(w, KEY, state_schema=schema)[0]["events_alert"] is True

        members = {
            (u, a): p
            for p, u, a in w.fetchall(
                f"SELECT profile_id, user_id, anonymous_id FROM {schema}.la_members"
            )
        }
        test = send_test(AUDIENCE, graph, w, "no such profile", activations=NO_ARRAYS,
                         as_of=T1, force=True)  # fmt: skip
        assert [e.get("event") for e in test.events] == ["Audience Entered"]
        # a member at T1 that still is: its test event at T1 is the backfill's
        first = [e for e in received if e["timestamp"].startswith("2026-10-20")]
        for event in first:
            who = members.get((event["userId"], event["anonymousId"]))
            if who is None or event["event"] != "Audience Entered":
                continue
            test = send_test(AUDIENCE, graph, w, who, activations=NO_ARRAYS, as_of=T1)
            mine = [e for e in first if (e["userId"], e["anonymousId"]) == (
                event["userId"], event["anonymousId"])]  # fmt: skip
            assert [_strip(e) for e in test.events] == [_strip(e) for e in mine]
            break
        else:
            pytest.fail("no member of both runs")


def _strip(event: dict[str, Any]) -> dict[str, Any]:
    context = {k: v for k, v in event["context"].items() if k != "test"}
    plain = {k: v for k, v in event.items() if k != "messageId"}
    return {**plain, "context": context}
