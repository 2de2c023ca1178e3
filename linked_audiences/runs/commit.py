"""The commit of a run: one row in ``la_runs``, a compare-and-swap on the baseline.

Two runs that started from the same baseline must not both commit. Where the warehouse
enforces ``UNIQUE (audience_key, previous_run_id)`` (DuckDB, PostgreSQL) the INSERT itself is
the compare-and-swap, and the dialect recognises the violation by its error class or
SQLSTATE. Elsewhere (Snowflake, BigQuery, Redshift, Databricks declare UNIQUE but never check
it) the row is inserted only if no live commit from that baseline exists, then read back:
the run committed only if its row is the one commit from its baseline. A run that finds
another beside its own withdraws (its id goes to ``la_run_failures``, which readers of the
run log skip), so two racing runs may both be refused, never both committed.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlglot import exp

from linked_audiences.runs.ledger import Ledger
from linked_audiences.runs.state import FAILURES, RUNS
from linked_audiences.sql import col, select, string


class RunConflict(RuntimeError):
    """Another run of the audience committed from the same baseline first."""


def timestamp(moment: datetime) -> exp.Expr:
    return exp.cast(string(moment.isoformat()), "TIMESTAMPTZ")


def commit(ledger: Ledger, run_id: str, previous: str, values: list[exp.Expr]) -> None:
    """Insert the run's ``la_runs`` row (``values`` in the table's column order) unless
    another run committed from ``previous`` first (RunConflict)."""
    warehouse = ledger.w
    conflict = RunConflict(
        f"another run of {ledger.key!r} committed from the same baseline first; run again"
    )
    if warehouse.dialect.ENFORCES_UNIQUE:
        try:
            warehouse.execute(ledger.state.insert(RUNS, values))
        except Exception as exc:
            if warehouse.dialect.is_unique_violation(exc.__cause__ or exc):
                raise conflict from exc
            raise
        return
    warehouse.execute(_insert_unless_committed(ledger, previous, values))
    runs, mine = ledger._of(RUNS, "c")
    same_baseline = select(
        [col("c", "run_id")],
        runs,
        where=[
            mine,
            exp.EQ(this=col("c", "previous_run_id"), expression=string(previous)),
            exp.Not(this=exp.In(this=col("c", "run_id"), query=ledger.withdrawn_ids())),
        ],
    )
    found = sorted(str(r) for (r,) in warehouse.fetchall(same_baseline))
    if found != [run_id]:
        raise conflict


def _insert_unless_committed(ledger: Ledger, previous: str, values: list[exp.Expr]) -> exp.Insert:
    runs, mine = ledger._of(RUNS, "p")
    already = select(
        [exp.Literal.number(1)],
        runs,
        where=[
            mine,
            exp.EQ(this=col("p", "previous_run_id"), expression=string(previous)),
            exp.Not(this=exp.In(this=col("p", "run_id"), query=ledger.withdrawn_ids())),
        ],
    )
    one_row = exp.select(exp.alias_(exp.Literal.number(1), "one", quoted=True)).subquery("o")
    row = exp.select(*values).from_(one_row).where(exp.Not(this=exp.Exists(this=already)))
    insert = ledger.state.insert(RUNS, values)
    insert.set("expression", row)
    return insert


def record_failure(
    ledger: Ledger,
    run_id: str,
    as_of: datetime,
    started_at: datetime,
    error: BaseException,
    fingerprint: str,
) -> None:
    """Best effort: a failed run is logged when the warehouse still answers. The row also
    withdraws a commit row the run may have written before it lost a race."""
    try:
        values = [
            string(run_id),
            string(ledger.key),
            timestamp(as_of),
            timestamp(started_at),
            timestamp(datetime.now(timezone.utc)),
            string(" ".join(f"{type(error).__name__}: {error}".split())[:2000]),
            string(fingerprint),
        ]
        ledger.w.execute(ledger.state.insert(FAILURES, values))
    except Exception:
        pass
