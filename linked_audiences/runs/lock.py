"""One run of an audience at a time — for the length of that run, not of the connection.

In this process a set of held (database, audience) pairs refuses a second run. Across
sessions, the warehouse decides how (its dialect's ``RUN_LOCK``):

- ``session`` (PostgreSQL): a session advisory lock, released when the run ends and by the
  server when the session dies, so a killed run never leaves a stale lock;
- ``file`` (DuckDB): one process writes a database file at a time; the in-process pair
  names the file, so two connections of one process cannot run one audience at once either
  (the second would take the first's uncommitted rows for orphans and delete them);
- ``lease`` (Snowflake, BigQuery, Redshift, Databricks — no lock a session can take): a
  row in ``la_locks`` that expires. A run writes its lease, then reads every lease of the
  audience: it holds the lock only if no other lease is live; else it withdraws its own and
  is refused. Two runs that write at once may both be refused, never both admitted (each
  reads after its own write, so at least one sees the other). A run renews its lease
  between steps and stops (``LockLost``) if it finds its lease already expired — by then
  another run may have taken over. A killed run's lease expires after ``lease_seconds``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlglot import exp

from linked_audiences.runs.commit import RunConflict
from linked_audiences.runs.state import LOCKS, State
from linked_audiences.sql import col, select, string
from linked_audiences.warehouse import Warehouse

_GUARD = threading.Lock()
_HELD: set[tuple[object, str]] = set()

#: How long a lease lasts unless renewed: longer than any one statement of a run is
#: expected to take. ``LA_LEASE_SECONDS`` overrides it.
LEASE_SECONDS = 900.0


class RunInProgress(RuntimeError):
    """Another run of the same audience holds the run lock."""


class LockLost(RunConflict):
    """This run's lease expired before it finished: another run may hold the lock now (a
    conflict like a lost commit race: nothing was committed, run again)."""


class Held:
    """The lock a run holds; :meth:`renew` between steps keeps a lease alive."""

    def __init__(self, state: State, key: str, token: str, lease: float | None) -> None:
        self.state, self.key, self.token = state, key, token
        self.lease_seconds = lease
        self.expires = 0.0

    @property
    def leased(self) -> bool:
        return self.lease_seconds is not None

    def renew(self) -> None:
        """Extend the lease (nothing for session and file locks); LockLost when it has
        already expired."""
        if self.lease_seconds is None:
            return
        now = time.time()
        if now >= self.expires:
            raise LockLost(
                f"the run lock of {self.key!r} expired before the run finished (a step took "
                f"longer than {self.lease_seconds:.0f} s); nothing was committed, run again"
            )
        self._write(now, now + self.lease_seconds, released=False)

    def _write(self, now: float, expires: float, *, released: bool) -> None:
        values: list[exp.Expr] = [
            string(self.key),
            string(self.token),
            exp.Literal.number(repr(now)),
            exp.Literal.number(repr(expires)),
            exp.true() if released else exp.false(),
        ]
        self.state.warehouse.execute(self.state.insert(LOCKS, values))
        self.expires = expires

    def others_live(self, now: float) -> list[str]:
        """Tokens other than this run's whose lease is live at ``now``."""
        table = self.state.table(LOCKS, "l")
        query = select(
            [col("l", "token"), col("l", "expires_at"), col("l", "released")],
            table,
            where=[exp.EQ(this=col("l", "audience_key"), expression=string(self.key))],
        )
        expiry: dict[str, float] = {}
        released: set[str] = set()
        for token, expires, gone in self.state.warehouse.fetchall(query):
            expiry[str(token)] = max(expiry.get(str(token), 0.0), float(expires))
            if gone:
                released.add(str(token))
        return sorted(
            t for t, e in expiry.items() if t != self.token and t not in released and e > now
        )

    def acquire_lease(self) -> None:
        assert self.lease_seconds is not None
        now = time.time()
        self._write(now, now + self.lease_seconds, released=False)
        if self.others_live(now):
            self.release_lease()
            raise RunInProgress(
                f"another run of {self.key!r} holds its lease; try again when it ends"
            )

    def release_lease(self) -> None:
        now = time.time()
        self._write(now, now, released=True)
        # old leases of this audience are history nobody reads: keep the table small
        day_old = exp.LT(
            this=exp.column("expires_at", quoted=True),
            expression=exp.Literal.number(repr(now - 86_400)),
        )
        self.state.delete(LOCKS, self.key, day_old)


def lease_seconds() -> float:
    return float(os.environ.get("LA_LEASE_SECONDS", LEASE_SECONDS))


@contextmanager
def run_lock(state: State, key: str, token: str) -> Iterator[Held]:
    """Hold the run lock of ``key`` for the ``with`` block; RunInProgress when taken."""
    warehouse = state.warehouse
    held_on = (_database(warehouse), key)
    with _GUARD:
        if held_on in _HELD:
            raise RunInProgress(f"a run of {key!r} is already in progress in this process")
        _HELD.add(held_on)
    try:
        dialect = warehouse.dialect
        held = Held(state, key, token, lease_seconds() if dialect.RUN_LOCK == "lease" else None)
        if held.leased:
            held.acquire_lease()
        else:
            query = dialect.run_lock(key)
            if query is not None and not warehouse.scalar(query):
                raise RunInProgress(f"another session is running {key!r}; try again when it ends")
        try:
            yield held
        finally:
            _release(held)
    finally:
        with _GUARD:
            _HELD.discard(held_on)


def _database(warehouse: Warehouse) -> object:
    """What the in-process lock is held on: the database file, when connections to it share
    one writer (DuckDB); else the connection."""
    query = warehouse.dialect.database_file() if warehouse.dialect.RUN_LOCK == "file" else None
    if query is not None:
        path = warehouse.scalar(query)
        if path:
            return (warehouse.dialect.name, os.path.realpath(str(path)))
    return id(warehouse.connection)


def _release(held: Held) -> None:
    """Best effort: when the session itself broke, the server dropped its lock with it (a
    lease expires), and the error that broke it is the one the caller needs to see."""
    with suppress(Exception):
        if held.leased:
            held.release_lease()
            return
        query = held.state.warehouse.dialect.run_unlock(held.key)
        if query is not None:
            held.state.warehouse.scalar(query)
