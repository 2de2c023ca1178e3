"""JSON Schema of the definition formats, generated from the models (never written by hand)."""

from __future__ import annotations

from typing import Any

from linked_audiences.conditions import Audience
from linked_audiences.graph import DataGraph


def definition_schemas() -> dict[str, Any]:
    """``{"data_graph": …, "audience": …}``: what editors and UIs validate definitions with."""
    return {
        "data_graph": DataGraph.model_json_schema(),
        "audience": Audience.model_json_schema(),
    }
