"""The data types a condition can see, shared by the graph and the condition AST."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import Literal, get_args

DataType = Literal["string", "number", "boolean", "date", "time", "timestamp"]
"""A column's type as conditions see it; the warehouse's own type is mapped onto one of these."""

DATA_TYPES: tuple[str, ...] = get_args(DataType)

#: Types whose values can be ordered with less_than & co.
ORDERED_TYPES: frozenset[str] = frozenset({"number", "date", "time", "timestamp"})

#: Types that date operators (before_date, within_last, …) accept; strings hold ISO-8601 text.
DATE_LIKE_TYPES: frozenset[str] = frozenset({"date", "timestamp", "string"})


#: The ISO-8601 texts the library reads as dates, times and timestamps — in definitions, in
#: long-layout traits and in string columns. SQL guards every cast with the same pattern, so
#: every warehouse (and Python) accepts exactly the same texts. POSIX-ERE syntax only.
_DATE = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?"
ISO_DATE_PATTERN = f"^{_DATE}$"
ISO_TIME_PATTERN = f"^{_TIME}$"
#: Offsets up to ±14:59 (every real zone); every engine and Python accept that range.
ISO_TIMESTAMP_PATTERN = f"^{_DATE}([T ]{_TIME})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?$"
#: Decimal text accepted as a number in long-layout traits; a two-digit exponent at most, so
#: no engine overflows a double (1e400 would be an error on PostgreSQL, inf in Python).
NUMBER_PATTERN = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$"


def _require(pattern: str, text: object) -> str:
    if not isinstance(text, str) or re.fullmatch(pattern, text) is None:
        raise ValueError(f"not ISO-8601 text: {text!r}")
    return text


def parse_iso_date(text: str) -> date:
    """``YYYY-MM-DD``; raises ValueError otherwise."""
    return date.fromisoformat(_require(ISO_DATE_PATTERN, text))


def parse_iso_time(text: str) -> time:
    """``HH:MM[:SS[.ffffff]]``; raises ValueError otherwise."""
    return time.fromisoformat(_require(ISO_TIME_PATTERN, text))


def parse_iso_timestamp(text: str) -> datetime:
    """An ISO-8601 date or timestamp, as an aware UTC datetime (naive text is taken as UTC).

    Accepts exactly :data:`ISO_TIMESTAMP_PATTERN`; a trailing ``Z`` works on every Python
    version we support.
    """
    _require(ISO_TIMESTAMP_PATTERN, text)
    normalised = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    parsed = datetime.fromisoformat(normalised)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise OutOfRange(f"{text!r} is outside the years 1 to 9999 in UTC") from None


class OutOfRange(ValueError):
    """ISO text that is well formed but names an instant no engine (nor Python) can hold."""
