"""Aggregate conditions: ``sum``/``avg``/``min``/``max``/``count_distinct`` over a node's rows.

An aggregate compared with a literal becomes a HAVING on the node's keyed CTE, like a count:
the CTE keeps the keys for which it holds. Only ``count_distinct`` is defined over no rows
(it is 0; the others are NULL, so the condition is false), so when ``0 <op> value`` holds the
CTE instead keeps the keys for which the comparison *fails* and the node holds where a key is
absent — the same trick as ``at_most``. Compared with a reference, the answer for a parent
without rows depends on that parent's own value, so the CTE carries the aggregate and the
parent compares it (docs/compiler.md, "Aggregates").
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from linked_audiences.compiler.context import CompileContext, Storage
from linked_audiences.compiler.predicates import comparison
from linked_audiences.conditions import Aggregate
from linked_audiences.datatypes import DataType
from linked_audiences.sql import cast_to

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "equals": lambda a, b: a == b,
    "not_equals": lambda a, b: a != b,
    "less_than": lambda a, b: a < b,
    "greater_than": lambda a, b: a > b,
    "less_than_or_equal": lambda a, b: a <= b,
    "greater_than_or_equal": lambda a, b: a >= b,
}


def result_type(aggregate: Aggregate, dtype: DataType) -> DataType:
    """The aggregate's own type: a number, except ``min``/``max``, which keep the column's."""
    return dtype if aggregate.function in ("min", "max") else "number"


def holds_over_nothing(aggregate: Aggregate) -> bool:
    """Whether the condition holds for a parent without rows: only ``count_distinct`` (0)
    compared with a literal can; a reference is decided per parent."""
    if aggregate.function != "count_distinct" or aggregate.reference is not None:
        return False
    value = aggregate.value
    assert isinstance(value, (int, float)) and not isinstance(value, bool)
    return _COMPARE[aggregate.operator](0, value)


def measure(
    ctx: CompileContext, aggregate: Aggregate, x: exp.Expr, dtype: DataType, storage: Storage
) -> exp.Expr:
    """The aggregate over column ``x``; NULLs are skipped by every function."""
    x = ctx.as_declared(x, dtype, storage)
    function = aggregate.function
    if function == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[x]))
    if function == "sum":
        return exp.Sum(this=x)
    if function == "avg":
        # Some warehouses (Redshift) average whole numbers into a whole number.
        return exp.Avg(this=cast_to(x, "DOUBLE"))
    return exp.Min(this=x) if function == "min" else exp.Max(this=x)


def compare(
    ctx: CompileContext,
    aggregate: Aggregate,
    value: exp.Expr,
    dtype: DataType,
    storage: Storage,
    reference: exp.Expr | None = None,
) -> exp.Expr:
    """``value <op> literal|reference``, with literals of the column's stored kind."""
    kind = result_type(aggregate, dtype)
    stored: Storage = storage if kind == dtype else "aware"
    literal = None if reference is not None else aggregate.value
    return comparison(ctx, value, kind, aggregate.operator, literal, reference, stored)


def having(
    ctx: CompileContext, aggregate: Aggregate, dtype: DataType, storage: Storage
) -> tuple[Callable[[exp.Expr], exp.Expr], bool]:
    """The HAVING for a literal comparison, and whether the node holds where a key is present
    (else where it is absent: see the module docstring)."""
    if holds_over_nothing(aggregate):
        return (lambda m: exp.Not(this=compare(ctx, aggregate, m, dtype, storage))), False
    return (lambda m: compare(ctx, aggregate, m, dtype, storage)), True
