"""What every warehouse dialect provides; subclasses override data, rarely methods.

Dialects emit stock sqlglot nodes and leave the spelling to ``expr.sql(dialect=...)``; they
only decide what sqlglot cannot know (how to parse text safely, which types exist).
This package never imports ``linked_audiences``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.errors import ErrorLevel


class WarehouseDialect:
    """A warehouse's SQL quirks, as data plus a few small builders."""

    name: ClassVar[str] = ""
    sqlglot_dialect: ClassVar[str] = ""
    #: TIME columns exist (Spark has none).
    SUPPORTS_TIME: ClassVar[bool] = True
    #: TRY_CAST (or SAFE_CAST) exists; else text is cast only after the regex guard matched.
    SUPPORTS_TRY_CAST: ClassVar[bool] = True
    #: Type that primary keys are cast to for the matched-entities query.
    TEXT_TYPE: ClassVar[str] = "VARCHAR"

    def parse_text(self, text: exp.Expr, to: str, pattern: str) -> exp.Expr:
        """``text`` as type ``to`` when it matches ``pattern``, else NULL — never an error.

        The regex guard makes every warehouse accept exactly the same texts (their casts
        differ in leniency); TRY_CAST still protects against values like 2024-02-30.
        """
        target = exp.DataType.build(to)
        if self.SUPPORTS_TRY_CAST:
            cast: exp.Expr = exp.TryCast(this=text, to=target, requires_string=True)
        else:
            cast = exp.cast(text, target)
        guard = exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(pattern))
        return exp.Case(ifs=[exp.If(this=guard, true=cast)])

    def render(self, expression: exp.Expr, *, pretty: bool = False) -> str:
        """SQL text for this warehouse; identifiers always quoted; unsupported SQL raises."""
        return expression.sql(
            dialect=self.sqlglot_dialect,
            identify=True,
            pretty=pretty,
            unsupported_level=ErrorLevel.RAISE,
        )

    #: Runs (snapshots, diffs, events) are implemented for this warehouse.
    SUPPORTS_RUNS: ClassVar[bool] = False

    def json_object(self, pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
        """A JSON object from (key, value) pairs; NULL values stay as JSON null."""
        return exp.JSONObject(
            expressions=[
                exp.JSONKeyValue(this=exp.Literal.string(k), expression=v) for k, v in pairs
            ]
        )

    def json_array_agg(self, value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
        """Aggregate JSON values into a JSON array, in a stable order."""
        return exp.JSONArrayAgg(this=_ordered(value, order_by))

    def json_text(self, json: exp.Expr) -> exp.Expr:
        """The JSON value as text, for storing and sending."""
        return exp.cast(json, exp.DataType.build(self.TEXT_TYPE, dialect=self.sqlglot_dialect))

    def run_lock(self, key: str) -> exp.Expr | None:
        """A query answering TRUE when this session now holds the run lock of ``key``,
        FALSE when another session does; None when the warehouse locks by itself (DuckDB
        lets one process write a database file at a time)."""
        return None

    def run_unlock(self, key: str) -> exp.Expr | None:
        """The query that releases what :meth:`run_lock` took, at the end of every run: a
        lock lasts one run, not the session. None when there is nothing to release."""
        return None

    #: URL schemes this warehouse answers to in ``la.connect``.
    URL_SCHEMES: ClassVar[tuple[str, ...]] = ()

    def connect(self, url: str) -> Any:
        """A DB-API connection for ``url``, with the session in UTC (SPEC §1)."""
        raise ClientUnavailable(
            f"running SQL on {self.name} is not available yet; compile it with "
            f"la.compile(..., dialect={self.name!r}) and run it with your own client"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class ClientUnavailable(RuntimeError):
    """The warehouse's client library is missing or its adapter is not available here."""


def split_url(url: str, scheme: str) -> str:
    """The part of ``scheme://rest`` after ``://`` (SQLAlchemy-style URLs)."""
    prefix = f"{scheme}://"
    if not url.startswith(prefix):
        raise ValueError(f"expected a {prefix} URL, got {url!r}")
    return url[len(prefix) :]


def _ordered(value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
    """``value ORDER BY order_by`` inside an aggregate call."""
    return exp.Order(this=value, expressions=[exp.Ordered(this=order_by)])
