"""The data types a condition can see (SPEC §1), shared by the graph and the condition AST."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Literal, get_args

DataType = Literal["string", "number", "boolean", "date", "time", "timestamp"]
"""A column's type as conditions see it; the warehouse's own type is mapped onto one of these."""

DATA_TYPES: tuple[str, ...] = get_args(DataType)

#: Types whose values can be ordered with less_than & co.
ORDERED_TYPES: frozenset[str] = frozenset({"number", "date", "time", "timestamp"})

#: Types that date operators (before_date, within_last, …) accept; strings hold ISO-8601 text.
DATE_LIKE_TYPES: frozenset[str] = frozenset({"date", "timestamp", "string"})


def parse_iso_date(text: str) -> date:
    """``YYYY-MM-DD``; raises ValueError otherwise."""
    return date.fromisoformat(text)


def parse_iso_time(text: str) -> time:
    """``HH:MM[:SS[.ffffff]]``; raises ValueError otherwise."""
    return time.fromisoformat(text)


def parse_iso_timestamp(text: str) -> datetime:
    """An ISO-8601 date or timestamp, as an aware UTC datetime (naive text is taken as UTC).

    A trailing ``Z`` is accepted on every Python version we support.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("expected ISO-8601 text")
    normalised = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    parsed = datetime.fromisoformat(normalised)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
