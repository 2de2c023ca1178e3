"""SPEC §3 operators as sqlglot predicates.

A predicate is NULL or false whenever ``x`` (or the reference) is NULL, except ``not_exists``;
callers that negate wrap it in ``COALESCE(…, FALSE)`` so that ``without`` is a true complement.
String operators never use LIKE, so ``%``, ``_`` and ``\\`` are ordinary characters.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from linked_audiences.compiler.context import CompileContext, string
from linked_audiences.conditions import Scalar, Value
from linked_audiences.datatypes import (
    DataType,
    parse_iso_date,
    parse_iso_time,
    parse_iso_timestamp,
)

_ORDERINGS: dict[str, type[exp.Binary]] = {
    "equals": exp.EQ,
    "not_equals": exp.NEQ,
    "less_than": exp.LT,
    "greater_than": exp.GT,
    "less_than_or_equal": exp.LTE,
    "greater_than_or_equal": exp.GTE,
}


def literal(ctx: CompileContext, dtype: DataType, value: Scalar) -> exp.Expr:
    """A definition value as a literal of the column's type."""
    if dtype == "string":
        assert isinstance(value, str)
        return string(value)
    if dtype == "number":
        assert isinstance(value, (int, float)) and not isinstance(value, bool)
        return exp.Literal.number(repr(value))
    if dtype == "boolean":
        return exp.true() if value else exp.false()
    assert isinstance(value, str)
    if dtype == "date":
        return ctx.date(parse_iso_date(value))
    if dtype == "time":
        ctx.require_type("time")
        return exp.cast(string(parse_iso_time(value).isoformat()), exp.DataType.build("TIME"))
    return ctx.timestamp(parse_iso_timestamp(value))


def comparison(
    ctx: CompileContext,
    x: exp.Expr,
    dtype: DataType,
    operator: str,
    value: Value | None,
    reference: exp.Expr | None,
) -> exp.Expr:
    """``x <operator> value|reference`` for a column of type ``dtype``."""
    if dtype == "time":
        ctx.require_type("time")
    if operator == "exists":
        return exp.Not(this=exp.Is(this=x, expression=exp.null()))
    if operator == "not_exists":
        return exp.Is(this=x, expression=exp.null())
    builder = _BUILDERS.get(operator)
    if builder is not None:
        return builder(ctx, x, dtype, value, reference)
    other = reference if reference is not None else literal(ctx, dtype, _scalar(value))
    return _ORDERINGS[operator](this=x, expression=other)


def _scalar(value: Value | None) -> Scalar:
    assert value is not None and not isinstance(value, list)
    return value


def _text(value: Value | None, reference: exp.Expr | None) -> exp.Expr:
    if reference is not None:
        return reference
    assert isinstance(value, str)
    return string(value)


def _contains(x: exp.Expr, needle: exp.Expr) -> exp.Expr:
    return exp.GT(this=exp.StrPosition(this=x, substr=needle), expression=exp.Literal.number(0))


def _length(value: Value | None, reference: exp.Expr | None) -> exp.Expr:
    if reference is not None:
        return exp.Length(this=reference.copy())
    assert isinstance(value, str)
    return exp.Literal.number(len(value))


def _b_contains(
    ctx: CompileContext,
    x: exp.Expr,
    dtype: DataType,
    value: Value | None,
    reference: exp.Expr | None,
) -> exp.Expr:
    return _contains(x, _text(value, reference))


def _b_does_not_contain(
    ctx: CompileContext,
    x: exp.Expr,
    dtype: DataType,
    value: Value | None,
    reference: exp.Expr | None,
) -> exp.Expr:
    return exp.EQ(
        this=exp.StrPosition(this=x, substr=_text(value, reference)),
        expression=exp.Literal.number(0),
    )


def _b_starts_with(
    ctx: CompileContext,
    x: exp.Expr,
    dtype: DataType,
    value: Value | None,
    reference: exp.Expr | None,
) -> exp.Expr:
    return exp.EQ(
        this=exp.Left(this=x, expression=_length(value, reference)),
        expression=_text(value, reference),
    )


def _b_ends_with(
    ctx: CompileContext,
    x: exp.Expr,
    dtype: DataType,
    value: Value | None,
    reference: exp.Expr | None,
) -> exp.Expr:
    return exp.EQ(
        this=exp.Right(this=x, expression=_length(value, reference)),
        expression=_text(value, reference),
    )


def _b_equals_any_of(
    ctx: CompileContext,
    x: exp.Expr,
    dtype: DataType,
    value: Value | None,
    reference: exp.Expr | None,
) -> exp.Expr:
    assert isinstance(value, list)
    return exp.In(this=x, expressions=[literal(ctx, dtype, v) for v in value])


def _b_contains_any_of(
    ctx: CompileContext,
    x: exp.Expr,
    dtype: DataType,
    value: Value | None,
    reference: exp.Expr | None,
) -> exp.Expr:
    assert isinstance(value, list)
    return exp.or_(*(_contains(x.copy(), string(str(v))) for v in value), wrap=True)


def _instant(ctx: CompileContext, x: exp.Expr, dtype: DataType) -> exp.Expr:
    """Date-like operators read ISO text from string columns (SPEC §3)."""
    return ctx.from_text(x, "timestamp") if dtype == "string" else x


def _kind(dtype: DataType) -> DataType:
    return "date" if dtype == "date" else "timestamp"


def _b_date(op: type[exp.Binary]) -> Callable[..., exp.Expr]:
    def build(
        ctx: CompileContext,
        x: exp.Expr,
        dtype: DataType,
        value: Value | None,
        reference: exp.Expr | None,
    ) -> exp.Expr:
        assert isinstance(value, str)
        moment = parse_iso_timestamp(value)
        bound = ctx.date(moment.date()) if dtype == "date" else ctx.timestamp(moment)
        return op(this=_instant(ctx, x, dtype), expression=bound)

    return build


def _b_days(
    start: int | None, end: int | None, strict: type[exp.Binary] | None = None
) -> Callable[..., exp.Expr]:
    """``as_of + start·N ≤ x ≤ as_of + end·N`` (signs as multipliers), or one strict bound."""

    def build(
        ctx: CompileContext,
        x: exp.Expr,
        dtype: DataType,
        value: Value | None,
        reference: exp.Expr | None,
    ) -> exp.Expr:
        assert isinstance(value, int)
        moment = _instant(ctx, x, dtype)
        if strict is not None:
            sign = -1 if strict is exp.LT else 1
            return strict(this=moment, expression=ctx.days_from_as_of(sign * value, _kind(dtype)))
        assert start is not None and end is not None
        return exp.Between(
            this=moment,
            low=ctx.days_from_as_of(start * value, _kind(dtype)),
            high=ctx.days_from_as_of(end * value, _kind(dtype)),
        )

    return build


_BUILDERS: dict[str, Callable[..., exp.Expr]] = {
    "contains": _b_contains,
    "does_not_contain": _b_does_not_contain,
    "starts_with": _b_starts_with,
    "ends_with": _b_ends_with,
    "equals_any_of": _b_equals_any_of,
    "contains_any_of": _b_contains_any_of,
    "before_date": _b_date(exp.LT),
    "after_date": _b_date(exp.GT),
    "within_last": _b_days(-1, 0),
    "within_next": _b_days(0, 1),
    "before_last": _b_days(None, None, exp.LT),
    "after_next": _b_days(None, None, exp.GT),
}
