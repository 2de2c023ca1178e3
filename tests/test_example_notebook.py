"""examples/quickstart.ipynb runs top to bottom in a fresh kernel and shows what it says.

It is executed as a user would (nbclient, the ``python3`` kernel of this interpreter), then its
outputs are read: the preview's member count is checked against plain SQL on a demo warehouse
of the same size and seed, and the run history against the runs the notebook printed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from linked_audiences.examples.generator import build_demo_warehouse

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "quickstart.ipynb"

pytestmark = pytest.mark.duckdb

PREMIUM_SQL = """
SELECT count(DISTINCT i.canonical_segment_id)
FROM ps_materialize.user_identifiers AS i
JOIN prod.account AS a ON a.email = i.value
JOIN prod.credit_card AS c ON c.account_id = a.id
WHERE i.type = 'email' AND a.status = 'active'
  AND c.card_type = 'premium' AND c.status = 'active'
"""


def html_of(cell: Any) -> str:
    return "".join(
        o["data"]["text/html"]
        for o in cell.get("outputs", [])
        if o.get("output_type") in ("execute_result", "display_data")
        and "text/html" in o.get("data", {})
    )


def stdout_of(cell: Any) -> str:
    return "".join(o["text"] for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def test_quickstart_notebook_runs(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for cell in code:
        assert not [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not list(tmp_path.iterdir()), "the notebook writes only to its own temporary folder"

    by_source = {
        name: next(c for c in code if marker in c.source)
        for name, marker in {
            "preview": "la.preview(",
            "breakdown": "la.breakdown(",
            "overlap": "la.overlap(",
            "explain": "la.explain(",
            "runs": "la.run(",
        }.items()
    }
    for name, cell in by_source.items():
        assert "<div" in html_of(cell), f"{name} shows no HTML"

    # the preview's count, against plain SQL on the same demo (2,000 profiles, seed 42)
    warehouse = tmp_path / "same.duckdb"
    build_demo_warehouse(warehouse, profiles=2000, seed=42)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (expected,) = con.execute(PREMIUM_SQL).fetchone() or (None,)
    assert isinstance(expected, int) and expected > 0
    preview = html_of(by_source["preview"])
    assert f'data-la-count="{expected}"' in preview
    assert f"{expected:,} members" in preview

    # two runs a week apart, both of that size: the first enters everyone, the second no one
    printed = stdout_of(by_source["runs"])
    assert re.findall(r": (\d+) members, \+(\d+) −(\d+)", printed) == [
        (str(expected), str(expected), "0"),
        (str(expected), "0", "0"),
    ]
    history = html_of(by_source["runs"])
    assert history.count("data-la-run=") == 2
    assert history.count('data-la-point="size"') == 2
