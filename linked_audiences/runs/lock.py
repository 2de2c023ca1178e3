"""One run of an audience at a time — for the length of that run, not of the connection.

In this process a set of held (database, audience) pairs refuses a second run; across
sessions the warehouse's own lock does (PostgreSQL: a session advisory lock). Where the
warehouse has no lock of its own (DuckDB lets one process write a file, but any number of
connections of that process), the pair names the database file, so two connections of one
process cannot run one audience at once either — the second would take the first's
uncommitted rows for orphans and delete them.

The warehouse lock is released when the run ends, failed or not, so a notebook that ran an
audience once does not block the scheduled job until it disconnects; a killed process's
lock goes with its connection.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from linked_audiences.warehouse import Warehouse

_GUARD = threading.Lock()
_HELD: set[tuple[object, str]] = set()


class RunInProgress(RuntimeError):
    """Another run of the same audience holds the run lock."""


@contextmanager
def run_lock(warehouse: Warehouse, key: str) -> Iterator[None]:
    """Hold the run lock of ``key`` for the ``with`` block; RunInProgress when taken."""
    token = (_database(warehouse), key)
    with _GUARD:
        if token in _HELD:
            raise RunInProgress(f"a run of {key!r} is already in progress in this process")
        _HELD.add(token)
    try:
        query = warehouse.dialect.run_lock(key)
        if query is not None and not warehouse.scalar(query):
            raise RunInProgress(f"another session is running {key!r}; try again when it ends")
        try:
            yield
        finally:
            _release(warehouse, key)
    finally:
        with _GUARD:
            _HELD.discard(token)


def _database(warehouse: Warehouse) -> object:
    """What the in-process lock is held on: the connection, when the warehouse locks
    across sessions itself (its session lock is re-entrant, so one session must not take it
    twice); else the database file, which every connection to it shares."""
    query = warehouse.dialect.database_file() if warehouse.dialect.run_lock("") is None else None
    if query is not None:
        path = warehouse.scalar(query)
        if path:
            return (warehouse.dialect.name, os.path.realpath(str(path)))
    return id(warehouse.connection)


def _release(warehouse: Warehouse, key: str) -> None:
    """Best effort: when the session itself broke, the server dropped its lock with it, and
    the error that broke it is the one the caller needs to see."""
    query = warehouse.dialect.run_unlock(key)
    if query is None:
        return
    with suppress(Exception):
        warehouse.scalar(query)
