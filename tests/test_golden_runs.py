"""Golden SQL for the statements a run sends, on every warehouse, reviewed in diffs.

A run's SQL is dialect-specific in ways the compiler's goldens never show: the state DDL
(UNIQUE only where it is enforced), the JSON payload builders, the conditional commit on
warehouses that do not enforce UNIQUE, the lease rows of the run lock. Each statement is
built by the run code itself against a warehouse that only records what it is sent (no
connection: rendering needs none), with a fixed run id, baseline and ``as_of`` so the files
are deterministic. ``tests/test_functions.py`` checks every function these files call exists
on their warehouse.

Refresh after an intended change: ``./scripts/test tests/test_golden_runs.py --update-snapshots``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.dialects import DIALECTS, get_dialect
from linked_audiences.loading import validate_data
from linked_audiences.runs.commit import commit, timestamp
from linked_audiences.runs.diff import RunSql
from linked_audiences.runs.ledger import Ledger
from linked_audiences.runs.lock import Held
from linked_audiences.runs.state import ALL_TABLES, RUNS, State
from linked_audiences.sql import string

from .conftest import ROOT
from .snapshots import assert_matches_snapshot
from .test_functions import _CALL, NOT_CHECKED, documented

GOLDEN = ROOT / "tests" / "golden" / "runs"
AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)
STARTED = datetime(2026, 11, 1, 0, 5, tzinfo=timezone.utc)
RUN_ID = "20261101T000000Z-000000000002"
PREVIOUS = "20261020T000000Z-000000000001"
LEASE_FROM = 1_793_491_500.0  # 2026-11-01T00:05:00Z in seconds since the epoch
#: A column added to ``la_runs`` after state was first made: the ALTER a run then sends.
ADDED = ("la_runs", "definition_fingerprint")

AUDIENCE = validate_data(
    la.Audience,
    {
        "key": "cart_or_browse",
        "name": "Cart or browse",
        "condition": {
            "type": "group",
            "operator": "or",
            "conditions": [
                {
                    "type": "entity",
                    "relationship": "user-carts",
                    "where": {
                        "type": "column",
                        "column": "updated_at",
                        "operator": "within_last",
                        "value": 7,
                    },
                },
                {
                    "type": "event",
                    "event": "Page Viewed",
                    "count": {"at_least": 2},
                    "window": {"within_last_days": 7},
                },
            ],
        },
    },
)
#: Every kind of enrichment at once: traits, columns of the target entity, and the
#: profile's other matched entities as an array.
ENRICHED = la.Activation(
    trigger="entity_added",
    relationship="user-carts",
    traits=["loyalty_tier", "lifetime_value"],
    entity_columns=["total", "status"],
    entities=[la.EntityEnrichment(relationship="user-carts", columns=["id", "status"])],
)
TRIGGERS = (
    "audience_entered",
    "audience_exited",
    "audience_membership_changed",
    "entity_added",
    "entity_removed",
    "entity_values_changed",
)


class Recorder(la.Warehouse):
    """A warehouse without a connection that keeps what it is sent; reads answer ``rows``
    (one list per read, in order) and the catalog lists every state column but ``missing``."""

    def __init__(self, dialect: str, *, missing: tuple[str, str] | None = None) -> None:
        super().__init__(get_dialect(dialect), connection=None)
        self.sent: list[exp.Expr | str] = []
        self.rows: list[list[tuple[Any, ...]]] = []
        self.missing = missing

    def execute(self, query: exp.Expr | str) -> None:
        self.sent.append(query)

    def fetchall(self, query: exp.Expr | str) -> list[tuple[Any, ...]]:
        self.sent.append(query)
        return self.rows.pop(0) if self.rows else []

    def catalog(self, names: set[str]) -> tuple[list[tuple[Any, ...]], str]:
        schema = "linked_audiences"
        rows = [
            ("db", schema, spec.name, column, kind)
            for spec in ALL_TABLES
            for column, kind in spec.columns
            if (spec.name, column) != self.missing
        ]
        return rows, schema

    def take(self) -> list[exp.Expr | str]:
        sent, self.sent = self.sent, []
        return sent


#: An account audience (members are accounts): its snapshot and its Group / Identify calls.
ACCOUNTS = validate_data(
    la.Audience,
    {
        "key": "buying_accounts",
        "name": "Accounts with a buyer",
        "level": "account",
        "condition": {
            "type": "users",
            "quantifier": "any",
            "where": {"type": "event", "event": "Order Completed"},
        },
    },
)
ACCOUNT_ACTIVATIONS = (
    la.Activation(trigger="account_membership_changed", traits=["plan"]),
    la.Activation(trigger="account_user_membership_changed", traits=["loyalty_tier"]),
)


def _run_sql(warehouse: Recorder, audience: la.Audience = AUDIENCE) -> RunSql:
    graph, _ = load_examples()
    compiled = la.compile(audience, graph, dialect=warehouse.dialect.name, as_of=AS_OF)
    return RunSql(State(warehouse), compiled, graph, RUN_ID, PREVIOUS)


def _ddl(dialect: str, missing: tuple[str, str] | None = None) -> list[exp.Expr]:
    warehouse = Recorder(dialect, missing=missing)
    State(warehouse).ensure()
    return [q for q in warehouse.take() if isinstance(q, exp.Expr)]


def _commit(dialect: str) -> list[exp.Expr | str]:
    """The commit's statements: the plain INSERT where UNIQUE is enforced; else the
    conditional INSERT, then the read-back of the commits from the same baseline."""
    warehouse = Recorder(dialect)
    warehouse.rows = [[(RUN_ID,)]]  # the read-back finds this run's row alone
    ledger = Ledger(State(warehouse), AUDIENCE.key)
    values: list[exp.Expr] = [
        string(RUN_ID),
        string(AUDIENCE.key),
        string(PREVIOUS),
        timestamp(AS_OF),
        timestamp(STARTED),
        timestamp(STARTED),
        *(exp.Literal.number(n) for n in (120, 7, 3, 5, 2, 0, 17, 0)),
        *(exp.Literal.number(s) for s in (0.01, 0.5, 0.2, 0.3)),
        exp.false(),
        string("fingerprint"),
        exp.Literal.number(4),  # unselected changes
    ]
    assert len(values) == len(RUNS.columns)
    commit(ledger, RUN_ID, PREVIOUS, values)
    return warehouse.take()


def _lease(dialect: str) -> list[exp.Expr | str]:
    """A lease of the run lock: the row written, then the read of the audience's leases."""
    warehouse = Recorder(dialect)
    held = Held(State(warehouse), AUDIENCE.key, RUN_ID, 900.0)
    held._write(LEASE_FROM, LEASE_FROM + 900.0, released=False)
    held.others_live(LEASE_FROM)
    return warehouse.take()


def _session_lock(dialect: str) -> list[exp.Expr | str]:
    d = get_dialect(dialect)
    return [q for q in (d.run_lock(AUDIENCE.key), d.run_unlock(AUDIENCE.key)) if q is not None]


def statements(dialect: str) -> dict[str, Callable[[], Sequence[exp.Expr | str]]]:
    """File name → the statements it holds, for ``dialect``."""

    def run_sql() -> RunSql:
        return _run_sql(Recorder(dialect))

    def changes(trigger: str) -> Callable[[], Sequence[exp.Expr | str]]:
        relationship = "user-carts" if trigger.startswith("entity_") else None
        activation = la.Activation(trigger=trigger, relationship=relationship)
        return lambda: [run_sql().changes(activation)]

    out: dict[str, Callable[[], Sequence[exp.Expr | str]]] = {
        "state_ddl": lambda: _ddl(dialect),
        "state_add_column": lambda: [
            q for q in _ddl(dialect, missing=ADDED) if isinstance(q, exp.Alter)
        ],
        "members_snapshot": lambda: [run_sql().members_snapshot()],
        "entities_snapshot": lambda: [run_sql().entities_snapshot({})],
        "diff_counts": lambda: [run_sql().member_counts(), run_sql().entity_counts(["user-carts"])],
        **{f"changes_{t}": changes(t) for t in TRIGGERS},
        "events_default": lambda: [
            run_sql().events(la.Activation(trigger="audience_entered"), AS_OF, 0)
        ],
        "events_enriched": lambda: [run_sql().events(ENRICHED, AS_OF, 17)],
        "accounts_members_snapshot": lambda: [
            _run_sql(Recorder(dialect), ACCOUNTS).members_snapshot()
        ],
        "accounts_events": lambda: [
            _run_sql(Recorder(dialect), ACCOUNTS).events(a, AS_OF, 0) for a in ACCOUNT_ACTIVATIONS
        ],
        "commit": lambda: _commit(dialect),
    }
    run_lock = get_dialect(dialect).RUN_LOCK
    if run_lock == "lease":
        out["lock_lease"] = lambda: _lease(dialect)
    elif run_lock == "session":
        out["lock_session"] = lambda: _session_lock(dialect)
    return out


def sent_functions(query: exp.Expr, dialect: str) -> set[str]:
    """Functions ``query`` calls as it is sent, by the rules of tests/test_functions.py.

    That test reads the golden files back through sqlglot, which respells a few calls
    (Databricks NAMED_STRUCT as STRUCT, DuckDB LIST as ARRAY_AGG, Snowflake
    ARRAY_CONSTRUCT() as []); this reads the statement as built, so the spelling the
    warehouse receives is checked too."""
    sqlglot_dialect = get_dialect(dialect).sqlglot_dialect
    names: set[str] = set()
    for node in query.find_all(exp.Func):
        if isinstance(node, exp.Anonymous):
            names.add(node.name.upper())
        elif not (isinstance(node, exp.If) and isinstance(node.parent, exp.Case)):
            match = _CALL.match(node.sql(dialect=sqlglot_dialect))
            if match and match.group(1).upper() not in NOT_CHECKED:
                names.add(match.group(1).upper())
    return names


def _render(dialect: str, name: str, queries: Sequence[exp.Expr | str]) -> str:
    d = get_dialect(dialect)
    body = "\n\n".join(
        (q if isinstance(q, str) else d.render(q, pretty=True)) + ";" for q in queries
    )
    return (
        f"-- run SQL: {name}\n"
        f"-- dialect: {dialect}; audience: "
        f"{(ACCOUNTS if name.startswith('accounts_') else AUDIENCE).key}; run: {RUN_ID}; "
        f"baseline: {PREVIOUS}; as_of: {AS_OF.isoformat()}\n"
        "-- refresh: ./scripts/test tests/test_golden_runs.py --update-snapshots\n\n"
        f"{body}\n"
    )


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_golden_run_sql(dialect: str, update_snapshots: bool) -> None:
    d = get_dialect(dialect)
    for name, build in statements(dialect).items():
        queries = build()
        assert queries, f"{dialect}: {name} sends nothing"
        for query in queries:
            assert isinstance(query, exp.Expr), f"{dialect}: {name} sent SQL text"
            sql = d.render(query)
            assert sqlglot.parse_one(sql, read=d.sqlglot_dialect) is not None
            missing = sent_functions(query, dialect) - documented(dialect)
            assert not missing, f"{dialect} has no {', '.join(sorted(missing))} ({name})"
        text = _render(dialect, name, queries)
        assert len(sqlglot.parse(text, read=d.sqlglot_dialect)) == len(queries)
        assert_matches_snapshot(GOLDEN / dialect / f"{name}.sql", text, update=update_snapshots)


def test_ddl_declares_unique_only_where_enforced() -> None:
    for dialect, cls in DIALECTS.items():
        ddl = " ".join(get_dialect(dialect).render(q) for q in _ddl(dialect))
        assert ("UNIQUE" in ddl) == cls.ENFORCES_UNIQUE, dialect


def test_commit_is_conditional_only_where_unique_is_not_enforced() -> None:
    for dialect, cls in DIALECTS.items():
        sent = _commit(dialect)
        insert = sent[0]
        assert isinstance(insert, exp.Insert)
        conditional = insert.find(exp.Exists) is not None
        assert conditional != cls.ENFORCES_UNIQUE, dialect
        assert len(sent) == (1 if cls.ENFORCES_UNIQUE else 2), dialect


def test_no_stale_golden_run_files() -> None:
    expected = {f"{d}/{name}.sql" for d in DIALECTS for name in statements(d)}
    found = {f"{p.parent.name}/{p.name}" for p in GOLDEN.glob("*/*.sql")}
    assert found == expected
