"""Redshift: PostgreSQL's rules, Redshift's spelling (sqlglot's redshift dialect)."""

from __future__ import annotations

from sqlglot import exp

from .postgres import Postgres


class Redshift(Postgres):
    name = "redshift"
    sqlglot_dialect = "redshift"
    URL_SCHEMES = ("redshift",)
    TEXT_TYPE = "VARCHAR"
    SUPPORTS_RUNS = False  # no JSON_BUILD_OBJECT; SUPER-based payloads come with its adapter

    def parse_text(
        self, text: exp.Expr, to: str, pattern: str, cast_text: exp.Expr | None = None
    ) -> exp.Expr:
        """PostgreSQL's guarded cast, but Redshift has no MAKE_DATE: the first day of the
        month is the text's ``YYYY-MM`` plus ``-01``, cast to DATE (the guard already
        checked the month)."""
        return super().parse_text(text, to, pattern, cast_text).transform(_without_make_date)


def _without_make_date(node: exp.Expr) -> exp.Expr:
    if not (isinstance(node, exp.Anonymous) and node.name.upper() == "MAKE_DATE"):
        return node
    year = node.expressions[0]
    assert isinstance(year, exp.Cast) and isinstance(year.this, exp.Substring)
    text = year.this.this
    month = exp.Substring(
        this=text.copy(), start=exp.Literal.number(1), length=exp.Literal.number(7)
    )
    first = exp.DPipe(this=month, expression=exp.Literal.string("-01"), safe=True)
    return exp.cast(exp.paren(first), exp.DataType.build("DATE"))
