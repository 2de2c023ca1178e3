"""Runs on the cloud warehouses' stand-ins give DuckDB's answers, hold one run at a time,
commit once, and survive SIGKILL.

Each stand-in (fakesnow, bqemulator, PostgreSQL behind redshift-connector, local Spark) gets
the demo warehouse's rows and is reached through ``la.connect`` with the URL a user writes.
The expected events are a DuckDB run's on the same rows: DuckDB is checked against the
reference evaluator in tests/test_runs.py.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import build_demo_warehouse
from linked_audiences.runs import RunConflict, RunInProgress, run_log
from linked_audiences.runs import engine as engine_module
from linked_audiences.runs.lock import run_lock
from linked_audiences.runs.sinks import CallableSink, JsonLinesSink
from linked_audiences.runs.state import State

from .conftest import EXAMPLES, REDSHIFT_LACKS, ROOT
from .engines.demo_copy import demo_tables
from .test_runs import AUDIENCE, ENRICHED, T1, T2, _numbers_as_floats

#: Redshift functions PostgreSQL lacks, as PostgreSQL functions with Redshift's meaning
#: (OBJECT is PostgreSQL's own JSON_BUILD_OBJECT under Redshift's name). LISTAGG … WITHIN
#: GROUP cannot be defined there, so entity arrays are not run on the Redshift stand-in.
REDSHIFT_SHIMS = [
    "CREATE SCHEMA IF NOT EXISTS redshift_shims",
    'CREATE OR REPLACE FUNCTION redshift_shims.object(VARIADIC "any") RETURNS json '
    "LANGUAGE internal STABLE AS 'json_build_object'",
    "CREATE OR REPLACE FUNCTION redshift_shims.json_serialize(json) RETURNS text "
    "LANGUAGE sql IMMUTABLE AS 'SELECT $1::text'",
    "CREATE OR REPLACE FUNCTION redshift_shims.json_parse(text) RETURNS json "
    "LANGUAGE sql IMMUTABLE AS 'SELECT $1::json'",
]
REDSHIFT_SESSION = [
    "SET search_path = public, redshift_lacks, redshift_shims, pg_catalog",
    "SET standard_conforming_strings = off",
]
NO_ARRAYS = [
    la.Activation(trigger="audience_entered", traits=["loyalty_tier"]),
    la.Activation(trigger="entity_added", relationship="user-carts", entity_columns=["total"]),
]
_schemas = iter(range(10_000))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("standin_runs") / "demo.duckdb"
    build_demo_warehouse(path, profiles=40, seed=9)
    return path


class StandIn:
    """A stand-in holding the demo rows: a URL for ``la.connect`` plus the session setup a
    stand-in needs and the real warehouse does not."""

    def __init__(self, url: str, setup: list[str] | None = None) -> None:
        self.url, self.setup = url, setup or []

    def connect(self) -> la.Warehouse:
        warehouse = la.connect(self.url)
        for statement in self.setup:
            warehouse.execute(statement)
        return warehouse


# Each stand-in fixture leaves its server as it found it: other modules import these
# fixtures (or load the demo themselves), and a second load of the same tables fails.


@pytest.fixture(scope="module")
def snowflake_standin(fakesnow_port: int, demo: Path) -> Iterator[StandIn]:
    from .engines.snowflake_loader import drop_tables, load_tables

    url = (
        f"snowflake://fake:snow@fakesnow/la_runs/public?host=127.0.0.1&port={fakesnow_port}"
        "&protocol=http&paramstyle=qmark"
    )
    tables, types = demo_tables(demo)
    with la.connect(url) as warehouse:
        load_tables(warehouse.connection.cursor(), tables, types)
    yield StandIn(url)
    with la.connect(url) as warehouse:
        drop_tables(warehouse.connection.cursor(), types)


@pytest.fixture(scope="module")
def bigquery_standin(bigquery_endpoint: str, demo: Path) -> Iterator[StandIn]:
    from .engines.bigquery_loader import drop_datasets, load_tables
    from .engines.bqemulator_server import PROJECT

    url = (
        f"bigquery://{PROJECT}/la_runs?api_endpoint={bigquery_endpoint}"
        "&credentials=anonymous&retry_seconds=30"
    )
    tables, types = demo_tables(demo)
    with la.connect(url) as warehouse:
        load_tables(warehouse.connection.client, "la_runs", tables, types)
    yield StandIn(url)
    with la.connect(url) as warehouse:
        drop_datasets(warehouse.connection.client, "la_runs", types)


@pytest.fixture(scope="module")
def redshift_standin(postgres_dsn: str, demo: Path) -> Iterator[StandIn]:
    from .engines.redshift_loader import load_tables
    from .engines.redshift_proxy import redshift_proxy

    dsn = dict(part.split("=", 1) for part in postgres_dsn.split())
    with redshift_proxy(f"{dsn['host']}/.s.PGSQL.{dsn['port']}") as port:
        url = (
            f"redshift://{dsn['user']}:unused-md5-secret@127.0.0.1:{port}/{dsn['dbname']}?ssl=false"
        )
        standin = StandIn(url, REDSHIFT_SESSION)
        with la.connect(url) as warehouse:
            for statement in [*REDSHIFT_LACKS, *REDSHIFT_SHIMS, *REDSHIFT_SESSION]:
                warehouse.execute(statement)
            cursor = warehouse.connection.cursor()
            cursor.paramstyle = "qmark"
            tables, types = demo_tables(demo)
            load_tables(cursor, tables, types)
        yield standin
    # The PostgreSQL server is the session's: leave it as found, so a later test can load
    # the demo's tables again.
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        for schema in sorted({name.split(".")[0] for name in types}):
            con.execute(
                psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    psycopg.sql.Identifier(schema)
                )
            )


@pytest.fixture(scope="module")
def databricks_standin(spark: Any, demo: Path) -> Iterator[StandIn]:
    from .engines.spark_session import databases, drop_databases, load_tables

    tables, types = demo_tables(demo)
    load_tables(spark, "default", tables, types)
    yield StandIn("databricks://local?spark=local[2]")
    # The Spark session is the test session's: other modules (which import this fixture,
    # or load the demo themselves) must find its databases as they were.
    drop_databases(spark, [d for d in databases("default", types) if d != "default"])


ENGINES = [
    pytest.param("snowflake", marks=pytest.mark.snowflake),
    pytest.param("bigquery", marks=pytest.mark.bigquery),
    pytest.param("redshift", marks=pytest.mark.redshift),
    pytest.param("databricks", marks=[pytest.mark.databricks, pytest.mark.slow]),
]
#: Every stand-in's warehouse holds its run lock as a lease; the lease and commit logic is
#: one code path, so the slow Spark stand-in runs only the full comparison above.
LEASED = ENGINES[:3]


def standin(request: pytest.FixtureRequest, engine: str) -> StandIn:
    return request.getfixturevalue(f"{engine}_standin")  # type: ignore[no-any-return]


def _payloads(result: la.RunResult) -> list[str]:
    """The run's events without their messageIds (run ids differ per warehouse)."""
    return sorted(
        json.dumps(
            _numbers_as_floats({k: v for k, v in e.items() if k != "messageId"}), sort_keys=True
        )
        for e in result.events
    )


def _three_runs(
    warehouse: la.Warehouse,
    activations: list[la.Activation] | None,
    audience: la.Audience = AUDIENCE,
) -> list[Any]:
    graph, _ = load_examples()
    schema = f"state_{next(_schemas)}"
    answers = []
    for as_of in (T1, T2, T2):  # backfill, changed data, no change
        result = la.run(
            audience, graph, warehouse, as_of=as_of, activations=activations, state_schema=schema
        )
        stats = result.stats
        counts = (stats.members, stats.entered, stats.exited, stats.entities_added)
        answers.append((counts, stats.entities_removed, stats.events, _payloads(result)))
    return answers


@pytest.mark.parametrize("engine", ENGINES)
def test_runs_match_duckdb(request: pytest.FixtureRequest, engine: str, demo: Path) -> None:
    defaults = [
        a
        for a in la.runs.default_activations(AUDIENCE)
        if (a.trigger, a.relationship) not in {(e.trigger, e.relationship) for e in ENRICHED}
    ]
    # Redshift's entity arrays need LISTAGG … WITHIN GROUP, which its stand-in lacks
    enriched = NO_ARRAYS if engine == "redshift" else ENRICHED
    activations = [*enriched, *defaults]
    with la.connect(f"duckdb:///{demo}", read_only=False) as duck:
        expected = _three_runs(duck, activations)
    with standin(request, engine).connect() as warehouse:
        assert _three_runs(warehouse, activations) == expected
    assert expected[0][2] > 0 and expected[1][0][2] > 0  # events at backfill; exits later
    assert expected[2][2] == 0  # nothing changed: no events


#: An account audience whose membership changes between T1 and T2 on the 40-profile demo.
ACCOUNT_AUDIENCE = la.Audience.model_validate(
    {
        "key": "accounts_with_views",
        "name": "Accounts with recent page views",
        "level": "account",
        "condition": {
            "type": "group",
            "operator": "or",
            "conditions": [
                {
                    "type": "users",
                    "quantifier": "any",
                    "where": {
                        "type": "event",
                        "event": "Page Viewed",
                        "window": {"within_last_days": 1},
                    },
                },
                {
                    "type": "users",
                    "quantifier": "none",
                    "where": {
                        "type": "event",
                        "event": "Product Viewed",
                        "window": {"within_last_days": 3},
                    },
                },
            ],
        },
    }
)


@pytest.mark.parametrize("engine", ENGINES)
def test_account_runs_match_duckdb(request: pytest.FixtureRequest, engine: str, demo: Path) -> None:
    """Group and Identify calls of an account audience, with account-trait enrichment."""
    activations = [
        la.Activation(trigger="account_membership_changed", traits=["plan", "seats"]),
        la.Activation(trigger="account_user_membership_changed", traits=["loyalty_tier"]),
    ]
    with la.connect(f"duckdb:///{demo}", read_only=False) as duck:
        expected = _three_runs(duck, activations, ACCOUNT_AUDIENCE)
    with standin(request, engine).connect() as warehouse:
        assert _three_runs(warehouse, activations, ACCOUNT_AUDIENCE) == expected
    assert expected[0][2] > 0 and expected[1][0][1] + expected[1][0][2] > 0
    assert expected[2][2] == 0


@pytest.mark.parametrize("engine", LEASED)
def test_lease_lock_refuses_a_second_run(
    request: pytest.FixtureRequest, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, _ = load_examples()
    schema = f"state_{next(_schemas)}"
    stand = standin(request, engine)
    with stand.connect() as holder, stand.connect() as other:
        state = State(holder, schema)
        state.ensure()
        with (
            run_lock(state, AUDIENCE.key, "holder-run"),
            pytest.raises(RunInProgress, match="holds its lease"),
        ):
            la.run(AUDIENCE, graph, other, as_of=T1, state_schema=schema)
        # released when the holder's run ended: the other session runs now
        assert la.run(AUDIENCE, graph, other, as_of=T1, state_schema=schema).stats.members > 0
        # a holder that died keeps the audience only until its lease expires
        monkeypatch.setenv("LA_LEASE_SECONDS", "8")
        lock = run_lock(state, AUDIENCE.key, "dead-run")
        dead = lock.__enter__()  # never exited: as if the process was killed
        monkeypatch.delenv("LA_LEASE_SECONDS")  # the next run's own lease: the default
        with pytest.raises(RunInProgress):
            la.run(AUDIENCE, graph, other, as_of=T2, state_schema=schema)
        time.sleep(max(0.0, dead.expires - time.time()) + 0.5)
        assert la.run(AUDIENCE, graph, other, as_of=T2, state_schema=schema).run_id


@pytest.mark.parametrize("engine", LEASED)
def test_commit_from_a_taken_baseline_is_refused(
    request: pytest.FixtureRequest, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without enforced UNIQUE, two commits from one baseline: the conditional insert
    refuses the second; and if both inserted (a race), the one that sees another withdraws."""
    graph, _ = load_examples()
    schema = f"state_{next(_schemas)}"
    with standin(request, engine).connect() as warehouse:
        la.run(AUDIENCE, graph, warehouse, as_of=T1, state_schema=schema)
        commit = engine_module._commit
        competitor = iter(["competitor", "racer"])

        def competitor_first(ledger: Any, run_id: str, previous: Any, *args: Any) -> None:
            commit(ledger, next(competitor), previous, *args)  # another process came first
            commit(ledger, run_id, previous, *args)

        monkeypatch.setattr(engine_module, "_commit", competitor_first)
        with pytest.raises(RunConflict, match="committed from the same baseline first"):
            la.run(AUDIENCE, graph, warehouse, as_of=T2, state_schema=schema)
        log = run_log(warehouse, AUDIENCE.key, state_schema=schema)
        assert sorted(e["status"] for e in log) == ["committed", "committed", "failed"]

        # Both conditional inserts passed at once: both rows are there; this run withdraws.
        from linked_audiences.runs import commit as commit_module

        def unconditional(ledger: Any, previous: str, values: Any) -> Any:
            return ledger.state.insert(commit_module.RUNS, values)

        monkeypatch.setattr(commit_module, "_insert_unless_committed", unconditional)
        with pytest.raises(RunConflict):
            la.run(AUDIENCE, graph, warehouse, as_of=T2, state_schema=schema)
        log = run_log(warehouse, AUDIENCE.key, state_schema=schema)
        statuses = sorted(e["status"] for e in log)
        assert statuses == ["committed", "committed", "committed", "failed", "failed"]
        assert {"competitor", "racer"} <= {e["run_id"] for e in log if e["status"] == "committed"}


@pytest.mark.parametrize("engine", LEASED)
def test_preview_and_deliver(request: pytest.FixtureRequest, engine: str, demo: Path) -> None:
    """A preview counts what DuckDB counts; events a failing sink refused are delivered
    later by ``deliver``, each once."""
    graph, _ = load_examples()
    with la.connect(f"duckdb:///{demo}") as duck:
        expected = la.preview(AUDIENCE, graph, duck, as_of=T2, sample=5)
    schema = f"state_{next(_schemas)}"
    with standin(request, engine).connect() as warehouse:
        found = la.preview(AUDIENCE, graph, warehouse, as_of=T2, sample=5)
        assert (found.count, found.sample) == (expected.count, expected.sample)

        def refuse(events: Any) -> None:
            raise ConnectionError("the receiver is down")

        with pytest.raises(la.runs.DeliveryFailed):
            la.run(
                AUDIENCE, graph, warehouse, as_of=T2, state_schema=schema,
                sink=CallableSink(refuse, batch=True),
            )  # fmt: skip
        received: list[dict[str, Any]] = []
        sink = CallableSink(received.extend, batch=True)
        assert la.runs.deliver(warehouse, AUDIENCE.key, sink, state_schema=schema) > 0
        assert la.runs.deliver(warehouse, AUDIENCE.key, sink, state_schema=schema) == 0
        assert len({e["messageId"] for e in received}) == len(received) > 0


# -- SIGKILL at random instants ----------------------------------------------------------------


def _replay(events: list[dict[str, Any]]) -> tuple[set[Any], set[Any]]:
    """Members and entities after applying each messageId once; a change under two ids, an
    enter twice or an exit without enter fails."""
    ids: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    members: set[Any] = set()
    entities: set[Any] = set()
    seen: set[str] = set()
    for event in events:
        props = event.get("properties") or {}
        who = (event.get("userId"), event.get("anonymousId"))
        change = (event["timestamp"], event.get("event"), who, props.get("entity_id"))
        ids[change].add(event["messageId"])
        if event["messageId"] in seen or event["type"] != "track":
            continue
        seen.add(event["messageId"])
        name = event["event"]
        if name == "Audience Entered":
            assert who not in members, f"entered twice: {who}"
            members.add(who)
        elif name == "Audience Exited":
            assert who in members, f"exited without entering: {who}"
            members.remove(who)
        elif name in ("Entity Added", "Entity Removed"):
            key = (*who, props["relationship"], props["entity_id"])
            assert (key in entities) == (name == "Entity Removed"), (name, key)
            (entities.add if name == "Entity Added" else entities.remove)(key)
    assert not {c: i for c, i in ids.items() if len(i) > 1}, "a change under two messageIds"
    return members, entities


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


#: engine → lease seconds: long enough for one step of a run on that stand-in, short
#: enough that a killed run's lease expires soon.
KILLED = [
    pytest.param("snowflake", 4, marks=pytest.mark.snowflake),
    pytest.param("bigquery", 10, marks=pytest.mark.bigquery),
    pytest.param("redshift", 3, marks=pytest.mark.redshift),
]


@pytest.mark.parametrize(("engine", "lease"), KILLED)
def test_runs_killed_at_random_instants(
    request: pytest.FixtureRequest, engine: str, lease: int, demo: Path, tmp_path: Path
) -> None:
    """Runs at later and later as_of, each SIGKILLed after a random delay (a killed run's
    lease is short here); then one completes. What reached the sink replays to exactly what
    a clean DuckDB run delivers. (Local Spark keeps its catalog in one process's embedded
    Derby database, so a second process cannot share it: Databricks is not killed here.)"""
    stand = standin(request, engine)
    audience_file = tmp_path / "audience.json"
    audience_file.write_text(AUDIENCE.model_dump_json(exclude_none=True), encoding="utf-8")
    graph_file = EXAMPLES / "graph.yaml"
    out, schema = tmp_path / "events.jsonl", f"state_{next(_schemas)}"
    env = {"LA_LEASE_SECONDS": str(lease)}
    setup = [arg for statement in stand.setup for arg in ("--setup", statement)]
    chance = random.Random(20261202)
    final = "2026-11-01T00:00:00Z"

    def start(day: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.harness.run_and_die",
                stand.url,
                str(graph_file),
                str(audience_file),
                f"2026-10-{day:02d}T00:00:00Z",
                str(out),
                "--state-schema",
                schema,
                *setup,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env},
        )

    # One complete run first: the baseline, and how long a run takes here (start-up
    # included), so the kills below land inside runs however fast or loaded the machine is.
    clock = time.monotonic()
    assert start(19).wait(timeout=300) == 0
    duration = time.monotonic() - clock
    killed = 0
    for day in range(20, 25):
        process = start(day)
        time.sleep(chance.uniform(0.3, 0.95) * duration)
        killed += process.poll() is None
        process.kill()
        process.wait(timeout=60)
        time.sleep(lease + 0.2)  # its lease expires
    assert killed >= 3, "most runs were killed mid-way"
    graph = la.DataGraph.load(graph_file)
    with stand.connect() as warehouse:
        la.run(
            AUDIENCE, graph, warehouse, as_of=final, sink=JsonLinesSink(out), state_schema=schema
        )
    clean = tmp_path / "clean.jsonl"
    with la.connect(f"duckdb:///{demo}") as duck:
        la.run(AUDIENCE, graph, duck, as_of=final, sink=JsonLinesSink(clean), state_schema=schema)
    assert _replay(_lines(out)) == _replay(_lines(clean))
