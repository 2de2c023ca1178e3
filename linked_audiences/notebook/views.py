"""HTML views of previews, breakdowns, overlaps and explanations, from their plain dicts.

The views take the ``to_dict()`` shapes rather than the objects, so the same markup serves
``_repr_html_`` in a notebook, a saved JSON result and a static page, and so a view never
reaches back into the warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from linked_audiences.notebook.markup import (
    CODE,
    FAILS,
    FAINT,
    HOLDS,
    MUTED,
    RULE,
    SUMMARY,
    UNKNOWN,
    as_int,
    empty,
    esc,
    hbar,
    number,
    percent,
    plural,
    table,
    title,
    view,
    when,
)


def preview_html(d: Mapping[str, Any]) -> str:
    """Count, sample with identifiers, and each sampled member's explorer tree (collapsed)."""
    account = d.get("level") == "account"
    member_key = "account_id" if account else "profile_id"
    count = as_int(d.get("count"))
    noun = plural(count, "account" if account else "member")
    head = title(
        f'<span style="{CODE};font-size:14px">{esc(d.get("audience_key"))}</span>: '
        f'<span data-la-count="{esc(count)}">{noun}</span>',
        f"as of {esc(when(d.get('as_of')))}",
    )
    sample: list[Mapping[str, Any]] = list(d.get("sample") or [])
    parts = [head]
    if d.get("blocks"):
        parts.append(_blocks(d["blocks"]))
    parts.append(_sample_table(sample, member_key))
    if any(s.get("entities") for s in sample):
        parts.append(_explorer(sample, member_key, account))
    if d.get("events"):
        parts.append(_events(d["events"]))
    timings = d.get("timings_seconds") or {}
    spent = ", ".join(
        f"{esc(k)} {v:.2f} s" for k, v in timings.items() if isinstance(v, (int, float))
    )
    if spent:
        parts.append(f'<div style="{MUTED};font-size:11px">{spent}</div>')
    return view("preview", "".join(parts))


#: Identifier types a reader looks for first; any others follow alphabetically.
FIRST_IDENTIFIERS = ("user_id", "email", "anonymous_id")
#: A long identifier (device ids, several emails) is cut short rather than widening the table;
#: the whole value is in the tooltip and in a copy.
CLIPPED = "white-space:nowrap;max-width:210px;overflow:hidden;text-overflow:ellipsis"


def _sample_table(sample: Sequence[Mapping[str, Any]], member_key: str) -> str:
    if not sample:
        return empty("No members to sample.")
    found = {k for s in sample for k in (s.get("identifiers") or {})}
    kinds = [k for k in FIRST_IDENTIFIERS if k in found]
    kinds += sorted(found - set(FIRST_IDENTIFIERS))
    headers = [esc(member_key), *(esc(k) for k in kinds)]
    rows = []
    for s in sample:
        ids = s.get("identifiers") or {}
        cells = [f'<span style="{CODE};white-space:nowrap">{esc(s.get(member_key))}</span>']
        cells += [
            "".join(
                f'<div title="{esc(v)}" style="{CLIPPED}">{esc(v)}</div>' for v in ids.get(k) or []
            )
            for k in kinds
        ]
        rows.append(cells)
    caption = f'<div style="font-weight:600;margin-top:8px">Sample ({len(sample)})</div>'
    return caption + table(headers, rows)


def _explorer(sample: Sequence[Mapping[str, Any]], member_key: str, account: bool) -> str:
    heading = "Member profiles" if account else "Matched entities"
    items = []
    for s in sample:
        groups = s.get("entities") or []
        counts = ", ".join(f"{esc(g.get('relationship'))} {number(g.get('total'))}" for g in groups)
        items.append(
            f'<details data-la-member="{esc(s.get(member_key))}" style="margin:2px 0">'
            f'<summary style="{SUMMARY}"><span style="{CODE}">{esc(s.get(member_key))}</span>'
            f' <span style="{MUTED}">— {counts}</span></summary>'
            f"{_groups(groups)}</details>"
        )
    return f'<div style="font-weight:600;margin-top:8px">{heading}</div>{"".join(items)}'


def _groups(groups: Sequence[Mapping[str, Any]]) -> str:
    """Nested relationship groups, open: one click on the member shows its whole tree."""
    out = []
    for g in groups:
        entities = list(g.get("entities") or [])
        total = as_int(g.get("total"))
        shown = len(entities)
        counted = (
            f"showing {shown} of {number(total)}"
            if total is not None and total > shown
            else plural(shown, "entity", "entities")
        )
        rows = "".join(
            f'<li data-la-entity="{esc(e.get("entity_id"))}">'
            f'<span style="{CODE}">{esc(e.get("entity_id"))}</span>'
            f"{_groups(e.get('children') or [])}</li>"
            for e in entities
        )
        out.append(
            f'<details open style="margin:2px 0 2px 14px;padding-left:8px;'
            f'border-left:2px solid {RULE}"><summary style="{SUMMARY}">'
            f'<span style="font-weight:600">{esc(g.get("relationship"))}</span> '
            f'<span style="{MUTED}">{counted}</span></summary>'
            f'<ul style="margin:0;padding-left:18px">{rows}</ul></details>'
        )
    return "".join(out)


def _blocks(blocks: Sequence[Mapping[str, Any]]) -> str:
    """Members of each top-level condition alone, bars scaled to the largest."""
    counts = [as_int(b.get("count")) or 0 for b in blocks]
    top = max(counts, default=0) or 1
    rows = [
        [
            f'{esc(b.get("label"))}<div style="{MUTED};{CODE};font-size:11px">'
            f"{esc(b.get('path'))}</div>",
            hbar(n / top, 180),
            number(b.get("count")),
        ]
        for b, n in zip(blocks, counts, strict=True)
    ]
    caption = '<div style="font-weight:600;margin-top:8px">Members per top-level condition</div>'
    return caption + table(["condition", "", "members"], rows, numeric={2})


def _events(events: Sequence[Mapping[str, Any]]) -> str:
    items = []
    for e in events:
        rel = e.get("relationship")
        label = esc(e.get("trigger")) + (
            f' <span style="{MUTED}">· {esc(rel)}</span>' if rel else ""
        )
        payload = json.dumps(e.get("payload"), indent=2, ensure_ascii=False, default=str)
        items.append(
            f'<details style="margin:2px 0"><summary style="{SUMMARY}">{label}</summary>'
            f'<pre style="{CODE};background:{FAINT};padding:6px 8px;margin:2px 0 6px 0;'
            f'white-space:pre-wrap;overflow-wrap:anywhere">{esc(payload)}</pre></details>'
        )
    return (
        f'<div style="font-weight:600;margin-top:8px">Events a run would send</div>{"".join(items)}'
    )


def overlap_html(d: Mapping[str, Any]) -> str:
    """Every pair of audiences as a matrix: size on the diagonal, shared members and the
    Jaccard index off it, each cell shaded by the index."""
    audiences: list[Mapping[str, Any]] = list(d.get("audiences") or [])
    pairs: dict[tuple[str, str], Mapping[str, Any]] = {}
    for p in d.get("pairs") or []:
        pairs[(str(p.get("a")), str(p.get("b")))] = p
        pairs.setdefault((str(p.get("b")), str(p.get("a"))), p)
    head = title(
        "Overlap", f"{plural(len(audiences), 'audience')}, as of {esc(when(d.get('as_of')))}"
    )
    if not audiences:
        return view("overlap", head + empty("No audiences to compare."))

    def name(a: Mapping[str, Any]) -> str:
        label = esc(a.get("name") or a.get("key"))
        small = f"{MUTED};{CODE};font-size:11px;font-weight:400"
        return f'{label}<div style="{small}">{esc(a.get("key"))}</div>'

    cell = f"border:1px solid {RULE};padding:4px 8px;text-align:center;min-width:84px"
    header = "".join(f'<th style="{cell};font-weight:600">{name(a)}</th>' for a in audiences)
    rows = []
    for a in audiences:
        cells = [f'<th style="{cell};text-align:left;font-weight:600">{name(a)}</th>']
        for b in audiences:
            cells.append(_overlap_cell(a, b, pairs, cell))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    legend = (
        f'<div style="{MUTED};font-size:11px;display:flex;align-items:center;gap:6px">'
        f'Jaccard 0<span style="display:inline-block;width:120px;height:8px;'
        f'background:linear-gradient(to right,{_shade(0)},{_shade(1)})"></span>1</div>'
    )
    matrix = (
        f'<table style="border-collapse:collapse;margin:4px 0 6px 0;font-size:12px">'
        f'<thead><tr><th style="{cell}"></th>{header}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table>"
    )
    return view("overlap", head + matrix + legend)


def _shade(jaccard: float) -> str:
    return f"rgba(66,133,244,{0.06 + 0.6 * min(max(jaccard, 0.0), 1.0):.3f})"


def _overlap_cell(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    pairs: Mapping[tuple[str, str], Mapping[str, Any]],
    style: str,
) -> str:
    ka, kb = str(a.get("key")), str(b.get("key"))
    if ka == kb:
        return (
            f'<td data-la-cell="{esc(ka)}|{esc(kb)}" style="{style};background:{FAINT}">'
            f'<div style="font-weight:600">{number(a.get("size"))}</div>'
            f'<div style="{MUTED};font-size:11px">members</div></td>'
        )
    p = pairs.get((ka, kb))
    if p is None:
        return f'<td data-la-cell="{esc(ka)}|{esc(kb)}" style="{style}">—</td>'
    try:
        j = float(p.get("jaccard") or 0.0)
    except (TypeError, ValueError):
        j = 0.0
    tip = (
        f"{ka} ∩ {kb}: {number(p.get('shared'))} shared; "
        f"sizes {number(p.get('size_a'))} and {number(p.get('size_b'))}; Jaccard {j:.3f}"
    )
    return (
        f'<td data-la-cell="{esc(ka)}|{esc(kb)}" title="{esc(tip)}" '
        f'style="{style};background:{_shade(j)}">'
        f'<div style="font-weight:600">{number(p.get("shared"))}</div>'
        f'<div style="{MUTED};font-size:11px">J {j:.2f}</div></td>'
    )


def breakdown_html(d: Mapping[str, Any]) -> str:
    """For each identifier type, how many members have one, as bars of the member count."""
    members = as_int(d.get("members"))
    head = title(
        f'<span style="{CODE};font-size:14px">{esc(d.get("audience_key"))}</span>: '
        f'<span data-la-count="{esc(members)}">{plural(members, "member")}</span>',
        f"identifiers as of {esc(when(d.get('as_of')))}",
    )
    identifiers: list[Mapping[str, Any]] = list(d.get("identifiers") or [])
    if not identifiers:
        return view("breakdown", head + empty("No identifiers."))
    rows = []
    for i in identifiers:
        share = i.get("share")
        if share is None and members:
            share = (as_int(i.get("count")) or 0) / members
        try:
            fraction = float(share or 0.0)
        except (TypeError, ValueError):
            fraction = 0.0
        rows.append(
            [
                f'<span style="{CODE}">{esc(i.get("type"))}</span>',
                hbar(fraction),
                number(i.get("count")),
                percent(share),
            ]
        )
    return view("breakdown", head + table(["identifier", "", "members", "share"], rows, {2, 3}))


_MARK = {
    True: ("✓", "holds", HOLDS),
    False: ("✗", "fails", FAILS),
    None: ("–", "not evaluated", UNKNOWN),
}


def explanation_html(d: Mapping[str, Any]) -> str:
    """The condition tree for one profile: every node marked holds / fails / not evaluated,
    in colour and in text, with its value and the rows that made it hold."""
    member = bool(d.get("member"))
    verdict = (
        f'<span style="color:{HOLDS}">✓</span> is a member of'
        if member
        else f'<span style="color:{FAILS}">✗</span> is not a member of'
    )
    head = title(
        f'<span style="{CODE};font-size:14px">{esc(d.get("profile_id"))}</span> {verdict} '
        f'<span style="{CODE};font-size:14px">{esc(d.get("audience_key"))}</span>',
        f"as of {esc(when(d.get('as_of')))}",
    )
    tree = d.get("tree")
    body = _node(tree) if isinstance(tree, Mapping) else empty("No condition tree.")
    return view("explanation", head + body)


def _node(node: Mapping[str, Any]) -> str:
    holds = node.get("holds")
    mark, word, colour = _MARK[holds if isinstance(holds, bool) else None]
    # "matching rows: 3", "sum(revenue): 668.8", "lifetime_value: 8,190.25"
    label, raw = node.get("value_label"), node.get("value")
    value = None
    if raw is not None or label is not None:
        text = "null" if raw is None else number(raw)  # number() escapes what is not one
        value = f"{esc(label)}: {text}" if label is not None else text
    line = (
        f'<span style="color:{colour};font-weight:700">{mark}</span> '
        f'<span style="{MUTED};font-size:11px">{esc(word)}</span> '
        f'<span style="{CODE};font-size:11px;border:1px solid {RULE};border-radius:3px;'
        f'padding:0 4px">{esc(node.get("kind"))}</span> {esc(node.get("label"))}'
    )
    if value is not None:
        line += f' <span style="font-weight:600" data-la-value="1">{value}</span>'
    line += f' <span style="{MUTED};{CODE};font-size:10px">{esc(node.get("path"))}</span>'
    rows = _rows(node.get("rows") or [])
    children = "".join(_node(c) for c in node.get("children") or [] if isinstance(c, Mapping))
    tint = colour.replace("rgb(", "rgba(").replace(")", ",0.10)") if holds is not None else "none"
    return (
        f'<div data-la-node="{esc(node.get("path"))}" data-la-holds="{word}" '
        f'style="border-left:3px solid {colour};margin:3px 0 3px 10px;padding:0 0 2px 0">'
        f'<div style="background:{tint};padding:2px 8px">{line}</div>'
        f'<div style="padding-left:4px">{rows}{children}</div></div>'
    )


def _rows(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    columns: list[str] = []
    for r in rows:
        for c in r.get("values") or {}:
            if c not in columns:
                columns.append(str(c))
    body = [
        [
            esc(r.get("source")),
            f'<span style="{CODE}">{esc(r.get("id"))}</span>',
            *(_value(r["values"][c]) if c in (r.get("values") or {}) else "" for c in columns),
        ]
        for r in rows
    ]
    grid = table(["source", "id", *(esc(c) for c in columns)], body)
    opened = " open" if len(rows) <= 5 else ""
    return (
        f'<details{opened} style="margin:2px 0 2px 4px"><summary style="{SUMMARY};{MUTED};'
        f'font-size:11px">{plural(len(rows), "row")}</summary>{grid}</details>'
    )


def _value(v: Any) -> str:
    if v is None:
        return f'<span style="{MUTED}">null</span>'
    if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
        return number(v)
    if isinstance(v, (dict, list)):
        return esc(json.dumps(v, ensure_ascii=False, default=str))
    return esc(when(v) if hasattr(v, "isoformat") else v)
