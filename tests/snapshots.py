"""Golden-file comparison: a missing or changed file fails with a diff and the way to refresh."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest


def assert_matches_snapshot(path: Path, actual: str, *, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}; re-run with --update-snapshots to create it")
    expected = path.read_text(encoding="utf-8")
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=str(path),
                tofile="generated",
            )
        )
        pytest.fail(f"{path} differs (re-run with --update-snapshots if intended):\n{diff}")
