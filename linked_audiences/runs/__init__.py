"""Runs: warehouse-native snapshots and diffs into enter/exit events, delivered exactly once
by ``messageId``."""

from linked_audiences.runs import sinks
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
from linked_audiences.runs.state import DEFAULT_SCHEMA

__all__ = [
    "DEFAULT_SCHEMA",
    "Activation",
    "DeliveryFailed",
    "EntityEnrichment",
    "RunConflict",
    "RunInProgress",
    "RunResult",
    "RunStats",
    "default_activations",
    "deliver",
    "run",
    "run_log",
    "sinks",
]
