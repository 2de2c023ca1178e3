"""Redshift: PostgreSQL's rules, Redshift's spelling (sqlglot's redshift dialect)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from .base import ClientUnavailable, redact_url
from .postgres import Postgres
from .urls import client_kwargs, parse_url


class Redshift(Postgres):
    name = "redshift"
    sqlglot_dialect = "redshift"
    URL_SCHEMES = ("redshift",)
    TEXT_TYPE = "VARCHAR"
    # Redshift has neither advisory locks nor enforced UNIQUE constraints.
    RUN_LOCK = "lease"
    ENFORCES_UNIQUE = False
    STATE_INDEXES = False  # Redshift has sort keys, not indexes
    ADD_COLUMN_IF_NOT_EXISTS = False

    def run_lock(self, key: str) -> exp.Expr | None:
        return None

    def streaming_cursor(self, connection: Any) -> Any:
        """redshift-connector's own cursor (it has no server-side cursors of psycopg's kind;
        it reads a result whole, so exports on Redshift hold it in memory: docs/insights.md)."""
        return connection.cursor()

    def run_unlock(self, key: str) -> exp.Expr | None:
        return None

    def is_unique_violation(self, exc: BaseException) -> bool:
        return False

    def is_catalog_error(self, exc: BaseException) -> bool:
        """redshift-connector carries the server's fields as a dict: ``C`` is the SQLSTATE
        (undefined table, column, function, schema)."""
        fields = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        return fields.get("C") in ("42P01", "42703", "42883", "3F000")

    def render(self, expression: exp.Expr, *, pretty: bool = False, copy: bool = True) -> str:
        """TEXT as VARCHAR(65535), the longest Redshift has: sqlglot spells it VARCHAR(MAX),
        which means the same on Redshift but which no PostgreSQL-based tool parses. The
        rewrite works on a copy (the caller's tree keeps TEXT), which is then ours to render
        without another."""

        def longest_varchar(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TEXT:
                return exp.DataType.build("VARCHAR(65535)")
            return node

        return super().render(expression.transform(longest_varchar), pretty=pretty, copy=False)

    def parse_text(
        self, text: exp.Expr, to: str, pattern: str, cast_text: exp.Expr | None = None
    ) -> exp.Expr:
        """PostgreSQL's guarded cast, but Redshift has no MAKE_DATE: the first day of the
        month is the text's ``YYYY-MM`` plus ``-01``, cast to DATE (the guard already
        checked the month)."""
        return super().parse_text(text, to, pattern, cast_text).transform(_without_make_date)

    # --- payloads: Redshift builds JSON as SUPER values --------------------------------------

    def json_object(self, pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
        """OBJECT(k, v, …), a SUPER value (Redshift has no JSON_BUILD_OBJECT)."""
        args: list[exp.Expr] = []
        for key, value in pairs:
            args += [exp.Literal.string(key), value]
        return exp.Anonymous(this="OBJECT", expressions=args)

    def empty_json_array(self) -> exp.Expr:
        return exp.Anonymous(this="JSON_PARSE", expressions=[exp.Literal.string("[]")])

    def json_text(self, json: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="JSON_SERIALIZE", expressions=[json])

    def json_array_agg(self, value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
        """The items' JSON texts joined by LISTAGG in order, parsed back into a SUPER array
        (Redshift has no array aggregate)."""
        joined = exp.WithinGroup(
            this=exp.GroupConcat(this=self.json_text(value), separator=exp.Literal.string(",")),
            expression=exp.Order(expressions=[exp.Ordered(this=order_by)]),
        )
        text = exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string("["), expression=joined, safe=True),
            expression=exp.Literal.string("]"),
            safe=True,
        )
        return exp.Anonymous(this="JSON_PARSE", expressions=[text])

    def payload_value(self, value: exp.Expr, kind: str | None) -> exp.Expr:
        """OBJECT takes no date or time value (they do not convert to SUPER): those go in
        as text."""
        if kind in ("date", "time", "timestamp"):
            return exp.cast(value, exp.DataType.build("VARCHAR"))
        return value

    def session_tags(self, connection: Any, tags: dict[str, str]) -> None:
        """query_group: a label (at most 320 characters) Redshift records with each query
        (STL_QUERY.label)."""
        value = " ".join(f"{k}={v}" for k, v in sorted(tags.items()))[:320]
        cursor = connection.cursor()
        try:
            if value:
                cursor.execute(f"SET query_group TO {exp.Literal.string(value).sql('redshift')}")
            else:
                cursor.execute("RESET query_group")
        finally:
            cursor.close()

    def connect(self, url: str, *, read_only: bool = False, create: bool = True) -> Any:
        """redshift-connector, autocommit, session time zone UTC.

        ``redshift://user@host:5439/db``: the password from the URL or
        ``$LA_REDSHIFT_PASSWORD``; IAM with ``iam=true`` (plus the client's own IAM
        parameters: ``cluster_identifier``, ``profile``, …); every other parameter goes to
        ``redshift_connector.connect`` as given (``ssl=false``, ``timeout=30``).
        """
        try:
            import redshift_connector
        except ImportError as exc:
            raise ClientUnavailable(
                'Redshift needs its client: pip install "linked-audiences[redshift]"'
            ) from exc
        parts = parse_url(url, "redshift")
        if not parts.host or len(parts.path) != 1:
            raise ValueError(
                f"expected redshift://user@host:port/database, got {redact_url(url)!r}"
            )
        options: dict[str, Any] = {"host": parts.host, "database": parts.path[0]}
        if parts.port:
            options["port"] = parts.port
        if parts.user:
            options["user"] = parts.user
        password = parts.secret(self.name)
        if password:
            options["password"] = password
        options.update(client_kwargs(parts.params))
        connection = redshift_connector.connect(**options)
        connection.autocommit = True
        cursor = connection.cursor()
        try:
            cursor.execute("SET timezone TO 'UTC'")
        finally:
            cursor.close()
        return connection


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
