"""JSON Schema of the definition formats, generated from the models (never written by hand).

Each schema is a complete 2020-12 document (``$schema`` first, shared parts under ``$defs``)
so that editors (VS Code's ``json.schemas``, yaml-language-server) accept it as it is.
"""

from __future__ import annotations

from typing import Any

from linked_audiences.conditions import Audience
from linked_audiences.graph import DataGraph

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def definition_schemas() -> dict[str, Any]:
    """``{"data_graph": …, "audience": …}``: what editors and UIs validate definitions with."""
    return {
        "data_graph": _document(DataGraph.model_json_schema(), "data-graph"),
        "audience": _document(Audience.model_json_schema(), "audience"),
    }


def bundled_schema() -> dict[str, Any]:
    """One 2020-12 document holding both schemas under ``$defs``: a file matches when it is
    a data graph or an audience. What ``linked-audiences schema`` prints."""
    parts = definition_schemas()
    return {
        "$schema": DIALECT,
        "$id": "urn:linked-audiences:definitions",
        "title": "linked-audiences definition (data graph or audience)",
        "anyOf": [
            {"$ref": "urn:linked-audiences:data-graph"},
            {"$ref": "urn:linked-audiences:audience"},
        ],
        "$defs": parts,
    }


def _document(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """``schema`` with the dialect and an id, so its ``#/$defs/…`` references resolve inside it
    even when several schemas are bundled into one file."""
    return {"$schema": DIALECT, "$id": f"urn:linked-audiences:{name}", **schema}
