"""One object owns all I/O with a warehouse: SQL in, rows out (an engine adapter, as in SQLMesh).

The core hands it sqlglot expressions; it renders them in its dialect, runs them through
the warehouse's official client (imported lazily by ``dialects``) and fetches rows.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlglot import exp

from linked_audiences.dialects import (
    ClientUnavailable,
    WarehouseDialect,
    dialect_for_url,
    redact_url,
    scrub,
)
from linked_audiences.errors import UnsupportedFeature

Row = tuple[Any, ...]
log = logging.getLogger(__name__)
T = TypeVar("T")


class WarehouseUnavailable(ConnectionError):
    """The warehouse could not be reached or refused the connection."""


class WarehouseURLError(ValueError):
    """The warehouse URL has a shape no adapter takes (the message shows it redacted)."""


class WarehouseError(RuntimeError):
    """A query failed in the warehouse. The message is the client's, on one line, with the
    URL's secrets removed; the client's exception is the ``__cause__``.

    ``catalog`` is True when the warehouse does not have what the SQL names, or has it with
    another type (missing table or column, a type mismatch): the data graph does not match the
    warehouse, which the user fixes, rather than a failure that a retry may cure.
    """

    def __init__(self, message: str, *, catalog: bool = False) -> None:
        super().__init__(message)
        self.catalog = catalog


#: DuckDB's exception classes for "the SQL names something the catalog lacks, or mistypes it".
_CATALOG_ERRORS = frozenset({"CatalogException", "BinderException"})
#: PostgreSQL SQLSTATEs of the same kind: undefined table/column/function, datatype mismatch,
#: cannot coerce, undefined schema.
_CATALOG_SQLSTATES = frozenset({"42P01", "42703", "42883", "42804", "42846", "3F000"})


def is_interrupt(exc: BaseException) -> bool:
    """Whether a client error means "the user pressed Ctrl-C" (DuckDB turns SIGINT during a
    query into InterruptException, or a RuntimeError saying "Query interrupted")."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "InterruptException" in names:
        return True
    return isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()


def is_catalog_error(exc: BaseException) -> bool:
    """Whether a client error means the SQL does not match the warehouse's catalog."""
    if _CATALOG_ERRORS & {cls.__name__ for cls in type(exc).__mro__}:
        return True
    return getattr(exc, "sqlstate", None) in _CATALOG_SQLSTATES


class Warehouse:
    """A connected warehouse. Use as a context manager, or call :meth:`close`."""

    def __init__(self, dialect: WarehouseDialect, connection: Any, url: str = "") -> None:
        self.dialect = dialect
        self.connection = connection
        self.url = url

    def sql(self, query: exp.Expr | str) -> str:
        return query if isinstance(query, str) else self.dialect.render(query)

    def execute(self, query: exp.Expr | str) -> None:
        text = self.sql(query)
        cursor = self.connection.cursor()
        try:
            _interruptible(cursor, lambda: cursor.execute(text))
        except Exception as exc:
            raise self.error(exc) from exc
        finally:
            _close(cursor)

    def fetchall(self, query: exp.Expr | str) -> list[Row]:
        text = self.sql(query)
        cursor = self.connection.cursor()

        def run() -> list[Row]:
            cursor.execute(text)
            return [tuple(row) for row in cursor.fetchall()]

        try:
            return _interruptible(cursor, run)
        except Exception as exc:
            raise self.error(exc) from exc
        finally:
            _close(cursor)

    def fetch_batches(self, query: exp.Expr | str, size: int = 10_000) -> Iterator[list[Row]]:
        """Rows in batches, so memory does not grow with the result (a streaming cursor:
        on PostgreSQL the rows stay on the server until fetched)."""
        text = self.sql(query)
        cursor = self.dialect.streaming_cursor(self.connection)
        try:

            def first() -> Any:
                cursor.execute(text)
                return cursor.fetchmany(size)

            try:
                batch = _interruptible(cursor, first)
            except Exception as exc:
                raise self.error(exc) from exc
            while batch:
                yield [tuple(row) for row in batch]
                try:
                    batch = _interruptible(cursor, lambda: cursor.fetchmany(size))
                except Exception as exc:
                    raise self.error(exc) from exc
        finally:
            _close(cursor)

    def error(self, exc: Exception) -> BaseException:
        """The client's exception as a :class:`WarehouseError` (one line, secrets removed), or
        KeyboardInterrupt when the query was interrupted by Ctrl-C."""
        if is_interrupt(exc):
            return KeyboardInterrupt()
        message = scrub(" ".join(str(exc).split()), self.url, self.dialect.name)
        catalog = is_catalog_error(exc) or self.dialect.is_catalog_error(exc)
        return WarehouseError(
            f"{self.dialect.name}: {message or type(exc).__name__}", catalog=catalog
        )

    def catalog(self, names: set[str]) -> tuple[list[Row], str]:
        """(catalog, schema, table, column, type) of every column of the tables ``names``
        (graph spellings, any case) may mean, and the session's current schema."""
        return self.dialect.catalog_rows(self.connection, self.fetchall, names)

    @contextlib.contextmanager
    def tagged(self, tags: dict[str, str]) -> Iterator[None]:
        """Tag every query of the block (Snowflake QUERY_TAG, BigQuery job labels, Redshift
        query_group, Databricks query tags) so its cost can be attributed. A warehouse that
        refuses a tag does not stop the work: the refusal is logged."""
        self._tag(tags)
        try:
            yield
        finally:
            self._tag({})

    def _tag(self, tags: dict[str, str]) -> None:
        try:
            self.dialect.session_tags(self.connection, tags)
        except Exception as exc:
            log.warning("%s refused the query tags: %s", self.dialect.name, self.error(exc))

    def scalar(self, query: exp.Expr | str) -> Any:
        rows = self.fetchall(query)
        return rows[0][0] if rows else None

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
            return
        # Leaving on an error (Ctrl-C during a query, say): a query that is still being
        # cancelled can make close() refuse; the original error is the one to report.
        with contextlib.suppress(Exception):
            _cancel(self.connection)
            self.close()

    def __repr__(self) -> str:
        return f"<Warehouse {self.dialect.name} {redact_url(self.url)!r}>"


QUERY_THREAD = "linked-audiences-query"


def _interruptible(cursor: Any, call: Callable[[], T]) -> T:
    """``call()`` such that Ctrl-C stops it: a client blocked in C (DuckDB's execute) never
    lets the main thread see SIGINT, so the call runs in a worker while the main thread
    waits, and on KeyboardInterrupt asks the client to cancel the query, then re-raises."""
    if threading.current_thread() is not threading.main_thread():
        return call()
    outcome: list[Any] = []
    # The worker's own "done" flag, not Thread.is_alive(): a KeyboardInterrupt that lands
    # inside Thread.join() can leave the thread marked stopped while its query still runs,
    # and exiting then kills the thread inside the client's C++ code (abort, exit -6).
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed to the waiting thread
            outcome.append((False, exc))
        finally:
            done.set()

    worker = threading.Thread(target=work, name=QUERY_THREAD, daemon=True)
    worker.start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        # The signal may have come before the worker's query started, when a cancel does
        # nothing: keep asking until the worker stops (bounded, then give up waiting).
        for _ in range(300):
            _cancel(cursor)
            if done.wait(0.1):
                break
        raise
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _cancel(cursor: Any) -> None:
    """Ask the client to stop the running query (DuckDB: interrupt; DB-API drivers with a
    connection-level cancel, like psycopg: cancel)."""
    for target, method in ((cursor, "interrupt"), (getattr(cursor, "connection", None), "cancel")):
        cancel = getattr(target, method, None)
        if callable(cancel):
            with contextlib.suppress(Exception):
                cancel()
            return


def _close(cursor: Any) -> None:
    """Close a cursor; a connection that broke mid-query must not hide the query's error."""
    with contextlib.suppress(Exception):
        cursor.close()


def connect(url: str, *, read_only: bool = False, create: bool = True) -> Warehouse:
    """A warehouse from a URL: ``duckdb://`` (memory), ``duckdb:///file.duckdb`` (relative to
    the working folder), ``duckdb:////abs/file.duckdb``, ``postgresql://…``; ``snowflake://``,
    ``bigquery://``, ``redshift://``, ``databricks://`` name their dialects.

    By default a missing DuckDB file is created (a new, empty database). ``read_only=True``
    opens the warehouse so nothing can be written (DuckDB opens the file read-only, so a
    read-only file can be read; PostgreSQL sessions get ``default_transaction_read_only``) and
    never creates a file; ``create=False`` refuses a missing file but still allows writes.
    Errors name the URL without its password or secret parameters.
    """
    try:
        dialect = dialect_for_url(url)
    except ValueError as exc:
        raise WarehouseURLError(str(exc)) from None
    options = {"read_only": read_only, "create": create}
    accepted = inspect.signature(dialect.connect).parameters
    try:
        connection = dialect.connect(url, **{k: v for k, v in options.items() if k in accepted})
    except ClientUnavailable as exc:
        raise UnsupportedFeature(dialect.name, "running SQL here", str(exc)) from None
    except ValueError as exc:
        raise WarehouseURLError(scrub(str(exc), url, dialect.name)) from None
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise _unavailable(dialect, url, exc) from None
    except Exception as exc:  # each client has its own error classes; all mean "unreachable"
        if is_interrupt(exc):
            raise KeyboardInterrupt from None
        raise _unavailable(dialect, url, exc) from None
    return Warehouse(dialect, connection, url)


def _unavailable(dialect: WarehouseDialect, url: str, exc: Exception) -> WarehouseUnavailable:
    """``from None``: the client's exception may quote the connection string and password."""
    reason = scrub(" ".join(str(exc).split()), url, dialect.name) or type(exc).__name__
    return WarehouseUnavailable(f"cannot connect to {dialect.name}: {reason}")
