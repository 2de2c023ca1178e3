"""The command line: one line per problem, exit 2, never a traceback for a user's mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import linked_audiences as la
from linked_audiences.cli import main

from .conftest import EXAMPLES

GRAPH = str(EXAMPLES / "graph.yaml")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linked_audiences", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_schema_prints_one_document_editors_accept() -> None:
    from jsonschema import Draft202012Validator

    bundle = json.loads(run_cli("schema").stdout)
    assert bundle["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(bundle["$defs"]) == {"data_graph", "audience"}
    Draft202012Validator.check_schema(bundle)
    validator = Draft202012Validator(bundle)
    graph = yaml.safe_load((EXAMPLES / "graph.yaml").read_text())
    audience = json.loads((EXAMPLES / "audiences" / "premium_cardholders.json").read_text())
    assert validator.is_valid(graph) and validator.is_valid(audience)
    assert not validator.is_valid({"key": "x"})
    only = json.loads(run_cli("schema", "--kind", "audience").stdout)
    assert only["title"] == "Audience" and Draft202012Validator(only).is_valid(audience)


def test_validate_accepts_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (EXAMPLES / "audiences").glob("*.json"))
    assert main(["validate", GRAPH, *files]) == 0
    assert capsys.readouterr().out.count("ok  ") == len(files)


def _write(tmp_path: Path, name: str, definition: dict) -> str:
    file = tmp_path / name
    file.write_text(json.dumps(definition), encoding="utf-8")
    return str(file)


def test_bad_definition_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "bad.json",
        {
            "key": "bad",
            "name": "Bad",
            "condition": {
                "type": "group",
                "operator": "and",
                "conditions": [
                    {"type": "trait", "trait": "nope", "operator": "exists"},
                    {"type": "trait", "trait": "is_vip", "operator": "equals", "value": "yes"},
                ],
            },
        },
    )
    result = run_cli("validate", GRAPH, bad)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"error: {bad}: $.condition.conditions[0].trait: unknown trait 'nope'",
        f"error: {bad}: $.condition.conditions[1].value: expected a boolean, got 'yes'",
    ]


def test_cycle_through_the_audiences_folder(tmp_path: Path) -> None:
    a = _write(
        tmp_path, "a.json", {"key": "a", "name": "A", "condition": {"type": "audience", "key": "b"}}
    )
    _write(
        tmp_path, "b.json", {"key": "b", "name": "B", "condition": {"type": "audience", "key": "a"}}
    )
    (tmp_path / "graph.yaml").write_text((EXAMPLES / "graph.yaml").read_text())
    result = run_cli("validate", str(tmp_path / "graph.yaml"), a)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "a → b → a" in result.stderr


def test_unrelated_broken_audience_in_folder_is_ignored(tmp_path: Path) -> None:
    good = _write(
        tmp_path,
        "good.json",
        {
            "key": "good",
            "name": "G",
            "condition": {"type": "trait", "trait": "country", "operator": "exists"},
        },
    )
    _write(tmp_path, "broken.json", {"key": "broken", "condition": {"type": "nope"}})
    assert run_cli("validate", GRAPH, good).returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "missing-graph.yaml", "missing.json"],
        ["validate", GRAPH, "/definitely/not/here.json"],
        ["nonsense-command"],
        ["demo", "--profiles", "zero"],
        [],
    ],
)
def test_user_mistakes_exit_2_in_one_line(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_graph_error_exits_2(tmp_path: Path) -> None:
    graph = _write(tmp_path, "graph.json", {"profile": {"traits_table": "t"}})
    audience = str(EXAMPLES / "audiences" / "repeat_buyers.json")
    result = run_cli("validate", graph, audience)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: {graph}: $.profile.identifiers_table: Field required")


def test_version_is_exposed() -> None:
    assert la.__version__
