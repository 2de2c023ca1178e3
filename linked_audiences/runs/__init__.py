"""Runs: warehouse-native snapshots and diffs into enter/exit events, delivered exactly once
by ``messageId``."""

from linked_audiences.runs import sinks
from linked_audiences.runs.alerts import Alert
from linked_audiences.runs.engine import (
    DeliveryFailed,
    RunConflict,
    RunInProgress,
    RunResult,
    RunStats,
    deliver,
    run,
)
from linked_audiences.runs.events import Activation, EntityEnrichment, default_activations
from linked_audiences.runs.log import run_log
from linked_audiences.runs.overview import Delivery
from linked_audiences.runs.payloads import payload_preview
from linked_audiences.runs.state import DEFAULT_SCHEMA
from linked_audiences.runs.testing import NotAMember, SendTestResult, send_test

__all__ = [
    "DEFAULT_SCHEMA",
    "Activation",
    "Alert",
    "Delivery",
    "DeliveryFailed",
    "EntityEnrichment",
    "NotAMember",
    "RunConflict",
    "RunInProgress",
    "RunResult",
    "RunStats",
    "SendTestResult",
    "default_activations",
    "deliver",
    "payload_preview",
    "run",
    "run_log",
    "send_test",
    "sinks",
]
