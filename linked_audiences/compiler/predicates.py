"""The operators of conditions (docs/definitions.md) as sqlglot predicates.

A predicate is NULL or false whenever ``x`` (or the reference) is NULL, except ``not_exists``;
callers that negate wrap it in ``COALESCE(…, FALSE)`` so that ``without`` is a true complement.
String operators never use LIKE, so ``%``, ``_`` and ``\\`` are ordinary characters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from linked_audiences.compiler.context import CompileContext, Storage, string
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


def literal(
    ctx: CompileContext, dtype: DataType, value: Scalar, storage: Storage = "aware"
) -> exp.Expr:
    """A definition value as a literal of the column's type (and stored kind)."""
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
        return ctx.time_literal(parse_iso_time(value).isoformat())
    return ctx.timestamp(parse_iso_timestamp(value), storage)


@dataclass(frozen=True)
class Operand:
    """What an operator compares: ``x`` (of type ``dtype``) with a value or a reference."""

    ctx: CompileContext
    x: exp.Expr
    dtype: DataType
    value: Value | None
    reference: exp.Expr | None
    #: How ``x`` is stored, so literals compare without the session zone.
    storage: Storage = "aware"

    def text(self) -> exp.Expr:
        if self.reference is not None:
            return self.reference
        assert isinstance(self.value, str)
        return string(self.value)

    def length(self) -> exp.Expr:
        if self.reference is not None:
            return exp.Length(this=self.reference.copy())
        assert isinstance(self.value, str)
        return exp.Literal.number(len(self.value))

    def instant(self) -> exp.Expr:
        """Date-like operators read ISO text from string columns."""
        return self.ctx.from_text(self.x, "timestamp") if self.dtype == "string" else self.x

    def kind(self) -> DataType:
        return "date" if self.dtype == "date" else "timestamp"

    def instant_storage(self) -> Storage:
        """ISO text parses to an instant; stored columns keep their own kind."""
        return "aware" if self.dtype == "string" else self.storage

    def bound(self, days: int) -> exp.Expr:
        return self.ctx.days_from_as_of(days, self.kind(), self.instant_storage())


def comparison(
    ctx: CompileContext,
    x: exp.Expr,
    dtype: DataType,
    operator: str,
    value: Value | None,
    reference: exp.Expr | None,
    storage: Storage = "aware",
) -> exp.Expr:
    """``x <operator> value|reference`` for a column of type ``dtype``, stored as ``storage``."""
    if operator == "exists":
        return exp.Not(this=exp.Is(this=x, expression=exp.null()))
    if operator == "not_exists":
        return exp.Is(this=x, expression=exp.null())
    builder = _BUILDERS.get(operator)
    if builder is not None:
        return builder(Operand(ctx, x, dtype, value, reference, storage))
    other = reference if reference is not None else literal(ctx, dtype, _scalar(value), storage)
    return _ORDERINGS[operator](this=x, expression=other)


def _scalar(value: Value | None) -> Scalar:
    assert value is not None and not isinstance(value, list)
    return value


def _position(x: exp.Expr, needle: exp.Expr) -> exp.Expr:
    return exp.StrPosition(this=x, substr=needle)


def _contains(o: Operand) -> exp.Expr:
    return exp.GT(this=_position(o.x, o.text()), expression=exp.Literal.number(0))


def _does_not_contain(o: Operand) -> exp.Expr:
    return exp.EQ(this=_position(o.x, o.text()), expression=exp.Literal.number(0))


def _affix(side: type[exp.Left] | type[exp.Right]) -> Callable[[Operand], exp.Expr]:
    """starts_with / ends_with as LEFT/RIGHT(x, len(v)) = v: no LIKE, nothing to escape."""

    def build(o: Operand) -> exp.Expr:
        return exp.EQ(this=side(this=o.x, expression=o.length()), expression=o.text())

    return build


def _equals_any_of(o: Operand) -> exp.Expr:
    assert isinstance(o.value, list)
    return exp.In(this=o.x, expressions=[literal(o.ctx, o.dtype, v, o.storage) for v in o.value])


def _contains_any_of(o: Operand) -> exp.Expr:
    assert isinstance(o.value, list)
    tests = (
        exp.GT(this=_position(o.x.copy(), string(str(v))), expression=exp.Literal.number(0))
        for v in o.value
    )
    return exp.or_(*tests, wrap=True)


def _date(op: type[exp.Binary]) -> Callable[[Operand], exp.Expr]:
    def build(o: Operand) -> exp.Expr:
        assert isinstance(o.value, str)
        moment = parse_iso_timestamp(o.value)
        if o.dtype == "date":
            bound = o.ctx.date(moment.date())
        else:
            bound = o.ctx.timestamp(moment, o.instant_storage())
        return op(this=o.instant(), expression=bound)

    return build


def _within(start: int, end: int) -> Callable[[Operand], exp.Expr]:
    """``as_of + start·N ≤ x ≤ as_of + end·N``."""

    def build(o: Operand) -> exp.Expr:
        assert isinstance(o.value, int)
        return exp.Between(
            this=o.instant(),
            low=o.bound(start * o.value),
            high=o.bound(end * o.value),
        )

    return build


def _beyond(op: type[exp.LT] | type[exp.GT], sign: int) -> Callable[[Operand], exp.Expr]:
    """``x < as_of − N`` (before_last) or ``x > as_of + N`` (after_next)."""

    def build(o: Operand) -> exp.Expr:
        assert isinstance(o.value, int)
        return op(this=o.instant(), expression=o.bound(sign * o.value))

    return build


_BUILDERS: dict[str, Callable[[Operand], exp.Expr]] = {
    "contains": _contains,
    "does_not_contain": _does_not_contain,
    "starts_with": _affix(exp.Left),
    "ends_with": _affix(exp.Right),
    "equals_any_of": _equals_any_of,
    "contains_any_of": _contains_any_of,
    "before_date": _date(exp.LT),
    "after_date": _date(exp.GT),
    "within_last": _within(-1, 0),
    "within_next": _within(0, 1),
    "before_last": _beyond(exp.LT, -1),
    "after_next": _beyond(exp.GT, 1),
}
