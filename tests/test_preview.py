"""la.connect and la.preview on embedded DuckDB; the preview and demo commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import linked_audiences as la
from linked_audiences.examples.generator import DEMO_AS_OF, build_demo_warehouse
from linked_audiences.loading import validate_data
from linked_audiences.preview import EXPLORER_PER_LEVEL, build_trees

from .conftest import EXAMPLES

pytestmark = pytest.mark.duckdb


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("preview") / "demo.duckdb"
    build_demo_warehouse(path, profiles=400, seed=3)
    return path


def test_connect_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with la.connect("duckdb://") as memory:
        assert memory.scalar("SELECT 41 + 1") == 42
        assert memory.scalar("SELECT current_setting('TimeZone')") in ("UTC", "Etc/UTC")
    monkeypatch.chdir(tmp_path)
    with la.connect("duckdb:///rel.duckdb") as relative:
        relative.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert (tmp_path / "rel.duckdb").exists()
    with la.connect(f"duckdb:///{tmp_path / 'rel.duckdb'}") as absolute:
        assert absolute.fetchall("SELECT x FROM t") == [(1,)]
    with pytest.raises(ValueError, match="unknown warehouse URL 'oracle://x'"):
        la.connect("oracle://x")
    with pytest.raises(ValueError, match="no user in 'snowflake://account/db'"):
        la.connect("snowflake://account/db")


def test_preview_agrees_with_the_compiled_queries(
    demo_path: Path, demo_graph: la.DataGraph, example_audiences: list[la.Audience]
) -> None:
    audience = next(a for a in example_audiences if a.key == "premium_cardholders")
    with la.connect(f"duckdb:///{demo_path}") as warehouse:
        result = la.preview(
            audience, demo_graph, warehouse, as_of=DEMO_AS_OF, audiences=example_audiences, sample=5
        )
        compiled = la.compile(audience, demo_graph, as_of=DEMO_AS_OF, audiences=example_audiences)
        members = sorted(r[0] for r in warehouse.fetchall(compiled.profiles_sql))
        entities = set(warehouse.fetchall(compiled.entities_sql))
    assert result.count == len(members) > 5
    assert result.sample == members[:5]  # lowest ids first: repeatable
    for pid in result.sample:
        assert "email" in result.identifiers[pid]  # reached through an email identifier
        shown = {(pid, g.relationship, n.entity_id) for g in result.entities[pid] for n in g.shown}
        shown |= {
            (pid, c.relationship, m.entity_id)
            for g in result.entities[pid]
            for n in g.shown
            for c in n.children
            for m in c.shown
        }
        assert shown and shown <= entities
        cards = [c for g in result.entities[pid] for n in g.shown for c in n.children]
        assert all(c.relationship == "account-cards" for c in cards) and cards


def test_empty_audience_preview(demo_path: Path, demo_graph: la.DataGraph) -> None:
    nobody = validate_data(
        la.Audience,
        {
            "key": "nobody",
            "name": "n",
            "condition": {
                "type": "trait",
                "trait": "country",
                "operator": "equals",
                "value": "Atlantis",
            },
        },
    )
    with la.connect(f"duckdb:///{demo_path}") as warehouse:
        result = la.preview(nobody, demo_graph, warehouse, as_of=DEMO_AS_OF)
    assert (result.count, result.sample, result.entities) == (0, [], {})


def test_explorer_tree_shows_ten_per_level() -> None:
    rows = [("p", "accounts", f"a{i:02}", None, None) for i in range(12)]
    rows += [("p", "cards", f"c{i:02}", "accounts", "a00") for i in range(11)]
    rows += [("q", "accounts", "a00", None, None)]
    trees = build_trees(rows)
    (accounts,) = trees["p"]
    assert (accounts.relationship, accounts.total, len(accounts.shown)) == (
        "accounts",
        12,
        EXPLORER_PER_LEVEL,
    )
    (cards,) = accounts.shown[0].children
    assert (cards.total, len(cards.shown)) == (11, 10)
    assert trees["q"][0].shown[0].children == ()  # q's a00 has no cards: trees are per profile


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "linked_audiences", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_preview_command_json(demo_path: Path, tmp_path: Path) -> None:
    result = _cli(
        "preview",
        str(EXAMPLES / "graph.yaml"),
        str(EXAMPLES / "audiences" / "travel_spenders.json"),
        "--warehouse",
        f"duckdb:///{demo_path}",
        "--as-of",
        DEMO_AS_OF.isoformat(),
        "--sample",
        "2",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["audience_key"] == "travel_spenders"
    assert len(payload["sample"]) == min(2, payload["count"])


def test_preview_command_bad_as_of(tmp_path: Path) -> None:
    result = _cli(
        "preview",
        str(EXAMPLES / "graph.yaml"),
        str(EXAMPLES / "audiences" / "travel_spenders.json"),
        "--warehouse",
        "duckdb://",
        "--as-of",
        "yesterday",
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "expected an ISO-8601 timestamp, got 'yesterday'" in result.stderr


def test_compile_command_prints_sql(tmp_path: Path) -> None:
    result = _cli(
        "compile",
        str(EXAMPLES / "graph.yaml"),
        str(EXAMPLES / "audiences" / "upsell_premium.json"),
        "--dialect",
        "snowflake",
        "--as-of",
        "2026-11-01T00:00:00Z",
        "--entities",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("WITH ") == 2 and "matched entities" in result.stdout


def test_demo_command_builds_and_previews(tmp_path: Path) -> None:
    result = _cli("demo", "--profiles", "300", "--warehouse", "demo.duckdb", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Building the demo warehouse" in result.stderr
    for audience in (EXAMPLES / "audiences").glob("*.json"):
        assert audience.stem in result.stdout
    again = _cli("demo", "--profiles", "300", "--warehouse", "demo.duckdb", cwd=tmp_path)
    assert "Using the demo warehouse" in again.stderr  # reused, not rebuilt
    assert _member_counts(again.stdout) == _member_counts(result.stdout) != {}


def _member_counts(stdout: str) -> dict[str, str]:
    """audience key → member count, from the demo's table (timings vary run to run)."""
    keys = {p.stem for p in (EXAMPLES / "audiences").glob("*.json")}
    return {
        parts[0]: parts[1]
        for line in stdout.splitlines()
        if (parts := line.split()) and parts[0] in keys
    }
