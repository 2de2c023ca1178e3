"""DuckDB settings for the statements of a run: a bounded memory budget, restored after.

Embedded DuckDB's buffers and hash tables live in the process that runs ``la.run``; by
default DuckDB may use 80% of the machine's memory, and at 1M demo profiles a run's
statements took the process from about 120 MB (Python, the library, the compiled audience)
to 650–790 MB. With a budget DuckDB spills to its temporary folder instead (the database
file's ``.tmp`` folder; ``.tmp`` for an in-memory database), and the process stays near
250 MB at 100k and at 1M profiles.

* ``memory_limit`` = :data:`QUERY_MEMORY` while the snapshot, diff and event statements
  run; the compiled members and entities queries of the demo need about that much (80 MB
  is too little for them at 1M profiles). A statement that still runs out of memory is run
  again once with the connection's own limit (it was rolled back whole: DuckDB statements
  are atomic), with a warning, so a bigger audience is slower rather than failed.
* ``memory_limit`` = :data:`DELIVERY_MEMORY` while events are read back page by page:
  reading needs little, and DuckDB otherwise keeps the pages it read cached up to the limit.
* ``preserve_insertion_order = false``: DuckDB need not keep an INSERT … SELECT's rows in
  order; nothing reads state in physical order (pages are ``ORDER BY seq``).
* ``force_compression = 'zstd'``: the run writes mostly JSON payloads (about 200 MB of
  text for a 500,000-event backfill); DuckDB's default analysis picks dictionary + FSST
  for them, which took 40% longer to write than ZSTD and gave a file several times larger.
  Where DuckDB has no ZSTD for text (before 1.2) the default stays.
* ``threads`` stays the connection's: the limit is global, so fewer threads did not lower
  the peak further, only made the statements slower.

A connection whose limit is already lower keeps it. ``LA_DUCKDB_RUN_MEMORY=off`` leaves
every setting alone; any other value (``500MB``, ``2GB``) replaces :data:`QUERY_MEMORY`.
Other warehouses run the statements on their own servers: nothing is set there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from types import TracebackType

from sqlglot import exp

from linked_audiences.dialects.duckdb import duckdb_path
from linked_audiences.sql import string
from linked_audiences.warehouse import Warehouse, WarehouseError

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
#: database → (runs in progress, the settings the first of them found)
_SHARED: dict[str, tuple[int, dict[str, str]]] = {}

QUERY_MEMORY = "100MB"
DELIVERY_MEMORY = "32MB"
ENV = "LA_DUCKDB_RUN_MEMORY"
_SETTINGS = ("memory_limit", "preserve_insertion_order", "force_compression")
_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def size_bytes(text: str) -> float | None:
    """``'19.2 GiB'`` / ``'100MB'`` as bytes; None for what is not a size (``-1``, ``''``)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def _restorable(value: str) -> str:
    """A setting as read back, to set again. DuckDB shows a memory limit cut to one decimal
    (3 GB reads ``2.7 GiB``, which set again reads ``2.6 GiB``): half a step more lands
    within that step of the value read, and reads back the same, so repeated runs in one
    process do not wear the limit down."""
    match = re.fullmatch(r"([0-9]+\.[0-9]) ([KMGT]iB)", value)
    return f"{float(match.group(1)) + 0.05:.2f} {match.group(2)}" if match else value


def _database_key(warehouse: Warehouse) -> str:
    """The database a connection's settings belong to: its file, else the connection."""
    try:
        path = duckdb_path(warehouse.url) if warehouse.url else None
    except ValueError:
        path = None
    return os.path.realpath(path) if path else f"connection:{id(warehouse.connection)}"


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether a warehouse error is DuckDB refusing memory beyond its ``memory_limit``."""
    cause = exc.__cause__ or exc
    return "OutOfMemoryException" in {cls.__name__ for cls in type(cause).__mro__}


class RunSession:
    """``with RunSession(warehouse) as session:`` sets a run's budget and restores the
    connection's settings at the end; :meth:`heavy` runs one of the big statements."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.w = warehouse
        wanted = os.environ.get(ENV, QUERY_MEMORY).strip()
        self.active = warehouse.dialect.name == "duckdb" and wanted.lower() != "off"
        self.query_memory = wanted if size_bytes(wanted) else QUERY_MEMORY
        self.saved: dict[str, str] = {}
        self.key = _database_key(warehouse)

    def __enter__(self) -> RunSession:
        if not self.active:
            return self
        with _LOCK:
            # Runs of other audiences in this process may share the database (DuckDB keeps
            # one instance per file, and these settings are the instance's): the first to
            # start keeps the connection's own settings, the last to finish restores them.
            count, saved = _SHARED.get(self.key, (0, {}))
            if not count:
                for name in _SETTINGS:
                    current = exp.Anonymous(this="CURRENT_SETTING", expressions=[string(name)])
                    saved[name] = str(self.w.scalar(exp.select(current)))
            _SHARED[self.key] = (count + 1, saved)
        self.saved = dict(saved)
        self._set("preserve_insertion_order", exp.false())
        with contextlib.suppress(WarehouseError):  # before DuckDB 1.2: no ZSTD for text
            self._set("force_compression", string("zstd"))
        self.for_queries()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self.active:
            return
        with _LOCK:
            count, saved = _SHARED.pop(self.key, (1, self.saved))
            if count > 1:
                _SHARED[self.key] = (count - 1, saved)
                return
        self._checkpoint()
        for name, value in saved.items():
            try:
                self._set(name, string(_restorable(value)))
            except Exception as error:  # the run's outcome stands; the setting is only lost
                log.warning("could not restore DuckDB's %s to %s: %s", name, value, error)

    def _checkpoint(self) -> None:
        """Write the run's changes from the write-ahead log into the database file while
        the budget holds: else the checkpoint DuckDB makes when the connection closes ran
        with the connection's own limit, and was the process's peak (525 MB at 1M
        profiles, against 245 MB for the run). Best effort: another connection's open
        transaction makes DuckDB refuse, and then the checkpoint happens later."""
        try:
            self.w.execute(exp.Command(this="CHECKPOINT"))
        except Exception as error:
            log.debug("no checkpoint after the run: %s", error)

    def for_queries(self) -> None:
        self._budget(self.query_memory)

    def for_delivery(self) -> None:
        self._budget(DELIVERY_MEMORY)

    def heavy(self, statement: exp.Expr) -> None:
        """Run a snapshot or events statement; out of memory within the budget, run it once
        more with the connection's own limit (and keep that limit for the rest of the run)."""
        try:
            self.w.execute(statement)
        except WarehouseError as exc:
            own = self.saved.get("memory_limit")
            if not (self.active and own and is_out_of_memory(exc)):
                raise
            log.warning(
                "DuckDB needed more than %s for a run statement; running it again with the "
                "connection's memory_limit (%s)",
                self.query_memory,
                own,
            )
            self.query_memory = own
            self._set("memory_limit", string(_restorable(own)))
            self.w.execute(statement)

    def _budget(self, size: str) -> None:
        if not self.active:
            return
        own = size_bytes(self.saved.get("memory_limit", ""))
        wanted = size_bytes(size)
        if own is not None and wanted is not None and own < wanted:
            size = self.saved["memory_limit"]  # the connection's lower limit stands
        self._set("memory_limit", string(size))

    def _set(self, name: str, value: exp.Expr) -> None:
        item = exp.SetItem(this=exp.EQ(this=exp.column(name), expression=value))
        self.w.execute(exp.Set(expressions=[item]))
