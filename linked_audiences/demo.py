"""``linked-audiences demo``: build the demo warehouse and show the example audiences.

The demo is what a new user runs first, so it needs no server: an embedded DuckDB file in the
working folder, rebuilt only when missing, asked for, or built for another size or seed.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TextIO

from linked_audiences.conditions import (
    Audience,
    AudienceCondition,
    Condition,
    EntityCondition,
    EventCondition,
    TraitCondition,
    walk,
)
from linked_audiences.graph import DataGraph
from linked_audiences.loading import load_audience_folder
from linked_audiences.validation import validate_audience

_META_TABLE = "linked_audiences_demo_meta"


def example_files() -> Path:
    """Folder of the shipped demo graph and audiences (works installed and editable)."""
    return Path(str(resources.files("linked_audiences.examples")))


def load_examples() -> tuple[DataGraph, list[Audience]]:
    folder = example_files()
    graph = DataGraph.load(folder / "graph.yaml")
    audiences = sorted(load_audience_folder(folder / "audiences"), key=lambda a: a.key)
    return graph, audiences


def ensure_demo_warehouse(
    path: Path, *, profiles: int, seed: int, rebuild: bool = False, log: TextIO = sys.stderr
) -> bool:
    """Build the warehouse unless ``path`` already holds one of this size and seed.

    Returns True when it built. Progress goes to ``log`` so a 1M-profile build is not silent.
    """
    import duckdb

    from linked_audiences.examples.generator import build_demo_warehouse

    if not rebuild and _built_with(path) == (profiles, seed):
        print(f"Using the demo warehouse at {path} ({profiles:,} profiles, seed {seed}).", file=log)
        return False
    print(f"Building the demo warehouse at {path} ({profiles:,} profiles, seed {seed}) …", file=log)
    started = time.perf_counter()
    build_demo_warehouse(
        path,
        profiles=profiles,
        seed=seed,
        progress=lambda message: print(f"  {message}", file=log, flush=True),
    )
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE OR REPLACE TABLE {_META_TABLE} (profiles BIGINT, seed BIGINT)")
        con.execute(f"INSERT INTO {_META_TABLE} VALUES (?, ?)", [profiles, seed])
    print(f"Built in {time.perf_counter() - started:.1f} s.", file=log)
    return True


def _built_with(path: Path) -> tuple[int, int] | None:
    import duckdb

    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(f"SELECT profiles, seed FROM {_META_TABLE}").fetchone()
    except duckdb.Error:
        return None
    return (int(row[0]), int(row[1])) if row else None


def run_demo(
    path: Path, *, profiles: int, seed: int, rebuild: bool = False, out: TextIO = sys.stdout
) -> int:
    """Build (or reuse) the warehouse, then validate and summarise every example audience."""
    ensure_demo_warehouse(path, profiles=profiles, seed=seed, rebuild=rebuild)
    graph, audiences = load_examples()
    print(
        f"\n{len(audiences)} example audiences (graph: {example_files() / 'graph.yaml'}):", file=out
    )
    width = max(len(a.key) for a in audiences)
    for audience in audiences:
        validate_audience(audience, graph, audiences)
        print(f"  {audience.key:<{width}}  {describe(audience.condition, graph)}", file=out)
        print(f"  {'':<{width}}  {audience.name}", file=out)
    return 0


def describe(condition: Condition, graph: DataGraph) -> str:
    """A one-line summary of what a condition tree uses: "2 entity (depth 6), 1 event"."""
    nodes = [node for _, node in walk(condition)]
    kinds = Counter(type(node).__name__ for node in nodes)
    depth = max(
        (_depth(node, graph) for node in nodes if isinstance(node, EntityCondition)), default=0
    )
    parts = []
    for cls, label in (
        (TraitCondition, "trait"),
        (EventCondition, "event"),
        (EntityCondition, "entity"),
        (AudienceCondition, "audience"),
    ):
        if kinds[cls.__name__]:
            parts.append(f"{kinds[cls.__name__]} {label}")
    if depth:
        parts.append(f"entity depth {depth}")
    return ", ".join(parts)


def _depth(node: EntityCondition, graph: DataGraph) -> int:
    path = graph.relationship(node.relationship)
    return path.depth if path else 0
