"""SQL traits: the user's SELECT, parsed in the dialect compiled for and embedded as a
subquery (never pasted as text), one row per profile key.

The query is checked when it is compiled, because only then is its dialect known: it must
parse as exactly one SELECT (a UNION, an INSERT, a second statement after ``;`` or a syntax
error is a graph error at ``$.sql_traits[i].sql``), and name its key and every trait as
output columns (a ``*`` projection hides them, so it is refused too).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from linked_audiences.compiler.context import CompileContext, col
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import DataGraph
from linked_audiences.sql import not_null, select


def parse_sql_trait(graph: DataGraph, index: int, dialect: str) -> exp.Select:
    """The SELECT of ``graph.sql_traits[index]`` with its key output as ``k0`` and each trait
    under its own (quoted) name; raises :class:`DefinitionError` naming the path.

    Unquoted identifiers are first spelled as the warehouse resolves them (upper case on
    Snowflake, lower case on PostgreSQL), since the compiled SQL quotes every identifier.
    """
    spec = graph.sql_traits[index]
    path = f"$.sql_traits[{index}].sql"

    def fail(rule: str) -> DefinitionError:
        return DefinitionError([Problem(path, rule)])

    try:
        statements = [s for s in sqlglot.parse(spec.sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise fail(f"the query does not parse as {dialect} SQL: {first}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        kinds = ", ".join(type(s).__name__.upper() for s in statements) or "nothing"
        raise fail(f"the query must be exactly one SELECT, got {kinds}")
    query = normalize_identifiers(statements[0], dialect=dialect)
    assert isinstance(query, exp.Select)
    outputs = query.expressions
    if any(isinstance(p, exp.Star) or p.is_star for p in outputs):
        raise fail("name the output columns: a * projection cannot be checked")
    wanted = {spec.key: "k0", **{t: t for t in spec.traits}}
    renamed: list[exp.Expr] = []
    found: set[str] = set()
    for projection in outputs:
        target = _match(projection.alias_or_name, wanted, found)
        if target is None:
            renamed.append(projection)
            continue
        found.add(target)
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        renamed.append(exp.alias_(inner, wanted[target], quoted=True))
    missing = [n for n in wanted if n not in found]
    if missing:
        raise fail(f"the query has no output column {missing[0]!r}")
    query.set("expressions", renamed)
    return query


def _match(name: str, wanted: dict[str, str], found: set[str]) -> str | None:
    """The wanted name an output column stands for: the same name, else the one name equal
    to it ignoring case (the warehouse may have changed an unquoted alias's case)."""
    if name in wanted and name not in found:
        return name
    folded = [w for w in wanted if w.lower() == name.lower() and w not in found]
    return folded[0] if len(folded) == 1 else None


def sql_trait_select(ctx: CompileContext, index: int, names: list[str]) -> exp.Select:
    """``k0`` and the traits ``names``, one row per key.

    A query that returns several rows for one key gives each trait its greatest value
    (booleans: true over false), so that joining the traits never repeats a profile.
    """
    query = parse_sql_trait(ctx.graph, index, ctx.dialect.sqlglot_dialect)
    spec = ctx.graph.sql_traits[index]
    source = exp.Subquery(
        this=query, alias=exp.TableAlias(this=exp.to_identifier("st", quoted=True))
    )
    columns: list[exp.Expr] = [col("st", "k0")]
    for name in names:
        value: exp.Expr = exp.Max(this=col("st", name))
        if spec.traits[name] == "boolean":
            as_number = exp.Case(
                ifs=[
                    exp.If(this=col("st", name), true=exp.Literal.number(1)),
                    exp.If(this=exp.Not(this=col("st", name)), true=exp.Literal.number(0)),
                ]
            )
            value = exp.EQ(this=exp.Max(this=as_number), expression=exp.Literal.number(1))
        columns.append(exp.alias_(value, name, quoted=True, copy=False))
    return select(columns, source, where=[not_null(col("st", "k0"))], group=[col("st", "k0")])


__all__ = ["parse_sql_trait", "sql_trait_select"]
