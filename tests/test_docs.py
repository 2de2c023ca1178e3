"""The documentation tells the truth: its examples validate, it covers every operator and node
type, its links resolve, and it never sends users to files they do not have.

A JSON example in docs/definitions.md is a fenced ```json block; one fenced ```json invalid
is a counter-example that must be refused.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import linked_audiences as la
from linked_audiences import conditions

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "docs" / "definitions.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^ *```json( invalid)?\n(.*?)^ *```", re.S | re.M)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _json_examples() -> list[tuple[str, bool, Any]]:
    """(label, meant to be valid, parsed JSON) for each example that is a definition."""
    text = DEFINITIONS.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        body = match.group(2)
        if '"condition"' not in body and '"type"' not in body:
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append((f"definitions.md:{line}", match.group(1) is None, json.loads(body)))
    return found


EXAMPLES = _json_examples()


def _as_audience(data: dict[str, Any]) -> dict[str, Any]:
    """A bare condition becomes the condition of a throw-away audience (an account audience
    when the condition is a ``users`` node)."""
    if "condition" in data:
        return data
    level = "account" if data.get("type") == "users" else "profile"
    return {"key": "docs_example", "name": "Docs example", "level": level, "condition": data}


def test_definitions_has_valid_and_invalid_examples() -> None:
    assert sum(valid for _, valid, _ in EXAMPLES) >= 20
    assert any(not valid for _, valid, _ in EXAMPLES)


@pytest.mark.parametrize(
    ("label", "valid", "data"), EXAMPLES, ids=[label for label, _, _ in EXAMPLES]
)
def test_json_example_validates_against_the_demo_graph(
    label: str,
    valid: bool,
    data: dict[str, Any],
    demo_graph: la.DataGraph,
    example_audiences: list[la.Audience],
) -> None:
    if valid:
        audience = la.Audience.model_validate(_as_audience(data))
        la.validate_audience(audience, demo_graph, example_audiences)
    else:
        with pytest.raises((la.DefinitionError, ValidationError)):
            audience = la.Audience.model_validate(_as_audience(data))
            la.validate_audience(audience, demo_graph, example_audiences)


def _node_types() -> list[str]:
    union = typing.get_args(typing.get_args(conditions.Condition)[0])
    return [cls.model_fields["type"].default for cls in union]


def test_every_operator_and_node_type_is_documented() -> None:
    text = DEFINITIONS.read_text(encoding="utf-8")
    operators = typing.get_args(conditions.Operator)
    node_types = _node_types()
    assert len(operators) == 20 and len(node_types) == 8
    missing = [name for name in (*operators, *node_types) if f"`{name}`" not in text]
    assert not missing, f"docs/definitions.md does not describe {missing}"
    for node_type in node_types:
        assert f"### `{node_type}`" in text, f"no section for the {node_type!r} node"


def _anchors(markdown: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in _LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path_part, _, fragment = target.partition("#")
        file = (doc.parent / path_part).resolve() if path_part else doc
        if not file.exists() or (
            file.suffix == ".md" and fragment and fragment not in _anchors(file)
        ):
            broken.append(target)
    assert not broken, f"{doc.name}: broken links {broken}"


#: Files users do not have: the repository explains itself.
_PRIVATE = re.compile(r"\bSPEC\b|\bDESIGN\b|\.\./shared|/work/shared")

_PUBLIC = [
    *DOCS,
    *sorted((ROOT / "docs").glob("*.json")),  # schemas, generated from docstrings
    *sorted((ROOT / "linked_audiences").rglob("*.py")),  # docstrings are documentation too
    *sorted((ROOT / "dialects").glob("*.py")),
    *sorted((ROOT / "examples").glob("*.py")),
    ROOT / "pyproject.toml",
]


@pytest.mark.parametrize("doc", _PUBLIC, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_do_not_point_at_private_files(doc: Path) -> None:
    hits = [
        f"{doc.name}:{n}: {line.strip()}"
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1)
        if _PRIVATE.search(line)
    ]
    assert not hits, "\n".join(hits)
