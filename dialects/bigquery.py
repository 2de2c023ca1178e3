"""BigQuery: SAFE_CAST for parsing; TIMESTAMP is an instant in UTC."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from .base import ClientUnavailable, WarehouseDialect, bare_names, redact_url
from .urls import client_kwargs, parse_url


class BigQuery(WarehouseDialect):
    name = "bigquery"
    sqlglot_dialect = "bigquery"
    URL_SCHEMES = ("bigquery",)
    TEXT_TYPE = "STRING"

    def utc_wall_clock(self, instant: exp.Expr) -> exp.Expr:
        """DATETIME(x, 'UTC'): the civil time of a TIMESTAMP in UTC."""
        return exp.Anonymous(this="DATETIME", expressions=[instant, exp.Literal.string("UTC")])

    def empty_json_array(self) -> exp.Expr:
        """An empty ARRAY<JSON>, the type of :meth:`json_array_agg` (a STRING does not cast
        to JSON on BigQuery)."""
        return exp.cast(
            exp.Array(expressions=[]), exp.DataType.build("ARRAY<JSON>", dialect="bigquery")
        )

    def is_catalog_error(self, exc: BaseException) -> bool:
        return type(exc).__name__ == "NotFound"

    def json_text(self, json: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="TO_JSON_STRING", expressions=[json])

    def json_array_agg(self, value: exp.Expr, order_by: exp.Expr) -> exp.Expr:
        """ARRAY_AGG(value ORDER BY …): an ARRAY<JSON>, which JSON_OBJECT nests as an array."""
        # entity ids are never NULL; NULLS FIRST is BigQuery's own order for ASC
        ordered = exp.Ordered(this=order_by, nulls_first=True)
        return exp.ArrayAgg(this=exp.Order(this=value, expressions=[ordered]))

    def catalog_rows(
        self, connection: Any, fetchall: Any, names: set[str]
    ) -> tuple[list[tuple[Any, ...]], str]:
        """INFORMATION_SCHEMA.COLUMNS is per dataset: one query for each dataset the names
        mention, and the URL's default dataset; a dataset that does not exist has no
        tables."""
        default = getattr(connection, "dataset", None) or ""
        datasets = {n.split(".")[-2] for n in names if "." in n} | ({default} - {""})
        wanted: list[exp.Expr] = [exp.Literal.string(n) for n in bare_names(names)]
        wanted = wanted or [exp.null()]
        rows: list[tuple[Any, ...]] = []
        for dataset in sorted(datasets):
            # INFORMATION_SCHEMA stays unquoted (emulators accept no other spelling), so
            # this one query is rendered without quoting every identifier.
            info = exp.Table(
                this=exp.Identifier(this="COLUMNS", quoted=False),
                db=exp.Identifier(this="INFORMATION_SCHEMA", quoted=False),
                catalog=exp.to_identifier(dataset),
            )
            query = (
                exp.select("table_name", "column_name", "data_type")
                .from_(info)
                .where(exp.In(this=exp.Lower(this=exp.column("table_name")), expressions=wanted))
                .order_by("ordinal_position")
                .sql("bigquery")
            )
            # The query names its dataset, so it runs without the session's default one
            # (bqemulator fails INFORMATION_SCHEMA queries that have a default dataset).
            connection.dataset = None
            try:
                found = fetchall(query)
            except Exception as exc:  # a dataset that does not exist: no tables in it
                if type(exc.__cause__ or exc).__name__ != "NotFound":
                    raise
                continue
            finally:
                connection.dataset = default or None
            project = connection.client.project
            rows += [(project, dataset, table, column, kind) for table, column, kind in found]
        return rows, default

    def estimate(self, connection: Any, fetchall: Any, sql: str) -> tuple[int | None, str | None]:
        """A dry run: the bytes the query would scan (what BigQuery bills), free, and
        nothing runs. BigQuery has no EXPLAIN."""
        from .bigquery_client import dry_run_bytes

        return dry_run_bytes(connection, sql), None

    def session_tags(self, connection: Any, tags: dict[str, str]) -> None:
        """Job labels on every query job (keys and values lower-cased to BigQuery's
        label alphabet)."""
        from .bigquery_client import label_value

        connection.labels = {label_value(k): label_value(v) for k, v in tags.items()}

    def connect(self, url: str, *, read_only: bool = False, create: bool = True) -> Any:
        """google-cloud-bigquery: ``bigquery://project/dataset?location=L``.

        Credentials: application-default (``gcloud auth application-default login``, or
        ``$GOOGLE_APPLICATION_CREDENTIALS`` naming a service-account key file), a key file
        given as ``credentials_file=…``, or ``credentials=anonymous`` for an emulator reached
        with ``api_endpoint=…``. The dataset is the default for unqualified table names.
        """
        try:
            from google.cloud import bigquery
        except ImportError as exc:
            raise ClientUnavailable(
                'BigQuery needs its client: pip install "linked-audiences[bigquery]"'
            ) from exc
        from .bigquery_client import BigQueryConnection

        parts = parse_url(url, "bigquery")
        if not parts.host or len(parts.path) > 1:
            raise ValueError(f"expected bigquery://project/dataset, got {redact_url(url)!r}")
        dataset = parts.path[0] if parts.path else None
        location = parts.pop("location")
        endpoint = parts.pop("api_endpoint")
        credentials_file = parts.pop("credentials_file")
        mode = parts.pop("credentials")
        retry = parts.pop("retry_seconds")
        options: dict[str, Any] = {"project": parts.host, "location": location}
        if endpoint:
            from google.api_core.client_options import ClientOptions

            options["client_options"] = ClientOptions(api_endpoint=endpoint)
        if mode == "anonymous":
            from google.auth.credentials import AnonymousCredentials

            options["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
        elif mode is not None:
            raise ValueError(f"credentials={mode!r}: the only value is 'anonymous'")
        if credentials_file:
            from google.oauth2 import service_account

            key_file = service_account.Credentials.from_service_account_file
            options["credentials"] = key_file(credentials_file)  # type: ignore[no-untyped-call]
        options.update(client_kwargs(parts.params))
        return BigQueryConnection(
            bigquery.Client(**options), dataset, location, float(retry) if retry else None
        )
