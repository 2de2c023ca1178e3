"""``linked-audiences demo``: build the demo warehouse and show the example audiences.

The demo is what a new user runs first, so it needs no server: an embedded DuckDB file in the
working folder, rebuilt only when missing, asked for, or built for another size or seed.

The demo marks each database it builds (a table recording its size and seed) and never
replaces a file without that mark: ``--warehouse my.duckdb`` must not destroy a user's data.
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
    UsersCondition,
    walk,
)
from linked_audiences.graph import DataGraph
from linked_audiences.loading import load_audience_folder

_META_TABLE = "linked_audiences_demo_meta"


class NotADemoWarehouse(FileExistsError):
    """The file exists but the demo did not build it, so the demo will not replace it."""


def example_files() -> Path:
    """Folder of the shipped demo graph and audiences (works installed and editable)."""
    return Path(str(resources.files("linked_audiences.examples"))).resolve()


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

    built = _built_with(path)
    if built is None and (path.exists() or path.is_symlink()):
        raise NotADemoWarehouse(
            f"{path} exists and was not built by `linked-audiences demo`; the demo never "
            "replaces it: choose another --warehouse path"
        )
    if not rebuild and built == (profiles, seed):
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
    """(profiles, seed) of a demo warehouse; None when ``path`` is missing or holds anything
    else (another DuckDB database, another kind of file, a folder)."""
    import duckdb

    from linked_audiences.warehouse import WarehouseUnavailable

    if not path.is_file():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(f"SELECT profiles, seed FROM {_META_TABLE}").fetchone()
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():  # another process has it open: it may well be ours
            raise WarehouseUnavailable(
                f"cannot open {path}: {' '.join(str(exc).split())}"
            ) from None
        return None
    return (int(row[0]), int(row[1])) if row else None


def run_demo(
    path: Path, *, profiles: int, seed: int, rebuild: bool = False, out: TextIO = sys.stdout
) -> int:
    """Build (or reuse) the warehouse, then preview every example audience on it."""
    from linked_audiences.dialects import get_dialect
    from linked_audiences.examples.generator import DEMO_AS_OF
    from linked_audiences.preview import preview
    from linked_audiences.warehouse import Warehouse

    ensure_demo_warehouse(path, profiles=profiles, seed=seed, rebuild=rebuild)
    graph, audiences = load_examples()
    folder = example_files()
    print(
        f"\n{len(audiences)} example audiences on {path}, as of {DEMO_AS_OF.isoformat()}"
        f"\n(definitions: {folder})\n",
        file=out,
    )
    width = max(len(a.key) for a in audiences)
    print(f"  {'audience':<{width}}  {'members':>9}  {'seconds':>7}  uses", file=out)
    dialect = get_dialect("duckdb")
    url = f"duckdb:///{path}"
    with Warehouse(dialect, dialect.connect(url, read_only=True), url) as warehouse:
        for audience in audiences:
            result = preview(
                audience, graph, warehouse, as_of=DEMO_AS_OF, audiences=audiences, sample=1
            )
            seconds = sum(result.timings.values())
            print(
                f"  {audience.key:<{width}}  {result.count:>9,}  {seconds:>7.3f}  "
                f"{describe(audience.condition, graph)}",
                file=out,
            )
    definition = f"{folder / 'graph.yaml'} {folder / 'audiences' / 'premium_cardholders.json'}"
    options = f"--warehouse duckdb:///{path} --as-of {DEMO_AS_OF.isoformat()}"
    print(
        f"\nNext, see who is in one and why:\n  linked-audiences preview {definition} {options}"
        f"\nand run it, writing its events:\n  linked-audiences run {definition} {options} "
        "--events-out events.jsonl",
        file=out,
    )
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
        (UsersCondition, "users"),
    ):
        if kinds[cls.__name__]:
            parts.append(f"{kinds[cls.__name__]} {label}")
    if depth:
        parts.append(f"entity depth {depth}")
    if any(_has_step(node) for node in nodes):
        parts.append("funnel")
    if any(isinstance(n, EventCondition | EntityCondition) and n.aggregate for n in nodes):
        parts.append("aggregate")
    return ", ".join(parts)


def _has_step(node: Condition) -> bool:
    """An event with an event inside its where: a funnel."""
    if not isinstance(node, EventCondition) or node.where is None:
        return False
    return any(isinstance(n, EventCondition) for _, n in walk(node.where))


def _depth(node: EntityCondition, graph: DataGraph) -> int:
    path = graph.relationship(node.relationship)
    return path.depth if path else 0
