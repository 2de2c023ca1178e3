"""Snowflake: TRY_CAST takes text only, which the compiler always gives it."""

from __future__ import annotations

import json
from typing import Any

from sqlglot import exp

from .base import ClientUnavailable, WarehouseDialect, redact_url
from .urls import client_kwargs, parse_url


class Snowflake(WarehouseDialect):
    name = "snowflake"
    sqlglot_dialect = "snowflake"
    URL_SCHEMES = ("snowflake",)
    CREATE_SCHEMA_SETS_CURRENT = True

    def render(self, expression: exp.Expr, *, pretty: bool = False, copy: bool = True) -> str:
        """Snowflake's REGEXP_LIKE matches the whole text, as if its pattern were written
        ``^…$``, but sqlglot writes a searching RegexpLike as REGEXP_LIKE unchanged: a
        pattern meant to be found anywhere (a timestamp text's offset, ``(Z|±hh:mm)$``)
        never matched, and every long-layout timestamp trait with an offset read as NULL.
        A pattern not anchored at both ends is searched with ``REGEXP_INSTR(…) > 0``
        instead; anchored ones (the type guards) mean the same either way and stay. The
        rewrite works on a copy (the caller's tree keeps its RegexpLike), rendered as is."""
        if not any(_searching(node) for node in expression.find_all(exp.RegexpLike)):
            return super().render(expression, pretty=pretty, copy=copy)
        return super().render(expression.transform(_as_search), pretty=pretty, copy=False)

    def utc_wall_clock(self, instant: exp.Expr) -> exp.Expr:
        """CONVERT_TIMEZONE('UTC', x) keeps a TIMESTAMP_TZ; the cast drops the (UTC) zone."""
        converted = exp.Anonymous(
            this="CONVERT_TIMEZONE", expressions=[exp.Literal.string("UTC"), instant]
        )
        return exp.cast(converted, exp.DataType.build("TIMESTAMPNTZ"))

    def empty_json_array(self) -> exp.Expr:
        return exp.Anonymous(this="ARRAY_CONSTRUCT", expressions=[])

    def is_catalog_error(self, exc: BaseException) -> bool:
        """2003: object does not exist or not authorized; 904: invalid identifier."""
        return getattr(exc, "errno", None) in (2003, 904)

    def json_text(self, json: exp.Expr) -> exp.Expr:
        """TO_JSON: an OBJECT does not cast to VARCHAR."""
        return exp.Anonymous(this="TO_JSON", expressions=[json])

    def json_array_agg(self, value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
        """ARRAY_AGG(value) WITHIN GROUP (ORDER BY …): Snowflake has no JSON_ARRAYAGG."""
        return exp.WithinGroup(
            this=exp.ArrayAgg(this=value),
            expression=exp.Order(expressions=[exp.Ordered(this=order_by)]),
        )

    def session_tags(self, connection: Any, tags: dict[str, str]) -> None:
        """QUERY_TAG (JSON text, at most 2000 characters) on every query of the session."""
        value = json.dumps(tags, sort_keys=True)[:2000] if tags else ""
        literal = exp.Literal.string(value).sql("snowflake")
        _execute(connection, f"ALTER SESSION SET QUERY_TAG = {literal}")

    def connect(self, url: str, *, read_only: bool = False, create: bool = True) -> Any:
        """snowflake-connector-python, session TIMEZONE UTC.

        ``snowflake://user@account/database/schema?warehouse=W&role=R``: the password from
        the URL or ``$LA_SNOWFLAKE_PASSWORD``; key-pair auth with ``private_key_file=…``
        (and ``private_key_file_pwd``), browser SSO with ``authenticator=externalbrowser``;
        every other parameter goes to ``snowflake.connector.connect`` as given.
        """
        try:
            import snowflake.connector
        except ImportError as exc:
            raise ClientUnavailable(
                'Snowflake needs its client: pip install "linked-audiences[snowflake]"'
            ) from exc
        parts = parse_url(url, "snowflake")
        if not parts.host:
            raise ValueError(f"no account in {redact_url(url)!r}: snowflake://user@ACCOUNT/db")
        if not parts.user:
            raise ValueError(
                f"no user in {redact_url(url)!r}: snowflake://USER@account/database/schema"
            )
        options: dict[str, Any] = {"account": parts.host, "user": parts.user}
        password = parts.secret(self.name)
        if password:
            options["password"] = password
        for name, value in zip(("database", "schema"), parts.path, strict=False):
            options[name] = value
        if len(parts.path) > 2:
            raise ValueError(
                f"expected snowflake://user@account/database/schema, got {redact_url(url)!r}"
            )
        options.update(client_kwargs(parts.params))
        session = dict(options.pop("session_parameters", None) or {})
        session["TIMEZONE"] = "UTC"
        return snowflake.connector.connect(**options, session_parameters=session)


def _searching(node: exp.RegexpLike) -> bool:
    """A RegexpLike meant as a search whose pattern does not already span the whole text."""
    if node.args.get("full_match"):
        return False
    pattern = node.expression
    return not (isinstance(pattern, exp.Literal) and pattern.is_string and _anchored(pattern.name))


def _anchored(pattern: str) -> bool:
    """``^…$`` with no alternative outside parentheses (``^a|b$`` is not anchored)."""
    if not pattern.startswith("^") or not pattern.endswith("$") or pattern.endswith("\\$"):
        return False
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return False
    return True


def _as_search(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.RegexpLike) or not _searching(node):
        return node
    found = exp.RegexpInstr(this=node.this, expression=node.expression)
    flag = node.args.get("flag")
    if flag is not None:  # REGEXP_INSTR(subject, pattern, position, occurrence, option, flags)
        one, zero = exp.Literal.number(1), exp.Literal.number(0)
        found.set("position", one)
        found.set("occurrence", one.copy())
        found.set("option", zero)
        found.set("parameters", flag)
    return exp.GT(this=found, expression=exp.Literal.number(0))


def _execute(connection: Any, statement: str) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()
