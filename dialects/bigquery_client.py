"""google-cloud-bigquery behind the small DB-API surface the rest of the library uses.

BigQuery's own DB-API module has no default dataset and no job labels, both of which a run
needs (unqualified graph names resolve in the URL's dataset; every job is labelled with the
audience and run for cost attribution), so the adapter wraps the client directly: one query
job per ``execute``, rows fetched page by page, ``interrupt`` cancels the running job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: Label values: lower-case letters, digits, ``-`` and ``_``, at most 63 characters.
_LABEL_CHARS = re.compile(r"[^a-z0-9_-]+")


def label_value(text: str) -> str:
    """``text`` as a valid BigQuery label value (lower-cased, other characters as ``_``)."""
    return _LABEL_CHARS.sub("_", text.lower())[:63]


class BigQueryConnection:
    """A client plus the session defaults of one ``bigquery://`` URL."""

    def __init__(
        self,
        client: Any,
        dataset: str | None,
        location: str | None,
        retry_seconds: float | None = None,
    ) -> None:
        self.client, self.dataset, self.location = client, dataset, location
        self.labels: dict[str, str] = {}
        #: How long to retry a failing API call (the client's default: 600 s); with it set,
        #: a failed job is not re-run either (a local emulator's error is not transient).
        self.retry_seconds = retry_seconds

    def query(self, sql: str, config: Any) -> Any:
        """Start one query job with this connection's defaults."""
        if self.dataset:
            config.default_dataset = f"{self.client.project}.{self.dataset}"
        options: dict[str, Any] = {"job_config": config, "location": self.location}
        if self.retry_seconds is not None:
            from google.api_core.retry import Retry

            options.update(retry=Retry(timeout=self.retry_seconds), job_retry=None)
        return self.client.query(sql, **options)

    def cursor(self) -> BigQueryCursor:
        return BigQueryCursor(self)

    def commit(self) -> None:
        """Every statement commits by itself (no open transaction to end)."""

    def close(self) -> None:
        self.client.close()


class BigQueryCursor:
    def __init__(self, connection: BigQueryConnection) -> None:
        self.connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self._job: Any = None
        self._rows: Iterator[Any] = iter(())

    def execute(self, sql: str) -> BigQueryCursor:
        from google.cloud import bigquery

        owner = self.connection
        self._job = owner.query(sql, bigquery.QueryJobConfig(labels=dict(owner.labels)))
        result = self._job.result()
        schema = result.schema or []
        self.description = [(f.name, f.field_type, None, None, None, None, None) for f in schema]
        self._rows = iter(result)
        return self

    def fetchmany(self, size: int = 1000) -> list[tuple[Any, ...]]:
        batch = []
        for row in self._rows:
            batch.append(tuple(row.values()))
            if len(batch) >= size:
                break
        return batch

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self._rows]

    def interrupt(self) -> None:
        """Cancel the running job (Ctrl-C): BigQuery otherwise finishes, and bills, it."""
        if self._job is not None:
            self._job.cancel()

    def close(self) -> None:
        self._rows = iter(())


def dry_run_bytes(connection: BigQueryConnection, sql: str) -> int:
    """Bytes the query would scan, from a dry run (free; nothing runs)."""
    from google.cloud import bigquery

    job = connection.query(sql, bigquery.QueryJobConfig(dry_run=True, use_query_cache=False))
    return int(job.total_bytes_processed or 0)
