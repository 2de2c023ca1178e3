"""The published JSON Schemas are generated from the models and kept in docs/."""

from __future__ import annotations

import json

import pytest

from linked_audiences.schema import definition_schemas

from .conftest import ROOT
from .snapshots import assert_matches_snapshot


@pytest.mark.parametrize("name", ["data_graph", "audience"])
def test_schema_snapshot(name: str, update_snapshots: bool) -> None:
    text = json.dumps(definition_schemas()[name], indent=2, ensure_ascii=False) + "\n"
    assert_matches_snapshot(ROOT / "docs" / f"{name}.schema.json", text, update=update_snapshots)


def test_audience_schema_lists_every_node_kind() -> None:
    schema = definition_schemas()["audience"]
    kinds = {
        d["properties"]["type"]["const"]
        for d in schema["$defs"].values()
        if "type" in d.get("properties", {}) and "const" in d["properties"]["type"]
    }
    assert kinds == {"group", "trait", "audience", "event", "entity", "property", "column", "users"}
