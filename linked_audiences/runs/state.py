"""The warehouse tables that hold run state, as data (table specs, not DDL strings).

Nothing here is ever updated in place: runs append rows keyed by ``run_id``, and the commit is
one INSERT into ``la_runs`` guarded by ``UNIQUE (audience_key, previous_run_id)`` — a
compare-and-swap on the baseline, so two runs that started from the same baseline cannot
both commit. Rows of runs that never committed are orphans: ignored, then cleaned up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from linked_audiences.sql import ident, string
from linked_audiences.warehouse import Warehouse

DEFAULT_SCHEMA = "linked_audiences"


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[tuple[str, str], ...]
    unique: tuple[str, ...] = ()


def _spec(name: str, columns: str, unique: tuple[str, ...] = ()) -> TableSpec:
    pairs = tuple(tuple(c.strip().split(" ", 1)) for c in columns.split(","))
    return TableSpec(name, pairs, unique)  # type: ignore[arg-type]


RUNS = _spec(
    "la_runs",
    "run_id TEXT, audience_key TEXT, previous_run_id TEXT, as_of TIMESTAMPTZ, "
    "started_at TIMESTAMPTZ, committed_at TIMESTAMPTZ, members BIGINT, entered BIGINT, "
    "exited BIGINT, entities_added BIGINT, entities_removed BIGINT, entities_changed BIGINT, "
    "events BIGINT, skipped_events BIGINT, compile_seconds DOUBLE, query_seconds DOUBLE, "
    "diff_seconds DOUBLE, events_seconds DOUBLE, size_alert BOOLEAN, definition_fingerprint TEXT, "
    "unselected_changes BIGINT",
    unique=("audience_key", "previous_run_id"),
)
FAILURES = _spec(
    "la_run_failures",
    "run_id TEXT, audience_key TEXT, as_of TIMESTAMPTZ, started_at TIMESTAMPTZ, "
    "failed_at TIMESTAMPTZ, error TEXT, definition_fingerprint TEXT",
)
MEMBERS = _spec(
    "la_members", "run_id TEXT, audience_key TEXT, profile_id TEXT, user_id TEXT, anonymous_id TEXT"
)
ENTITIES = _spec(
    "la_entities",
    "run_id TEXT, audience_key TEXT, profile_id TEXT, relationship TEXT, entity_id TEXT, "
    "checksum TEXT",
)
EVENTS = _spec(
    "la_events",
    "run_id TEXT, audience_key TEXT, seq BIGINT, trigger TEXT, profile_id TEXT, "
    "relationship TEXT, entity_id TEXT, message_id TEXT, payload TEXT, skipped BOOLEAN",
)
#: Delivery watermarks: events of ``run_id`` up to ``through_seq`` were delivered. A sink
#: batch writes one with ``via_run`` NULL once the sink accepted it; a run that hands events
#: to its caller writes one with ``via_run`` = itself, valid only if that run committed.
DELIVERIES = _spec(
    "la_deliveries",
    "audience_key TEXT, run_id TEXT, through_seq BIGINT, via_run TEXT, delivered_at TIMESTAMPTZ",
)

#: Every run records its id here before it writes anything else, so the rows of a run that
#: never committed are found by id, without scanning the snapshot tables.
RUN_STARTS = _spec("la_run_starts", "audience_key TEXT, run_id TEXT, started_at TIMESTAMPTZ")
#: Run-lock leases where the warehouse has no lock a session can take: a run holds the lock
#: of its audience while its newest lease has not expired and it wrote no release
#: (``released``); the token is the run's id. Times are seconds since the epoch (UTC), so no
#: client's handling of time zones can move an expiry.
LOCKS = _spec(
    "la_locks",
    "audience_key TEXT, token TEXT, acquired_at DOUBLE, expires_at DOUBLE, released BOOLEAN",
)

#: Sink batches that the sink rejected: events of ``run_id`` with ``after_seq < seq <=
#: through_seq`` (``events`` of them sent, the skipped ones not). Written the moment the
#: sink raises, before the error goes on, so the delivery overview counts the attempt even if
#: the process dies next. A later attempt may deliver the same events: the watermark says so.
DELIVERY_FAILURES = _spec(
    "la_delivery_failures",
    "audience_key TEXT, run_id TEXT, after_seq BIGINT, through_seq BIGINT, events BIGINT, "
    "error TEXT, failed_at TIMESTAMPTZ",
)
#: Alerts raised for a committed run (membership size, delivered event volume), appended
#: after its delivery: the ``la_runs`` row is written before the events are delivered and is
#: never updated.
ALERTS = _spec(
    "la_alerts",
    "audience_key TEXT, run_id TEXT, kind TEXT, message TEXT, value DOUBLE, baseline DOUBLE, "
    "change_percent DOUBLE, threshold_percent DOUBLE, raised_at TIMESTAMPTZ",
)

ALL_TABLES = (
    RUNS,
    FAILURES,
    RUN_STARTS,
    MEMBERS,
    ENTITIES,
    EVENTS,
    DELIVERIES,
    LOCKS,
    DELIVERY_FAILURES,
    ALERTS,
)


class State:
    """The state schema of one warehouse: qualified table names and their creation."""

    def __init__(self, warehouse: Warehouse, schema: str = DEFAULT_SCHEMA) -> None:
        self.warehouse, self.schema = warehouse, schema

    def table(self, spec: TableSpec, alias: str | None = None) -> exp.Table:
        table = exp.Table(this=ident(spec.name), db=ident(self.schema))
        if alias:
            table.set("alias", exp.TableAlias(this=ident(alias)))
        return table

    def insert(self, spec: TableSpec, values: Sequence[exp.Expr]) -> exp.Insert:
        """One row, by column name: state made by an earlier version may order them
        differently (columns added later come last)."""
        target = exp.Schema(
            this=self.table(spec), expressions=[ident(name) for name, _ in spec.columns]
        )
        return exp.Insert(
            this=target, expression=exp.Values(expressions=[exp.Tuple(expressions=list(values))])
        )

    def delete(self, spec: TableSpec, audience_key: str, condition: exp.Expr) -> None:
        """Delete an audience's rows of ``spec`` that meet ``condition``; nothing on
        warehouses whose state is append-only (those rows stay, never read again)."""
        if self.warehouse.dialect.APPEND_ONLY:
            return
        mine = exp.EQ(this=exp.column("audience_key", quoted=True), expression=string(audience_key))
        where = exp.Where(this=exp.and_(mine, condition))
        self.warehouse.execute(exp.Delete(this=self.table(spec), where=where))

    def ensure(self) -> None:
        """CREATE SCHEMA / TABLE IF NOT EXISTS, then add columns that state made by an
        earlier version lacks: safe to call on every run."""
        dialect = self.warehouse.dialect
        current = None
        if dialect.CREATE_SCHEMA_SETS_CURRENT:
            current = self.warehouse.scalar(exp.select(exp.CurrentSchema()))
        self.warehouse.execute(
            exp.Create(this=exp.Table(this=ident(self.schema)), kind="SCHEMA", exists=True)
        )
        if current:  # unqualified graph tables resolve in the user's schema, not ours
            self.warehouse.execute(
                exp.Use(kind=exp.var("SCHEMA"), this=exp.Table(this=ident(str(current))))
            )
        for spec in ALL_TABLES:
            columns: list[exp.Expr] = [
                exp.ColumnDef(this=ident(name), kind=dialect.state_type(kind))
                for name, kind in spec.columns
            ]
            if spec.unique and dialect.ENFORCES_UNIQUE:
                columns.append(
                    exp.UniqueColumnConstraint(
                        this=exp.Schema(expressions=[ident(c) for c in spec.unique])
                    )
                )
            self.warehouse.execute(
                exp.Create(
                    this=exp.Schema(this=self.table(spec), expressions=columns),
                    kind="TABLE",
                    exists=True,
                )
            )
        self._add_missing_columns()
        if dialect.STATE_INDEXES:
            # Each delivery page is a (audience, run, seq) range (runs/ledger.py).
            page = [exp.Ordered(this=ident(c)) for c in ("audience_key", "run_id", "seq")]
            index = exp.Index(
                this=ident(f"{EVENTS.name}_page"),
                table=self.table(EVENTS),
                params=exp.IndexParameters(columns=page),
            )
            self.warehouse.execute(exp.Create(this=index, kind="INDEX", exists=True))

    def _add_missing_columns(self) -> None:
        rows, _ = self.warehouse.catalog({f"{self.schema}.{spec.name}" for spec in ALL_TABLES})
        present = {
            (str(t).lower(), str(c).lower())
            for _, schema, t, c, _ in rows
            if str(schema).lower() == self.schema.lower()
        }
        dialect = self.warehouse.dialect
        for spec in ALL_TABLES:
            for name, kind in spec.columns:
                if (spec.name, name) in present:
                    continue
                self.warehouse.execute(
                    exp.Alter(
                        this=self.table(spec),
                        kind="TABLE",
                        actions=[
                            # IF NOT EXISTS: another process may be adding it right now
                            exp.ColumnDef(
                                this=ident(name),
                                kind=dialect.state_type(kind),
                                exists=dialect.ADD_COLUMN_IF_NOT_EXISTS,
                            )
                        ],
                    )
                )
