"""What an analyst asks before and after activating an audience: suggested values, reach per
identifier type, overlaps, consumers, CSV exports, per-profile explanations, the impact of
an edit and members per top-level condition.

Each reads the warehouse and never writes to it (the command line opens DuckDB files
read-only); each is one compiled query, or a few, built as sqlglot expressions.
"""

from linked_audiences.insights.blocks import Block, block_counts
from linked_audiences.insights.breakdown import Breakdown, IdentifierShare, breakdown
from linked_audiences.insights.consumers import Consumer, Consumers, consumers
from linked_audiences.insights.explain import ExplainedNode, Explanation, explain
from linked_audiences.insights.export import ExportResult, export
from linked_audiences.insights.history import RunHistory, run_history
from linked_audiences.insights.impact import Impact, impact
from linked_audiences.insights.overlap import Overlap, OverlapPair, overlap
from linked_audiences.insights.suggest import Suggestions, suggest

__all__ = [
    "Block",
    "Breakdown",
    "Consumer",
    "Consumers",
    "ExplainedNode",
    "Explanation",
    "ExportResult",
    "IdentifierShare",
    "Impact",
    "Overlap",
    "OverlapPair",
    "RunHistory",
    "Suggestions",
    "block_counts",
    "breakdown",
    "consumers",
    "explain",
    "export",
    "impact",
    "overlap",
    "run_history",
    "suggest",
]
