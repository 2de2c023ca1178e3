"""The notebook views in a real headless Chromium: what a reader actually sees.

Markup tests (tests/test_notebook_html.py) say what the HTML holds; these say what shows: the
count is displayed, a collapsed tree hides its entities until clicked, a hostile id is text,
the chart has one mark per run, colours follow the notebook's theme. They need Debian's
``chromium`` and ``chromium-driver`` (scripts/test installs them as root); without them they
skip, except under CI (``CI`` set), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linked_audiences.notebook import (
    breakdown_html,
    explanation_html,
    overlap_html,
    preview_html,
    run_history_html,
)

from .browser import THEMES, chromium, chromium_paths, show
from .test_notebook_html import explanation_dict, overlap_dict, preview_dict, runs

#: Markup that runs script if it is ever parsed as markup instead of shown as text.
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> & ü'


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if chromium_paths() is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs chromium and chromedriver (scripts/test installs them)")
        pytest.skip("no chromium/chromedriver here: apt-get install chromium chromium-driver")
    with chromium(width=1000, height=900) as d:
        yield d


def by_css(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def all_css(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, css))


def rgba(value: str) -> tuple[float, ...]:
    return tuple(float(x) for x in re.findall(r"[\d.]+", value))


def test_preview_count_shows_and_tree_opens_on_click(driver: Any, tmp_path: Path) -> None:
    show(driver, preview_html(preview_dict()), tmp_path)
    count = by_css(driver, "[data-la-count]")
    assert count.is_displayed() and count.text == "1,234 members"
    member = by_css(driver, 'details[data-la-member="p1"]')
    account = by_css(driver, 'li[data-la-entity="acc_1"]')
    card = by_css(driver, 'li[data-la-entity="card_09"]')
    assert not account.is_displayed() and not card.is_displayed()
    member.find_element("css selector", "summary").click()
    assert account.is_displayed() and card.is_displayed()
    assert "showing 10 of 37" in member.text
    # the sample table shows every identifier of the member
    assert "a@example.com" in by_css(driver, "table").text


def test_hostile_strings_show_as_text(driver: Any, tmp_path: Path) -> None:
    d = preview_dict(audience_key=HOSTILE)
    d["sample"][0]["profile_id"] = HOSTILE
    d["sample"][0]["identifiers"] = {"email": [HOSTILE]}
    show(driver, preview_html(d), tmp_path)
    assert driver.execute_script("return window.__pwned === undefined")
    assert driver.execute_script("return document.querySelectorAll('script, img').length") == 0
    cell = by_css(driver, "tbody td")
    assert cell.is_displayed() and cell.text == HOSTILE
    assert HOSTILE in by_css(driver, "[data-la-view]").text.splitlines()[0]


def test_overlap_cells_show_shared_counts(driver: Any, tmp_path: Path) -> None:
    show(driver, overlap_html(overlap_dict()), tmp_path)
    ab = by_css(driver, 'td[data-la-cell="a|b"]')
    ba = by_css(driver, 'td[data-la-cell="b|a"]')
    assert ab.is_displayed() and ab.text.split() == ["25", "J", "0.20"]
    assert ba.text == ab.text
    assert by_css(driver, 'td[data-la-cell="a|a"]').text.split() == ["100", "members"]
    # shaded by Jaccard: the 0.2 pair is more opaque than the 0 pair
    shade = rgba(ab.value_of_css_property("background-color"))[3]
    none = rgba(by_css(driver, 'td[data-la-cell="a|c"]').value_of_css_property("background-color"))
    assert shade > none[3] > 0


def test_breakdown_bars_are_as_long_as_the_share(driver: Any, tmp_path: Path) -> None:
    d = {
        "audience_key": "k",
        "members": 200,
        "identifiers": [
            {"type": "email", "count": 166, "share": 0.83},
            {"type": "phone", "count": 50, "share": 0.25},
        ],
    }
    show(driver, breakdown_html(d), tmp_path)
    for bar, share in zip(all_css(driver, "[data-la-bar]"), (0.83, 0.25), strict=True):
        outer = driver.execute_script(
            "return arguments[0].parentElement.getBoundingClientRect().width", bar
        )
        inner = driver.execute_script("return arguments[0].getBoundingClientRect().width", bar)
        assert bar.is_displayed() and inner == pytest.approx(outer * share, abs=1)
    assert "83.0%" in by_css(driver, "table").text


def test_explanation_marks_show_in_text_and_colour(driver: Any, tmp_path: Path) -> None:
    show(driver, explanation_html(explanation_dict()), tmp_path)
    nodes = all_css(driver, "[data-la-node]")
    firsts = [n.text.split()[0] for n in nodes]
    assert firsts == ["✗", "✓", "✗", "–"]
    colours = [rgba(n.value_of_css_property("border-left-color"))[:3] for n in nodes]
    assert colours[1] == (46, 160, 67) and colours[0] == colours[2] == (218, 54, 51)
    rows = nodes[1].find_element("css selector", "table")
    assert rows.is_displayed() and "12.5" in rows.text


def test_run_history_has_one_mark_per_run(driver: Any, tmp_path: Path) -> None:
    entries = runs(50, failed={7})
    show(driver, run_history_html(entries), tmp_path)
    svg = by_css(driver, "svg")
    assert svg.is_displayed()
    box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", svg)
    marks = all_css(driver, "svg g[data-la-run]")
    assert len(marks) == 50
    circles = all_css(driver, "svg circle[data-la-point=size]")
    assert len(circles) == 49
    xs = []
    for c in circles:
        r = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", c)
        assert r["width"] > 0 and box["left"] <= r["left"] and r["right"] <= box["right"]
        xs.append(r["left"])
    assert xs == sorted(xs)  # oldest → newest, left to right
    assert "✗" in marks[7].text or marks[7].get_attribute("data-la-status") == "failed"
    assert len(all_css(driver, "tbody tr")) == 50


def test_run_history_of_one_and_none(driver: Any, tmp_path: Path) -> None:
    show(driver, run_history_html(runs(1)), tmp_path)
    assert len(all_css(driver, "svg circle")) == 1
    show(driver, run_history_html([]), tmp_path, name="none")
    assert "No runs yet." in by_css(driver, "[data-la-view]").text
    assert not all_css(driver, "svg")


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_text_follows_the_notebook_theme(driver: Any, tmp_path: Path, theme: str) -> None:
    """No view sets its own text colour: on a dark notebook, the text is the theme's."""
    colour = rgba(THEMES[theme][1])
    views = {
        "preview": preview_html(preview_dict()),
        "breakdown": breakdown_html({"audience_key": "k", "members": 1, "identifiers": []}),
        "history": run_history_html(runs(3)),
    }
    for name, markup in views.items():
        show(driver, markup, tmp_path, theme=theme, name=name)
        for el in all_css(driver, "[data-la-count], th, td, [data-la-view] div"):
            if el.is_displayed() and el.text.strip():
                assert rgba(el.value_of_css_property("color"))[:3] == colour, el.text
        axis = driver.execute_script(
            "const t = document.querySelector('svg text');"
            "return t ? getComputedStyle(t).fill : null"
        )
        if axis is not None:
            assert rgba(axis)[:3] == colour


@pytest.mark.duckdb
@pytest.mark.slow
def test_screenshot_script_writes_every_view(driver: Any, tmp_path: Path) -> None:
    """scripts/screenshots (the docs' PNGs) still runs; here into tmp_path, never the repo."""
    import struct
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "img"
    script = root / "scripts" / "screenshots"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(out), "--profiles", "500"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "view-breakdown.png",
        "view-explanation.png",
        "view-overlap.png",
        "view-preview-blocks.png",
        "view-preview-dark.png",
        "view-preview.png",
        "view-run-history.png",
    ]
    for name in names:
        head = (out / name).read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", head[16:24])
        assert 300 < width <= 1200 and 150 < height <= 4000, (name, width, height)
