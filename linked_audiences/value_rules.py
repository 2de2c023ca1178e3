"""Whether a literal value fits an operator on a column type: the rules behind the ``value``
of every comparison."""

from __future__ import annotations

from collections.abc import Callable

from linked_audiences.datatypes import (
    DataType,
    OutOfRange,
    parse_iso_date,
    parse_iso_time,
    parse_iso_timestamp,
)

DATE_OPS = ("before_date", "after_date")
DAY_OPS = ("within_last", "within_next", "before_last", "after_next")
TEXT_OPS = ("contains", "does_not_contain", "starts_with", "ends_with")


def value_rule(op: str, dtype: DataType, value: object) -> str | None:
    """Why ``value`` does not fit ``op`` on a ``dtype`` column, or None when it does."""
    if op in DAY_OPS:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else f"{op} takes a whole number of days >= 0"
    if op in DATE_OPS:
        rule = iso_rule(value, "timestamp")
        return f"{op} takes an ISO-8601 date or timestamp" if rule == "" else rule
    if op in TEXT_OPS:
        return None if isinstance(value, str) else f"{op} takes a string"
    if op in ("equals_any_of", "contains_any_of"):
        item_type: DataType = "string" if op == "contains_any_of" else dtype
        if not isinstance(value, list) or not value:
            return f"{op} takes a non-empty list"
        bad = [i for i, item in enumerate(value) if scalar_rule(item_type, item)]
        return f"{op} takes a list of {item_type}s; item {bad[0]} is not one" if bad else None
    return scalar_rule(dtype, value)


def scalar_rule(dtype: DataType, value: object) -> str | None:
    if dtype == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif dtype == "boolean":
        ok = isinstance(value, bool)
    elif dtype == "string":
        ok = isinstance(value, str)
    else:
        rule = iso_rule(value, dtype)
        if rule:  # well-formed text that names an unusable instant
            return rule
        ok = rule is None
    if ok:
        return None
    shape = {
        "date": "an ISO date (YYYY-MM-DD)",
        "time": "a time (HH:MM:SS)",
        "timestamp": "an ISO-8601 timestamp",
    }.get(dtype, f"a {dtype}")
    return f"expected {shape}, got {value!r}"


def iso_rule(value: object, dtype: str) -> str | None:
    """None when ``value`` is ISO text of ``dtype``; ``""`` when it is not ISO text at all;
    else why the text cannot be used (a well-formed instant outside the years 1–9999)."""
    parse: Callable[[str], object] = {"date": parse_iso_date, "time": parse_iso_time}.get(
        dtype, parse_iso_timestamp
    )
    if not isinstance(value, str):
        return ""
    try:
        parse(value)
    except OutOfRange as exc:
        return str(exc)
    except ValueError:
        return ""
    return None
