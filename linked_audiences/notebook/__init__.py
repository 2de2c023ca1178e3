"""Notebook views: self-contained HTML (inline styles, inline SVG, no scripts) for previews,
breakdowns, overlaps, explanations and run histories.

Each function takes the plain dict a result's ``to_dict()`` returns (or the run log's dicts),
so results render the same in Jupyter, in a saved file, or anywhere HTML is shown.
"""

from linked_audiences.notebook.history import run_history_html
from linked_audiences.notebook.views import (
    breakdown_html,
    explanation_html,
    overlap_html,
    preview_html,
)

__all__ = [
    "breakdown_html",
    "explanation_html",
    "overlap_html",
    "preview_html",
    "run_history_html",
]
