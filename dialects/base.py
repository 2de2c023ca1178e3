"""What every warehouse dialect provides; subclasses override data, rarely methods.

Dialects emit stock sqlglot nodes and leave the spelling to ``expr.sql(dialect=...)``; they
only decide what sqlglot cannot know (how to parse text safely, which types exist).
This package never imports ``linked_audiences``.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import unquote

from sqlglot import exp
from sqlglot.errors import ErrorLevel


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a query is built or rendered.

    sqlglot nodes point at their parents, so every node sits in a reference cycle, and the
    collections that allocating thousands of them triggers scanned the growing tree again
    and again: about half the time of compiling a 10,000-condition audience. The cycles
    are collected once, after, when the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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

    def parse_text(
        self, text: exp.Expr, to: str, pattern: str, cast_text: exp.Expr | None = None
    ) -> exp.Expr:
        """``text`` as type ``to`` when it matches ``pattern``, else NULL — never an error.

        The regex guard makes every warehouse accept exactly the same texts (their casts
        differ in leniency); TRY_CAST still protects against values like 2024-02-30.
        ``cast_text``, when given, is what is cast (the same text with its UTC offset
        written out, say) once ``text`` passed the guard.
        """
        target = exp.DataType.build(to)
        source = cast_text if cast_text is not None else text.copy()
        if self.SUPPORTS_TRY_CAST:
            cast: exp.Expr = exp.TryCast(this=source, to=target, requires_string=True)
        else:
            cast = exp.cast(source, target)
        guard = exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(pattern))
        return exp.Case(ifs=[exp.If(this=guard, true=cast)])

    def utc_wall_clock(self, instant: exp.Expr) -> exp.Expr:
        """An instant (TIMESTAMPTZ) as zone-less UTC wall-clock time, never through the
        session's zone: ``x AT TIME ZONE 'UTC'`` on PostgreSQL, DuckDB and Redshift."""
        return exp.AtTimeZone(this=instant, zone=exp.Literal.string("UTC"))

    def render(self, expression: exp.Expr, *, pretty: bool = False, copy: bool = True) -> str:
        """SQL text for this warehouse; identifiers always quoted; unsupported SQL raises.

        ``copy=False`` skips sqlglot's defensive copy of the whole tree (most of the time a
        large audience takes to render). Only for trees no dialect rewrite touches: the
        compiled audience queries, which tests/test_golden.py renders twice on every
        dialect, checking the tree is unchanged. A rewrite that acts (an ordered LISTAGG,
        say) changes the tree in place, and a second rendering would apply it again."""
        with collector_paused():
            return expression.sql(
                dialect=self.sqlglot_dialect,
                identify=True,
                pretty=pretty,
                unsupported_level=ErrorLevel.RAISE,
                copy=copy,
            )

    # --- what a run relies on (the adapter's part of runs/) ------------------------------

    #: How "one run of an audience at a time" is held: ``"session"`` — the warehouse's own
    #: session lock (:meth:`run_lock`); ``"file"`` — an embedded database that one process
    #: writes at a time; ``"lease"`` — expiring rows in the state schema (warehouses without
    #: a lock a session can take: Snowflake, BigQuery, Redshift, Databricks).
    RUN_LOCK: ClassVar[str] = "lease"
    #: UNIQUE constraints are enforced, so the commit's compare-and-swap on the baseline is
    #: one INSERT; elsewhere it is a conditional INSERT checked by reading it back.
    ENFORCES_UNIQUE: ClassVar[bool] = False
    #: B-tree indexes on the run state (PostgreSQL): delivery reads an audience's events by
    #: (run, seq) range, which is a scan of every audience's events without one. The cloud
    #: warehouses have no user indexes (they prune by partitions and clustering); DuckDB's
    #: ART index would cost every INSERT more than the scans it saves.
    STATE_INDEXES: ClassVar[bool] = False
    #: The state tables take INSERT only (plain parquet tables on Spark): rows of runs that
    #: never committed, and of pruned runs, are left in place and ignored instead of deleted.
    APPEND_ONLY: ClassVar[bool] = False
    #: CREATE SCHEMA also makes the new schema the session's current one (Snowflake), so
    #: creating the state schema must put the user's current schema back.
    CREATE_SCHEMA_SETS_CURRENT: ClassVar[bool] = False
    #: ``ALTER TABLE … ADD COLUMN IF NOT EXISTS`` exists (not on Redshift or Spark).
    ADD_COLUMN_IF_NOT_EXISTS: ClassVar[bool] = True

    def state_type(self, kind: str) -> exp.DataType:
        """The column type of a run-state column of kind ``kind`` (TEXT, BIGINT, …)."""
        return exp.DataType.build(kind)

    def is_catalog_error(self, exc: BaseException) -> bool:
        """Whether a client error means the SQL names a table or column the warehouse does
        not have (beyond DuckDB's and PostgreSQL's, which the warehouse layer knows)."""
        return False

    def is_unique_violation(self, exc: BaseException) -> bool:
        """Whether a client error is a UNIQUE constraint refusing a row (by error class or
        SQLSTATE 23505, never by the message's wording)."""
        return False

    def catalog_rows(
        self, connection: Any, fetchall: Any, names: set[str]
    ) -> tuple[list[tuple[Any, ...]], str]:
        """(catalog, schema, table, column, type) of every column of tables whose bare name
        is one of ``names`` (``schema.table`` as a graph writes them; any case), and the
        session's current schema.

        ``fetchall`` runs a sqlglot query and returns its rows. Most warehouses answer from
        ``information_schema.columns``; the rest override this.
        """
        info = exp.Table(
            this=exp.to_identifier("columns"), db=exp.to_identifier("information_schema")
        )
        query = (
            exp.select("table_catalog", "table_schema", "table_name", "column_name", "data_type")
            .from_(info)
            .where(
                exp.In(
                    this=exp.Lower(this=exp.column("table_name")),
                    expressions=[exp.Literal.string(n) for n in bare_names(names)] or [exp.null()],
                )
            )
            .order_by("ordinal_position")
        )
        rows = fetchall(query)
        current = fetchall(exp.select(exp.CurrentSchema()))
        return rows, str(current[0][0] or "") if current else ""

    def session_tags(self, connection: Any, tags: dict[str, str]) -> None:
        """Label every query this session issues from now on with ``tags`` (audience key,
        run id), so the warehouse's cost can be attributed; ``{}`` clears them. Nothing on
        warehouses without query tags."""

    def streaming_cursor(self, connection: Any) -> Any:
        """A cursor whose ``fetchmany`` reads the result as it is consumed, so an export of
        ten million rows holds one batch in this process. Most clients stream already; those
        that read the whole result on ``execute`` need a server-side cursor."""
        return connection.cursor()

    def estimate(self, connection: Any, fetchall: Any, sql: str) -> tuple[int | None, str | None]:
        """What the warehouse can tell about the query ``sql`` without running it: (bytes
        it would scan, its plan as text); most warehouses give only the plan (``EXPLAIN``).

        ``fetchall`` runs SQL through the Warehouse (its errors one line, secrets removed,
        Ctrl-C cancels). Each row of the answer is one line, its values tab-separated; a
        value that is a whole drawn plan (several lines: DuckDB's, beside its key
        ``physical_plan``) stands alone."""
        lines: list[str] = []
        for row in fetchall("EXPLAIN " + sql):
            values = [str(v) for v in row if v is not None]
            drawn = [v for v in values if "\n" in v.strip()]
            lines.append("\n".join(v.rstrip("\n") for v in drawn) if drawn else "\t".join(values))
        return None, "\n".join(lines)

    def json_object(self, pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
        """A JSON object from (key, value) pairs; NULL values stay as JSON null."""
        return exp.JSONObject(
            expressions=[
                exp.JSONKeyValue(this=exp.Literal.string(k), expression=v) for k, v in pairs
            ]
        )

    def payload_value(self, value: exp.Expr, kind: str | None) -> exp.Expr:
        """A column's value as an event payload holds it (``kind``: its declared type,
        None when undeclared); as it is where the JSON builder takes every type."""
        return value

    def json_array_agg(self, value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
        """Aggregate JSON values into a JSON array, in a stable order."""
        return exp.JSONArrayAgg(this=_ordered(value, order_by))

    def empty_json_array(self) -> exp.Expr:
        """``[]``, as a value :meth:`json_object` nests as an empty array."""
        return exp.cast(exp.Literal.string("[]"), exp.DataType.build("JSON"))

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

    def database_file(self) -> exp.Expr | None:
        """A query answering the path of the database file this session writes, for an
        embedded warehouse whose connections in one process share that file (so an
        in-process run lock must be held on the file, not the connection); None elsewhere."""
        return None

    #: URL schemes this warehouse answers to in ``la.connect``.
    URL_SCHEMES: ClassVar[tuple[str, ...]] = ()

    def connect(self, url: str, *, read_only: bool = False, create: bool = True) -> Any:
        """A DB-API connection for ``url``, with the session in UTC.

        ``read_only``: the session may not write (previews never change a warehouse).
        ``create``: an embedded database file may be created when missing.
        """
        raise ClientUnavailable(
            f"running SQL on {self.name} is not available yet; compile it with "
            f"la.compile(..., dialect={self.name!r}) and run it with your own client"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def bare_names(names: set[str]) -> list[str]:
    """The table part of each ``schema.table`` name, lower-cased, sorted."""
    return sorted({name.split(".")[-1].lower() for name in names})


class ClientUnavailable(RuntimeError):
    """The warehouse's client library is missing or its adapter is not available here."""


def split_url(url: str, scheme: str) -> str:
    """The part of ``scheme://rest`` after ``://`` (SQLAlchemy-style URLs)."""
    prefix = f"{scheme}://"
    if not url.startswith(prefix):
        raise ValueError(f"expected a {prefix} URL, got {redact_url(url)!r}")
    return url[len(prefix) :]


# --- secrets in URLs ----------------------------------------------------------------------------
#
# A warehouse URL may carry a password (``user:PASSWORD@host``), a token (Databricks'
# ``token:TOKEN@host``) or secret query parameters. Every message, repr and log line that shows
# a URL shows ``redact_url(url)``; client errors pass through ``scrub`` because some clients
# echo their connection string.

REDACTED = "***"
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|credential|private_key|key_file_pwd", re.I)


def redact_url(url: str) -> str:
    """``url`` with its password and secret query values replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:  # not scheme://…; a `user:pw@host` shape may still hide a secret
        head, at, tail = url.rpartition("@")
        if at and ":" in head:
            return f"{head.split(':', 1)[0]}:{REDACTED}@{tail}"
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, path = rest[:end], rest[end:]
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{host}"
    path, q, query = path.partition("?")
    if q:
        pairs = []
        for pair in query.split("&"):
            name, eq, _ = pair.partition("=")
            pairs.append(f"{name}={REDACTED}" if eq and _SECRET_PARAM.search(name) else pair)
        path = f"{path}?{'&'.join(pairs)}"
    return f"{scheme}://{netloc}{path}"


def url_secrets(url: str, dialect: str = "") -> list[str]:
    """The secret texts in ``url`` (raw and percent-decoded), and the password environment
    variable of ``dialect`` (``LA_<DIALECT>_PASSWORD``) when set; longest first."""
    found: set[str] = set()
    _, sep, rest = url.partition("://")
    if sep:
        end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        userinfo, at, _host = rest[:end].rpartition("@")
        if at and ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
        query = rest[end:].partition("?")[2].partition("#")[0]
        for pair in query.split("&") if query else ():
            name, eq, value = pair.partition("=")
            if eq and value and _SECRET_PARAM.search(name):
                found.add(value)
    else:
        head, at, _ = url.rpartition("@")
        if at and ":" in head:
            found.add(head.split(":", 1)[1])
    if dialect:
        env = os.environ.get(f"LA_{dialect.upper()}_PASSWORD")
        if env:
            found.add(env)
    found |= {unquote(s) for s in found}
    return sorted((s for s in found if s), key=len, reverse=True)


def scrub(text: str, url: str, dialect: str = "") -> str:
    """``text`` (an error message) with ``url`` redacted and every secret of it removed."""
    if url:
        text = text.replace(url, redact_url(url))
    for secret in url_secrets(url, dialect):
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
        else:  # a very short secret: only where it stands alone, not inside every word
            text = re.sub(rf"(?<![\w]){re.escape(secret)}(?![\w])", REDACTED, text)
    return text


def _ordered(value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
    """``value ORDER BY order_by`` inside an aggregate call."""
    return exp.Order(this=value, expressions=[exp.Ordered(this=order_by)])
