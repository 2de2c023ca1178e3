"""PostgreSQL: no TRY_CAST (sqlglot would silently write CAST), so casts are regex-guarded."""

from __future__ import annotations

import os
import uuid
from typing import Any, ClassVar

from sqlglot import exp

from .base import ClientUnavailable, WarehouseDialect, redact_url


class Postgres(WarehouseDialect):
    name = "postgres"
    sqlglot_dialect = "postgres"
    SUPPORTS_TRY_CAST = False
    TEXT_TYPE = "TEXT"
    URL_SCHEMES: ClassVar[tuple[str, ...]] = ("postgresql", "postgres")
    RUN_LOCK = "session"
    ENFORCES_UNIQUE = True
    STATE_INDEXES = True

    def is_unique_violation(self, exc: BaseException) -> bool:
        return getattr(exc, "sqlstate", None) == "23505"

    def parse_text(
        self, text: exp.Expr, to: str, pattern: str, cast_text: exp.Expr | None = None
    ) -> exp.Expr:
        """Without TRY_CAST, a well-formed but impossible date (2024-02-30) would be an error:
        also check the day against the month's length before casting."""
        guarded = super().parse_text(text, to, pattern, cast_text)
        if to.upper() not in ("DATE", "TIMESTAMPTZ", "TIMESTAMP"):
            return guarded

        def part(start: int, length: int) -> exp.Expr:
            piece = exp.Substring(
                this=text.copy(), start=exp.Literal.number(start), length=exp.Literal.number(length)
            )
            return exp.cast(piece, exp.DataType.build("INT"))

        first = exp.Anonymous(
            this="MAKE_DATE", expressions=[part(1, 4), part(6, 2), exp.Literal.number(1)]
        )
        last_day = exp.Extract(
            this=exp.var("DAY"),
            expression=exp.Sub(
                this=exp.Add(
                    this=first,
                    expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("MONTH")),
                ),
                expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY")),
            ),
        )
        day_fits = exp.LTE(this=part(9, 2), expression=last_day)
        assert isinstance(guarded, exp.Case)
        shape, cast = guarded.args["ifs"][0].this, guarded.args["ifs"][0].args["true"]
        return exp.Case(
            ifs=[exp.If(this=shape, true=exp.Case(ifs=[exp.If(this=day_fits, true=cast)]))]
        )

    def run_lock(self, key: str) -> exp.Expr | None:
        """A session advisory lock: released by the server when the session ends, so a
        killed run never leaves a stale lock behind."""
        lock_key = exp.Anonymous(
            this="HASHTEXTEXTENDED",
            expressions=[exp.Literal.string(f"linked-audiences:{key}"), exp.Literal.number(0)],
        )
        return exp.select(exp.Anonymous(this="PG_TRY_ADVISORY_LOCK", expressions=[lock_key]))

    def run_unlock(self, key: str) -> exp.Expr | None:
        """Releases the run lock at the end of a run (TRUE when this session held it): a
        lock lasts one run, so an idle session never blocks another's runs."""
        lock = self.run_lock(key)
        assert isinstance(lock, exp.Select)
        (call,) = lock.expressions
        return exp.select(exp.Anonymous(this="PG_ADVISORY_UNLOCK", expressions=call.expressions))

    def json_object(self, pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
        """JSON_BUILD_OBJECT: PostgreSQL before 16 has no SQL/JSON JSON_OBJECT(k: v)."""
        args: list[exp.Expr] = []
        for key, value in pairs:
            args += [exp.Literal.string(key), value]
        return exp.Anonymous(this="JSON_BUILD_OBJECT", expressions=args)

    def streaming_cursor(self, connection: Any) -> Any:
        """A server-side cursor: psycopg's ordinary cursor reads the whole result into the
        client on ``execute``. ``WITH HOLD`` so it also works outside a transaction
        (connections here are autocommit); the server keeps the rows, the client one batch."""
        return connection.cursor(name=f"la_stream_{uuid.uuid4().hex[:16]}", withhold=True)

    def connect(self, url: str, *, read_only: bool = False, create: bool = True) -> Any:
        """psycopg, autocommit, session in UTC; ``read_only`` sets
        ``default_transaction_read_only`` so not even a mistaken statement can write. The
        password comes from the URL, ``$LA_POSTGRES_PASSWORD`` or libpq's own variables."""
        try:
            import psycopg  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise ClientUnavailable(
                'PostgreSQL needs its client: pip install "linked-audiences[postgres]"'
            ) from exc
        extra: dict[str, Any] = {}
        password = os.environ.get("LA_POSTGRES_PASSWORD")
        if password and redact_url(url) == url:  # a password in the URL wins
            extra["password"] = password
        connection = psycopg.connect(
            url.replace("postgres://", "postgresql://", 1), autocommit=True, **extra
        )
        connection.execute("SET TIME ZONE 'UTC'")
        if read_only:
            connection.execute("SET default_transaction_read_only = on")
        return connection
