"""The notebook views as markup: structure, the numbers they show, escaping, empty inputs.

The markup is parsed (html.parser) rather than searched as text, so "shows as text, never as
an element" is checked the way a browser would read it. tests/test_notebook_browser.py looks
at the same views in a real browser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest

from linked_audiences.notebook import (
    breakdown_html,
    explanation_html,
    overlap_html,
    preview_html,
    run_history_html,
)
from linked_audiences.notebook.markup import number

HOSTILE = "<script>alert('x')</script> & \"q\" ' \\ % _ ; ünï 😀"
VOID = {"br", "img", "meta", "hr", "input", "link", "circle", "rect", "line", "polyline"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        found = []
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and all(
                    c.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()
                ):
                    found.append(c)
                found += c.all(tag, **attrs)
        return found

    def having(self, attr: str) -> list[Node]:
        return [n for n in self.all() if attr in n.attrs]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(markup: str) -> Node:
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def assert_self_contained(markup: str) -> None:
    """No scripts, nothing fetched: no src/href, no CSS url(), no style sheet imports."""
    tree = parse(markup)
    tags = {n.tag for n in tree.all()}
    assert not tags & {"script", "link", "img", "iframe", "style", "object", "embed"}
    for node in tree.all():
        assert not {"src", "href", "xlink:href"} & set(node.attrs)
        assert not any(k.startswith("on") for k in node.attrs)
        assert "url(" not in node.attrs.get("style", "")


def explorer(rel: str, ids: list[str], total: int, children: Any = None) -> dict[str, Any]:
    return {
        "relationship": rel,
        "total": total,
        "entities": [{"entity_id": i, "children": children or []} for i in ids],
    }


def preview_dict(**extra: Any) -> dict[str, Any]:
    cards = explorer("account-cards", [f"card_{i:02d}" for i in range(10)], 37)
    return {
        "audience_key": "premium_cardholders",
        "level": "profile",
        "as_of": "2026-11-01T00:00:00+00:00",
        "count": 1234,
        "sample": [
            {
                "profile_id": "p1",
                "identifiers": {"email": ["a@example.com", "b@example.com"], "user_id": ["u1"]},
                "entities": [explorer("user-accounts", ["acc_1"], 1, [cards])],
            },
            {
                "profile_id": "p2",
                "identifiers": {"ios.idfa": ["IDFA-2"]},
                "entities": [],
            },
        ],
        "timings_seconds": {"compile": 0.01},
        **extra,
    }


# --- preview -----------------------------------------------------------------------------


def test_preview_title_sample_and_tree() -> None:
    markup = preview_html(preview_dict())
    assert_self_contained(markup)
    tree = parse(markup)
    (view,) = tree.all("div", data_la_view="preview")
    assert "premium_cardholders" in view.text()
    (count,) = view.having("data-la-count")
    assert count.text() == "1,234 members"
    assert "2026-11-01 00:00:00 UTC" in view.text()

    (sample,) = tree.all("table")
    headers = [th.text() for th in sample.all("th")]
    # the identifier types of every sampled member, the familiar ones first
    assert headers == ["profile_id", "user_id", "email", "ios.idfa"]
    rows = sample.all("tr")[1:]
    assert [r.all("td")[0].text() for r in rows] == ["p1", "p2"]
    assert [d.text() for d in rows[0].all("td")[2].all("div")] == [
        "a@example.com",
        "b@example.com",
    ]
    assert rows[1].all("td")[3].text() == "IDFA-2"

    # one collapsed tree per sampled member that matched entities; groups inside are open
    (member,) = tree.all("details", data_la_member="p1")
    assert "open" not in member.attrs
    groups = member.all("details")
    assert all("open" in g.attrs for g in groups)
    summaries = [g.all("summary")[0].text() for g in groups]
    assert summaries == ["user-accounts 1 entity", "account-cards showing 10 of 37"]
    ids = [li.attrs["data-la-entity"] for li in member.all("li")]
    assert ids == ["acc_1", *(f"card_{i:02d}" for i in range(10))]
    # the cards are nested under their account
    (account,) = member.all("li", data_la_entity="acc_1")
    assert len(account.all("li")) == 10


def test_preview_of_accounts_and_one_member() -> None:
    d = preview_dict(level="account", count=1)
    d["sample"] = [
        {
            "account_id": "acct_1",
            "identifiers": {},
            "entities": [explorer("users", ["p1", "p2"], 2)],
        }
    ]
    tree = parse(preview_html(d))
    (count,) = tree.having("data-la-count")
    assert count.text() == "1 account"
    assert [th.text() for th in tree.all("th")] == ["account_id"]
    (member,) = tree.all("details", data_la_member="acct_1")
    assert "Member profiles" in tree.text()
    assert [li.attrs["data-la-entity"] for li in member.all("li")] == ["p1", "p2"]


def test_preview_empty() -> None:
    markup = preview_html(
        {"audience_key": "nobody", "as_of": "2026-11-01T00:00:00Z", "count": 0, "sample": []}
    )
    tree = parse(markup)
    assert tree.having("data-la-count")[0].text() == "0 members"
    assert "No members to sample." in tree.text()
    assert not tree.all("details") and not tree.all("table")


def test_preview_blocks_and_events() -> None:
    d = preview_dict(
        blocks=[
            {"path": "$.condition.conditions[0]", "label": "has an account", "count": 400},
            {"path": "$.condition.conditions[1]", "label": HOSTILE, "count": 100},
        ],
        events=[
            {"trigger": "Audience Entered", "relationship": None, "payload": {"k": HOSTILE}},
            {
                "trigger": "Entity Added",
                "relationship": "user-accounts",
                "payload": {"properties": {"n": 1}},
            },
        ],
    )
    markup = preview_html(d)
    assert_self_contained(markup)
    tree = parse(markup)
    blocks = tree.all("table")[0]
    rows = blocks.all("tr")[1:]
    assert [r.all("td")[-1].text() for r in rows] == ["400", "100"]
    # bars scaled to the largest block
    assert [float(b.attrs["data-la-bar"]) for b in blocks.having("data-la-bar")] == [1.0, 0.25]
    assert HOSTILE in rows[1].text()
    assert "$.condition.conditions[1]" in rows[1].text()

    events = [d for d in tree.all("details") if "data-la-member" not in d.attrs][-2:]
    assert [e.all("summary")[0].text() for e in events] == [
        "Audience Entered",
        "Entity Added · user-accounts",
    ]
    payload = events[0].all("pre")[0].text()
    assert json.loads(payload) == {"k": HOSTILE}  # the payload exactly, as readable JSON


def test_preview_escapes_everything_user_supplied() -> None:
    d = preview_dict(audience_key=HOSTILE)
    d["sample"][0]["profile_id"] = HOSTILE
    d["sample"][0]["identifiers"] = {HOSTILE: [HOSTILE]}
    d["sample"][0]["entities"] = [explorer(HOSTILE, [HOSTILE], 1)]
    markup = preview_html(d)
    assert_self_contained(markup)
    tree = parse(markup)
    assert not tree.all("script")
    assert HOSTILE in tree.all("th")[1].text()  # the identifier type as a column
    (member,) = tree.all("details", data_la_member=HOSTILE)
    assert member.all("li")[0].text() == HOSTILE
    assert member.all("summary")[1].text().startswith(HOSTILE)


# --- overlap -----------------------------------------------------------------------------


def overlap_dict() -> dict[str, Any]:
    return {
        "as_of": "2026-11-01T00:00:00Z",
        "audiences": [
            {"key": "a", "name": "Alpha", "size": 100},
            {"key": "b", "name": "Beta", "size": 50},
            {"key": "c", "name": HOSTILE, "size": 0},
        ],
        "pairs": [
            {"a": "a", "b": "b", "size_a": 100, "size_b": 50, "shared": 25, "jaccard": 0.2},
            {"a": "a", "b": "c", "size_a": 100, "size_b": 0, "shared": 0, "jaccard": 0.0},
            {"a": "b", "b": "c", "size_a": 50, "size_b": 0, "shared": 0, "jaccard": 0.0},
        ],
    }


def cell(tree: Node, a: str, b: str) -> Node:
    (found,) = tree.all("td", data_la_cell=f"{a}|{b}")
    return found


def alpha(node: Node) -> float:
    match = re.search(r"background:rgba\([^)]*,([0-9.]+)\)", node.attrs["style"])
    assert match, node.attrs["style"]
    return float(match.group(1))


def test_overlap_matrix() -> None:
    markup = overlap_html(overlap_dict())
    assert_self_contained(markup)
    tree = parse(markup)
    assert len(tree.all("td")) == 9  # N × N
    assert cell(tree, "a", "a").text() == "100members"
    assert cell(tree, "b", "b").text() == "50members"
    # a pair is listed once and shown in both of its cells
    for a, b in (("a", "b"), ("b", "a")):
        assert cell(tree, a, b).text() == "25J 0.20"
        assert "25 shared" in cell(tree, a, b).attrs["title"]
    assert cell(tree, "c", "a").text() == "0J 0.00"
    # shading grows with the Jaccard index
    assert alpha(cell(tree, "a", "b")) > alpha(cell(tree, "a", "c"))
    assert HOSTILE in tree.all("thead")[0].text()
    assert not tree.all("script")


def test_overlap_missing_pair_and_empty() -> None:
    d = overlap_dict()
    d["pairs"] = d["pairs"][:1]
    tree = parse(overlap_html(d))
    assert cell(tree, "a", "c").text() == "—"
    empty = parse(overlap_html({"as_of": None, "audiences": [], "pairs": []}))
    assert "No audiences to compare." in empty.text()
    assert not empty.all("table")


# --- breakdown ---------------------------------------------------------------------------


def test_breakdown_bars_and_numbers() -> None:
    d = {
        "audience_key": "k",
        "as_of": "2026-11-01T00:00:00Z",
        "members": 200,
        "identifiers": [
            {"type": "email", "count": 166, "share": 0.83},
            {"type": HOSTILE, "count": 1, "share": 0.005},
            {"type": "phone", "count": 50},  # no share: computed from the member count
        ],
    }
    markup = breakdown_html(d)
    assert_self_contained(markup)
    tree = parse(markup)
    assert tree.having("data-la-count")[0].text() == "200 members"
    rows = tree.all("tr")[1:]
    cells = [[td.text() for td in r.all("td")] for r in rows]
    assert [c[0] for c in cells] == ["email", HOSTILE, "phone"]
    assert [c[2:] for c in cells] == [["166", "83.0%"], ["1", "0.5%"], ["50", "25.0%"]]
    bars = [float(b.attrs["data-la-bar"]) for b in tree.having("data-la-bar")]
    assert bars == [0.83, 0.005, 0.25]
    widths = [b.attrs["style"].split("width:")[1].split(";")[0] for b in tree.having("data-la-bar")]
    assert widths == ["83.00%", "0.50%", "25.00%"]


def test_breakdown_empty() -> None:
    tree = parse(breakdown_html({"audience_key": "k", "members": 0, "identifiers": []}))
    assert tree.having("data-la-count")[0].text() == "0 members"
    assert "No identifiers." in tree.text()


# --- explanation -------------------------------------------------------------------------


def explanation_dict() -> dict[str, Any]:
    def node(path: str, kind: str, holds: bool | None, **kw: Any) -> dict[str, Any]:
        return {
            "path": path,
            "kind": kind,
            "label": kw.pop("label", kind),
            "holds": holds,
            "value": kw.pop("value", None),
            "value_label": kw.pop("value_label", None),
            "rows": kw.pop("rows", []),
            "children": kw.pop("children", []),
        }

    return {
        "audience_key": "k",
        "profile_id": HOSTILE,
        "as_of": "2026-11-01T00:00:00Z",
        "member": False,
        "tree": node(
            "$.condition",
            "and",
            False,
            children=[
                node(
                    "$.condition.conditions[0]",
                    "entity",
                    True,
                    label="has an account",
                    value=2,
                    value_label="matching rows",
                    rows=[
                        {"source": "prod.account", "id": "acc_1", "values": {"balance": 12.5}},
                        {
                            "source": "prod.account",
                            "id": HOSTILE,
                            "values": {"balance": None, "region": HOSTILE},
                        },
                    ],
                ),
                node(
                    "$.condition.conditions[1]",
                    "trait",
                    False,
                    value="silver",
                    value_label="loyalty_tier",
                ),
                node("$.condition.conditions[2]", "event", None, label="not evaluated"),
            ],
        ),
    }


def test_explanation_marks_values_and_rows() -> None:
    markup = explanation_html(explanation_dict())
    assert_self_contained(markup)
    tree = parse(markup)
    nodes = tree.having("data-la-node")
    assert [n.attrs["data-la-node"] for n in nodes] == [
        "$.condition",
        "$.condition.conditions[0]",
        "$.condition.conditions[1]",
        "$.condition.conditions[2]",
    ]
    assert [n.attrs["data-la-holds"] for n in nodes] == ["fails", "holds", "fails", "not evaluated"]
    # the mark is text as well as colour
    heads = [n.all("div")[0].text() for n in nodes]
    assert [h[0] for h in heads] == ["✗", "✓", "✗", "–"]
    assert "fails" in heads[0] and "holds" in heads[1] and "not evaluated" in heads[3]
    assert "rgb(218,54,51)" in nodes[0].attrs["style"]
    assert "rgb(46,160,67)" in nodes[1].attrs["style"]
    assert "matching rows: 2" in heads[1] and "loyalty_tier: silver" in heads[2]
    assert ":" not in heads[3].split("$")[0]
    # rows: source, id and the union of value columns; NULL shown as null
    (rows,) = nodes[1].all("table")
    assert [th.text() for th in rows.all("th")] == ["source", "id", "balance", "region"]
    body = [[td.text() for td in tr.all("td")] for tr in rows.all("tr")[1:]]
    assert body == [
        ["prod.account", "acc_1", "12.5", ""],
        ["prod.account", HOSTILE, "null", HOSTILE],
    ]
    assert "is not a member of" in tree.text() and HOSTILE in tree.text()
    assert not tree.all("script")


def test_explanation_member_and_missing_tree() -> None:
    d = explanation_dict() | {"member": True, "tree": None}
    tree = parse(explanation_html(d))
    assert "✓ is a member of" in tree.text()
    assert "No condition tree." in tree.text()


# --- run history -------------------------------------------------------------------------

START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def runs(n: int, failed: set[int] = frozenset()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    """``n`` runs a day apart, newest first as the run log lists them; run i has 100 + 10·i
    members."""
    entries = []
    for i in range(n):
        as_of = START + timedelta(days=i)
        if i in failed:
            entries.append(
                {"run_id": f"r{i}", "status": "failed", "as_of": as_of, "error": f"boom {i}"}
            )
        else:
            entries.append(
                {
                    "run_id": f"r{i}",
                    "audience_key": "k",
                    "status": "committed",
                    "as_of": as_of,
                    "members": 100 + 10 * i,
                    "entered": 10,
                    "exited": 0,
                    "events": 20 + i,
                    "error": None,
                }
            )
    return entries[::-1]


def points(tree: Node, kind: str) -> list[Node]:
    return [n for n in tree.all() if n.attrs.get("data-la-point") == kind]


def test_run_history_none() -> None:
    tree = parse(run_history_html([]))
    assert "No runs yet." in tree.text()
    assert not tree.all("svg") and not tree.all("table")


def test_run_history_one() -> None:
    markup = run_history_html(runs(1))
    assert_self_contained(markup)
    tree = parse(markup)
    (point,) = points(tree, "size")
    (svg,) = tree.all("svg")
    width = float(svg.attrs["width"])
    # one run sits in the middle of the plot area, at the top of its axis
    assert 0.4 * width < float(point.attrs["cx"]) < 0.6 * width
    assert "100" in tree.all("table")[0].text()
    assert "+10" in tree.text() and "−0" in tree.text()


def test_run_history_fifty_oldest_to_newest() -> None:
    entries = runs(50, failed={7})
    tree = parse(run_history_html(entries))
    groups = tree.having("data-la-run")
    assert len(groups) == 50
    # oldest on the left: the run ids in drawing order are r0 … r49
    assert [g.attrs["data-la-run"] for g in groups] == [f"r{i}" for i in range(50)]
    size = points(tree, "size")
    assert len(size) == 49  # the failed run has no size
    xs = [float(p.attrs["cx"]) for p in size]
    ys = [float(p.attrs["cy"]) for p in size]
    assert xs == sorted(xs) and len(set(xs)) == 49
    assert ys == sorted(ys, reverse=True)  # more members, higher up (smaller y)
    bars = points(tree, "events")
    heights = [float(b.attrs["height"]) for b in bars]
    assert heights == sorted(heights) and len(bars) == 49
    # the failed run: a ✗ in the chart and its error in the table
    failed = groups[7]
    assert failed.attrs["data-la-status"] == "failed" and "✗" in failed.text()
    assert "boom 7" in failed.all("title")[0].text()
    table = tree.all("table")[0]
    rows = table.all("tr")[1:]
    assert len(rows) == 50
    assert rows[0].all("td")[0].text() == "2026-11-19 00:00:00 UTC"  # newest first, as given
    assert "failed" in rows[49 - 7].text() and "boom 7" in rows[49 - 7].text()
    # the size line breaks at the failed run: two segments
    assert len(tree.all("polyline")) == 2


def test_run_history_tolerates_missing_and_extra_fields() -> None:
    entries: list[dict[str, Any]] = [
        {"run_id": HOSTILE, "status": "committed", "as_of": "2026-11-02T00:00:00Z"},
        {
            "run_id": "r1",
            "status": "committed",
            "as_of": "2026-11-01T00:00:00Z",
            "members": 10,
            "entered": 10,
            "exited": 0,
            "events": 12,
            "size_alert": True,
            "delivery": {"created": 12, "delivered": 9, "failed": 3, "pending": 0},
        },
    ]
    markup = run_history_html(entries)
    assert_self_contained(markup)
    tree = parse(markup)
    headers = [th.text() for th in tree.all("th")]
    assert "delivery" in headers
    rows = tree.all("tr")[1:]
    delivery = rows[1].all("td")[headers.index("delivery")].text()
    assert delivery == "created 12, pending 0, failed 3, delivered 9"
    assert "⚠ size alert" in rows[1].text()
    assert rows[0].all("td")[headers.index("members")].text() == "—"
    assert HOSTILE in tree.text() and not tree.all("script")
    assert len(tree.having("data-la-run")) == 2 and len(points(tree, "size")) == 1
    # delivery as flat fields works too
    flat = parse(run_history_html([{"run_id": "x", "status": "committed", "delivered": 4}]))
    assert "delivered 4" in flat.text()


@pytest.mark.parametrize(
    "render",
    [preview_html, overlap_html, breakdown_html, explanation_html],
)
def test_views_accept_an_empty_dict(render: Any) -> None:
    assert parse(render({})).all("div")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1234567, "1,234,567"),
        (12.5, "12.5"),
        (2.0, "2"),
        (0.00012345678, "0.000123457"),
        (1234.5678, "1,234.57"),
        (Decimal("182.19"), "182.19"),
        (Decimal("NaN"), "NaN"),
        (float("inf"), "inf"),
        (None, "—"),
        (True, "True"),
        ("<b>", "&lt;b&gt;"),
    ],
)
def test_numbers_as_shown(value: Any, shown: str) -> None:
    assert number(value) == shown
