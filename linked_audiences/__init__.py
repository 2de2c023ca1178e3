"""linked-audiences: Segment-style Linked Audiences compiled to SQL for your own warehouse.

``import linked_audiences as la``; the names below are the stable entry points.
"""

from linked_audiences import runs
from linked_audiences.compiler import CompiledAudience, compile
from linked_audiences.compute_traits import TraitValues, compute_traits
from linked_audiences.conditions import (
    Audience,
    AudienceCondition,
    ColumnCondition,
    ColumnReference,
    Condition,
    Count,
    EntityCondition,
    EventCondition,
    GroupCondition,
    PropertyCondition,
    TraitCondition,
    TraitReference,
    Window,
)
from linked_audiences.errors import DefinitionError, Problem, UnsupportedFeature
from linked_audiences.estimate import Estimate, estimate
from linked_audiences.graph import DataGraph
from linked_audiences.insights import (
    Breakdown,
    Consumers,
    Explanation,
    ExportResult,
    Impact,
    Overlap,
    RunHistory,
    Suggestions,
    breakdown,
    consumers,
    explain,
    export,
    impact,
    overlap,
    run_history,
    suggest,
)
from linked_audiences.preview import Preview, preview
from linked_audiences.runs import (
    Activation,
    EntityEnrichment,
    RunResult,
    payload_preview,
    run,
    send_test,
)
from linked_audiences.validation import validate_audience
from linked_audiences.warehouse import Warehouse, connect

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "Audience",
    "AudienceCondition",
    "Breakdown",
    "ColumnCondition",
    "ColumnReference",
    "CompiledAudience",
    "Condition",
    "Consumers",
    "Count",
    "DataGraph",
    "DefinitionError",
    "EntityCondition",
    "EntityEnrichment",
    "Estimate",
    "EventCondition",
    "Explanation",
    "ExportResult",
    "GroupCondition",
    "Impact",
    "Overlap",
    "Preview",
    "Problem",
    "PropertyCondition",
    "RunHistory",
    "RunResult",
    "Suggestions",
    "TraitCondition",
    "TraitReference",
    "TraitValues",
    "UnsupportedFeature",
    "Warehouse",
    "Window",
    "__version__",
    "breakdown",
    "compile",
    "compute_traits",
    "connect",
    "consumers",
    "estimate",
    "explain",
    "export",
    "impact",
    "overlap",
    "payload_preview",
    "preview",
    "run",
    "run_history",
    "runs",
    "send_test",
    "suggest",
    "validate_audience",
]
