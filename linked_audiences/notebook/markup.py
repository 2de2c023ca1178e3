"""Small helpers the notebook views share: escaping, number and time formats, the styles.

Every view is one self-contained HTML string: inline ``style`` attributes rather than a
``<style>`` block, because notebook front ends and viewers (JupyterLab on an untrusted
notebook, GitHub's renderer) drop style sheets but keep inline styles, and because a style
sheet would leak into the rest of the notebook. Text colour is always inherited and shading is
translucent, so the same markup reads on Jupyter's light and dark themes.
"""

from __future__ import annotations

import html
from datetime import datetime
from decimal import Decimal
from typing import Any

#: Neutral lines and fills: translucent grey over whatever the theme's background is.
RULE = "rgba(127,127,127,0.35)"
FAINT = "rgba(127,127,127,0.12)"
MUTED = "opacity:0.7"
BAR = "rgba(66,133,244,0.55)"
HOLDS = "rgb(46,160,67)"
FAILS = "rgb(218,54,51)"
UNKNOWN = "rgb(140,140,140)"

FONT = (
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;"
    "font-size:13px;line-height:1.45;color:inherit"
)
TABLE = "border-collapse:collapse;margin:4px 0 8px 0;font-size:12px"
CELL = f"border-bottom:1px solid {RULE};padding:3px 8px;text-align:left;vertical-align:top"
HEAD = f"{CELL};font-weight:600"
NUMBER = f"{CELL};text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap"
CODE = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px"
SUMMARY = "cursor:pointer;padding:2px 0"


def esc(value: object) -> str:
    """Text for HTML content or a quoted attribute: whatever a warehouse or a definition held
    (``<script>``, ``&``, quotes) shows as text, never as markup."""
    return html.escape("" if value is None else str(value), quote=True)


def number(value: Any) -> str:
    """A count with thousands separators, a measure to six significant digits; '—' when the
    warehouse gave nothing."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        as_float = float(value)
    except (OverflowError, ValueError):
        return esc(value)
    if as_float != as_float or as_float in (float("inf"), float("-inf")):
        return esc(value)
    if as_float.is_integer() and abs(as_float) < 2**53:
        return f"{int(value):,}"
    if abs(as_float) >= 1000:
        return f"{as_float:,.2f}".rstrip("0").rstrip(".")
    return f"{as_float:.6g}"


def as_int(value: Any) -> int | None:
    """Counts arrive as int, Decimal, float or text depending on the warehouse client."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None


def percent(share: Any) -> str:
    try:
        return f"{float(share) * 100:.1f}%"
    except (TypeError, ValueError):
        return "—"


def when(value: Any) -> str:
    """An instant as a reader wants it: UTC spelled out, seconds at most."""
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is not None and offset.total_seconds() == 0:
            return value.strftime("%Y-%m-%d %H:%M:%S UTC")
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, str):
        try:
            return when(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return "" if value is None else str(value)


def plural(n: int | None, one: str, many: str | None = None) -> str:
    word = one if n == 1 else (many or one + "s")
    return f"{number(n)} {word}"


def view(kind: str, body: str) -> str:
    """The outer box of every view; ``data-la-view`` lets tests and scripts find it."""
    style = f"{FONT};max-width:100%;overflow-x:auto"
    return f'<div data-la-view="{esc(kind)}" style="{style}">{body}</div>'


def title(text: str, sub: str = "") -> str:
    line = f'<div style="font-size:15px;font-weight:600;margin:2px 0">{text}</div>'
    if sub:
        line += f'<div style="{MUTED};font-size:12px;margin-bottom:6px">{sub}</div>'
    return line


def table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """Headers and cells are markup already (escaped by the caller)."""
    numeric = numeric or set()
    head = "".join(
        f'<th style="{HEAD}{";text-align:right" if i in numeric else ""}">{h}</th>'
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{NUMBER if i in numeric else CELL}">{cell}</td>'
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table style="{TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def empty(text: str) -> str:
    return f'<div style="{MUTED};font-style:italic;margin:4px 0">{esc(text)}</div>'


def hbar(fraction: float, width_px: int = 220) -> str:
    """A horizontal bar as two nested boxes: no script, prints and copies as it shows."""
    fraction = min(max(fraction, 0.0), 1.0)
    return (
        f'<div style="width:{width_px}px;height:10px;background:{FAINT};border-radius:2px">'
        f'<div data-la-bar="{fraction:.4f}" style="width:{fraction * 100:.2f}%;height:10px;'
        f'background:{BAR};border-radius:2px"></div></div>'
    )
