"""Databricks SQL (Spark): no TIME type, so time values are canonical text."""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from .base import ClientUnavailable, WarehouseDialect, bare_names, redact_url
from .urls import client_kwargs, parse_url

#: What a time text lacks of ``HH:MM:SS.ffffff``, after its ``HH:MM`` (5 characters).
_TIME_TAIL = ":00.000000"


_CATALOG_CLASSES = (
    "TABLE_OR_VIEW_NOT_FOUND",
    "SCHEMA_NOT_FOUND",
    "UNRESOLVED_COLUMN",
    "UNRESOLVED_ROUTINE",
)


class Databricks(WarehouseDialect):
    name = "databricks"
    sqlglot_dialect = "databricks"
    URL_SCHEMES = ("databricks",)
    SUPPORTS_TIME = False
    TEXT_TYPE = "STRING"

    def parse_text(
        self, text: exp.Expr, to: str, pattern: str, cast_text: exp.Expr | None = None
    ) -> exp.Expr:
        """A time (``to`` TIME) is kept as text, zero-padded to ``HH:MM:SS.ffffff`` when
        ``text`` matches ``pattern`` (``HH:MM``, ``HH:MM:SS`` or 1–6 fraction digits), else
        NULL: fixed-width text compares as the times do, exactly and with no cast to fail.
        Padding appends the tail of ``:00.000000`` that ``text``'s length leaves out (for a
        literal, here rather than in SQL)."""
        if to.upper() != "TIME":
            return super().parse_text(text, to, pattern, cast_text)
        if isinstance(text, exp.Literal) and text.is_string:
            if re.fullmatch(pattern, text.this) is None:
                return exp.null()
            return exp.Literal.string(text.this + _TIME_TAIL[len(text.this) - 5 :])
        tail = exp.Substring(
            this=exp.Literal.string(_TIME_TAIL),
            start=exp.Sub(this=exp.Length(this=text.copy()), expression=exp.Literal.number(4)),
        )
        padded = exp.Concat(expressions=[text.copy(), tail])
        guard = exp.and_(
            exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(pattern)),
            # Java's $ also matches before a final line break; a time ends in a digit.
            exp.Between(
                this=exp.Right(this=text.copy(), expression=exp.Literal.number(1)),
                low=exp.Literal.string("0"),
                high=exp.Literal.string("9"),
            ),
        )
        return exp.Case(ifs=[exp.If(this=guard, true=padded)])

    def utc_wall_clock(self, instant: exp.Expr) -> exp.Expr:
        """Spark's TIMESTAMP is an instant and its cast to TIMESTAMP_NTZ gives the session
        zone's wall clock; CONVERT_TIMEZONE moves that wall clock from the session zone to
        UTC."""
        local = exp.cast(instant, exp.DataType.build("TIMESTAMPNTZ"))
        return exp.Anonymous(
            this="CONVERT_TIMEZONE",
            expressions=[
                exp.Anonymous(this="CURRENT_TIMEZONE", expressions=[]),
                exp.Literal.string("UTC"),
                local,
            ],
        )

    # --- runs: payloads, state, connection -------------------------------------------------

    #: Plain parquet tables (local Spark, or any non-Delta table) take INSERT only.
    APPEND_ONLY = True
    ADD_COLUMN_IF_NOT_EXISTS = False

    def is_catalog_error(self, exc: BaseException) -> bool:
        """Spark's error classes for a missing table, schema or column."""
        error_class = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
        name = str(error_class() if callable(error_class) else "") or str(exc)
        return name.lstrip("[").startswith(_CATALOG_CLASSES)

    def json_object(self, pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
        """A struct; :meth:`json_text` turns it into JSON keeping NULL fields."""
        args: list[exp.Expr] = []
        for key, value in pairs:
            args += [exp.Literal.string(key), value]
        return exp.Anonymous(this="NAMED_STRUCT", expressions=args)

    def empty_json_array(self) -> exp.Expr:
        """ARRAY(): Spark widens it to the aggregated array's element type."""
        return exp.Anonymous(this="ARRAY", expressions=[])

    def json_text(self, json: exp.Expr) -> exp.Expr:
        """TO_JSON with ``ignoreNullFields`` off: a NULL value stays as JSON null, as on
        every other warehouse (Spark drops the key by default)."""
        options = exp.Anonymous(
            this="MAP",
            expressions=[exp.Literal.string("ignoreNullFields"), exp.Literal.string("false")],
        )
        return exp.Anonymous(this="TO_JSON", expressions=[json, options])

    def json_array_agg(self, value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
        """COLLECT_LIST has no order: collect (key, value) structs, sort them (by key first),
        keep the values."""
        pair = exp.Anonymous(
            this="NAMED_STRUCT",
            expressions=[exp.Literal.string("k"), order_by, exp.Literal.string("v"), value],
        )
        ordered = exp.Anonymous(
            this="ARRAY_SORT", expressions=[exp.Anonymous(this="COLLECT_LIST", expressions=[pair])]
        )
        item = exp.to_identifier("x")
        keep_value = exp.Lambda(
            this=exp.Dot(this=exp.column(item), expression=exp.to_identifier("v")),
            expressions=[item],
        )
        return exp.Anonymous(this="TRANSFORM", expressions=[ordered, keep_value])

    def catalog_rows(
        self, connection: Any, fetchall: Any, names: set[str]
    ) -> tuple[list[tuple[Any, ...]], str]:
        """Unity Catalog answers from information_schema; a local Spark session has none, so
        its tables are described one by one."""
        columns = getattr(connection, "columns", None)
        if columns is None:
            return super().catalog_rows(connection, fetchall, names)
        tables = set(bare_names(names))
        current = str(connection.spark.catalog.currentDatabase())
        rows: list[tuple[Any, ...]] = []
        for database in connection.spark.catalog.listDatabases():
            for found in connection.spark.catalog.listTables(database.name):
                if found.name.lower() not in tables or found.isTemporary:
                    continue
                for name, kind in columns(database.name, found.name):
                    rows.append(("spark_catalog", database.name, found.name, name, kind))
        return rows, current

    def session_tags(self, connection: Any, tags: dict[str, str]) -> None:
        """SET QUERY_TAGS[…] on a SQL warehouse (system.query.history); on a local Spark
        session, the job description shown in the Spark UI."""
        if getattr(connection, "spark", None) is not None:
            text = " ".join(f"{k}={v}" for k, v in sorted(tags.items()))
            connection.description = f"linked-audiences {text}".strip()
            return
        names = tags or dict.fromkeys(("audience", "run"), "")
        pairs = ", ".join(
            f"QUERY_TAGS[{exp.Literal.string(k).sql('databricks')}] = "
            + (exp.Literal.string(v).sql("databricks") if tags else "UNSET")
            for k, v in sorted(names.items())
        )
        cursor = connection.cursor()
        try:
            cursor.execute(f"SET {pairs}")
        finally:
            cursor.close()

    def connect(self, url: str, *, read_only: bool = False, create: bool = True) -> Any:
        """databricks-sql-connector:
        ``databricks://token:TOKEN@host?http_path=P&catalog=C&schema=S`` (the token from the
        URL or ``$LA_DATABRICKS_PASSWORD``; without one the connector's OAuth, given as
        ``auth_type=databricks-oauth``). ``databricks://local?spark=local[2]`` runs on a
        local Spark session instead (pyspark)."""
        parts = parse_url(url, "databricks")
        if parts.host == "local":
            from .spark_local import local_spark

            master = parts.pop("spark") or "local[*]"
            if parts.params:
                raise ValueError(
                    f"databricks://local takes only spark=…, got {sorted(parts.params)}"
                )
            try:
                return local_spark(master)
            except ImportError as exc:
                raise ClientUnavailable(
                    "a local Spark session needs pyspark: pip install pyspark"
                ) from exc
        try:
            from databricks import sql as databricks_sql  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise ClientUnavailable(
                'Databricks needs its client: pip install "linked-audiences[databricks]"'
            ) from exc
        http_path = parts.pop("http_path")
        if not parts.host or not http_path:
            raise ValueError(
                "expected databricks://token:TOKEN@host?http_path=P&catalog=C&schema=S, got "
                f"{redact_url(url)!r}"
            )
        options: dict[str, Any] = {"server_hostname": parts.host, "http_path": http_path}
        token = parts.secret(self.name)
        if token:
            options["access_token"] = token
        options.update(client_kwargs(parts.params))
        connection = databricks_sql.connect(**options)
        cursor = connection.cursor()
        try:
            cursor.execute("SET TIME ZONE 'UTC'")
        finally:
            cursor.close()
        return connection
