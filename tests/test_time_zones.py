"""The compiled SQL answers the same in every session time zone, on DuckDB and PostgreSQL.

Warehouses store date-like values three ways: DATE, a zone-less TIMESTAMP (holding UTC
wall-clock time, Segment's convention) and an instant (TIMESTAMPTZ). A literal of another
kind makes the engine convert through the session's zone, so the same SQL used to return
other members under America/Los_Angeles or Asia/Kathmandu (+05:45). Here every value sits
within hours of a bound, stored in each of the three ways (and as ISO text with and without
an offset); every audience must give the reference evaluator's answer in every zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import duckdb
import pytest

import linked_audiences as la

from .reference.evaluator import Tables, evaluate

UTC = timezone.utc
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
CUTOFF = "2026-10-15T00:00:00Z"
ZONES = ["UTC", "America/Los_Angeles", "Asia/Kathmandu"]

#: column → (declared type, DuckDB type, PostgreSQL type). Each holds the same instant.
TRAIT_COLUMNS: dict[str, tuple[str, str, str]] = {
    "seen_naive": ("timestamp", "TIMESTAMP", "TIMESTAMP"),
    "seen_aware": ("timestamp", "TIMESTAMPTZ", "TIMESTAMPTZ"),
    "seen_day": ("date", "DATE", "DATE"),
    "day_as_timestamp": ("timestamp", "DATE", "DATE"),
    "aware_as_date": ("date", "TIMESTAMPTZ", "TIMESTAMPTZ"),
    "naive_as_date": ("date", "TIMESTAMP", "TIMESTAMP"),
    "seen_text": ("string", "VARCHAR", "TEXT"),
}

GRAPH = la.DataGraph.model_validate(
    {
        "profile": {
            "traits_table": "tz.traits",
            "key": "pid",
            "identifiers_table": "tz.ids",
            "traits": {name: declared for name, (declared, _, _) in TRAIT_COLUMNS.items()},
        },
        "events": [
            {"name": "Visit Naive", "table": "tz.visits_naive", "profile_key": "pid",
             "timestamp": "ts"},
            {"name": "Visit Aware", "table": "tz.visits_aware", "profile_key": "pid",
             "timestamp": "ts"},
            {"name": "Visit Day", "table": "tz.visits_day", "profile_key": "pid",
             "timestamp": "ts"},
        ],
    }
)  # fmt: skip
EVENT_TYPES = {"visits_naive": ("TIMESTAMP",) * 2, "visits_aware": ("TIMESTAMPTZ",) * 2,
               "visits_day": ("DATE",) * 2}  # fmt: skip


def _instants() -> list[datetime]:
    """Moments near every bound the audiences use, closer than any zone's offset."""
    bounds = [AS_OF + timedelta(days=d) for d in (-2, -1, 0, 1)]
    bounds.append(datetime(2026, 10, 15, tzinfo=UTC))
    deltas = [timedelta(minutes=m) for m in (-400, -50, -1, 0, 1, 50, 400)]
    return [b + d for b in bounds for d in deltas]


def _text(moment: datetime, i: int) -> str:
    """ISO text in the three forms the library reads: no offset, ``Z``, date only."""
    forms = [moment.strftime("%Y-%m-%dT%H:%M:%S"), moment.strftime("%Y-%m-%d %H:%M:%SZ"),
             moment.date().isoformat()]  # fmt: skip
    return forms[i % 3]


def _data() -> tuple[Tables, Tables]:
    """(stored rows as the warehouse holds them, the same rows as their declared types mean)."""
    stored: Tables = {"tz.ids": [], "tz.traits": []}
    meant: Tables = {"tz.ids": [], "tz.traits": []}
    for table in EVENT_TYPES:
        stored[f"tz.{table}"], meant[f"tz.{table}"] = [], []
    for i, moment in enumerate(_instants()):
        pid = f"p{i}"
        ident = {"pid": pid, "type": "user_id", "value": f"u{i}"}
        stored["tz.ids"].append(ident)
        meant["tz.ids"].append(ident)
        naive = moment.replace(tzinfo=None)
        midnight = datetime.combine(moment.date(), datetime.min.time(), UTC)
        text = _text(moment, i)
        stored["tz.traits"].append({"pid": pid, "seen_naive": naive, "seen_aware": moment,
            "seen_day": moment.date(), "day_as_timestamp": moment.date(),
            "aware_as_date": moment, "naive_as_date": naive, "seen_text": text})  # fmt: skip
        meant["tz.traits"].append({"pid": pid, "seen_naive": moment, "seen_aware": moment,
            "seen_day": moment.date(), "day_as_timestamp": midnight,
            "aware_as_date": moment.date(), "naive_as_date": moment.date(),
            "seen_text": text})  # fmt: skip
        stored["tz.visits_naive"].append({"pid": pid, "ts": naive})
        stored["tz.visits_aware"].append({"pid": pid, "ts": moment})
        stored["tz.visits_day"].append({"pid": pid, "ts": moment.date()})
        meant["tz.visits_naive"].append({"pid": pid, "ts": moment})
        meant["tz.visits_aware"].append({"pid": pid, "ts": moment})
        meant["tz.visits_day"].append({"pid": pid, "ts": midnight})
    return stored, meant


def _audiences() -> list[la.Audience]:
    conditions: list[dict[str, Any]] = []
    for trait, (declared, _, _) in TRAIT_COLUMNS.items():
        conditions += [
            {"operator": "before_date", "value": CUTOFF},
            {"operator": "after_date", "value": CUTOFF},
            {"operator": "within_last", "value": 1},
            {"operator": "within_next", "value": 1},
            {"operator": "before_last", "value": 1},
            {"operator": "after_next", "value": 1},
        ]
        conditions[-6:] = [{"type": "trait", "trait": trait, **c} for c in conditions[-6:]]
        if declared != "string":
            bound = "2026-10-31" if declared == "date" else "2026-10-31T22:00:00Z"
            conditions.append(
                {"type": "trait", "trait": trait, "operator": "greater_than", "value": bound}
            )
    for stored in ("seen_naive", "day_as_timestamp"):  # zone-less against an instant
        conditions.append({"type": "trait", "trait": stored, "operator": "greater_than_or_equal",
                           "reference": {"trait": "seen_aware"}})  # fmt: skip
    for event in ("Visit Naive", "Visit Aware", "Visit Day"):
        conditions += [
            {"type": "event", "event": event},
            {"type": "event", "event": event, "window": {"within_last_days": 1}},
            {"type": "event", "event": event, "window": {"between_days_ago": [1, 2]}},
        ]
    return [
        la.Audience.model_validate({"key": f"a{i}", "name": f"a{i}", "condition": c})
        for i, c in enumerate(conditions)
    ]


STORED, MEANT = _data()
AUDIENCES = _audiences()


def _column_types(engine: int) -> dict[str, dict[str, str]]:
    """What a catalog reports: graph table → column → SQL type (engine 1 DuckDB, 2 PG)."""
    traits = {"pid": "VARCHAR"} | {n: types[engine] for n, types in TRAIT_COLUMNS.items()}
    types: dict[str, dict[str, str]] = {"tz.traits": traits}
    for table, kinds in EVENT_TYPES.items():
        types[f"tz.{table}"] = {"pid": "VARCHAR", "ts": kinds[engine - 1]}
    types["tz.ids"] = {"pid": "VARCHAR", "type": "VARCHAR", "value": "VARCHAR"}
    return types


def _answers(fetch: Callable[[str], list[tuple[Any, ...]]], dialect: str, engine: int,
             ) -> dict[str, frozenset[str]]:  # fmt: skip
    answers = {}
    for audience in AUDIENCES:
        compiled = la.compile(
            audience, GRAPH, dialect=dialect, as_of=AS_OF, column_types=_column_types(engine)
        )
        answers[audience.key] = frozenset(str(r[0]) for r in fetch(compiled.profiles_sql))
    return answers


def _expected() -> dict[str, frozenset[str]]:
    return {a.key: evaluate(a, GRAPH, MEANT, AS_OF).members for a in AUDIENCES}


def test_the_data_can_tell_zones_apart() -> None:
    """Not vacuous: the audiences split the profiles, and most answers are neither all nor
    none of them."""
    expected = _expected()
    everyone = {f"p{i}" for i in range(len(_instants()))}
    split = [k for k, members in expected.items() if members and members != everyone]
    assert len(split) >= len(expected) * 3 // 4


@pytest.fixture(scope="module")
def duckdb_tables() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA tz")
    con.execute("CREATE TABLE tz.ids (pid VARCHAR, type VARCHAR, value VARCHAR)")
    columns = ", ".join(f"{n} {types[1]}" for n, types in TRAIT_COLUMNS.items())
    con.execute(f"CREATE TABLE tz.traits (pid VARCHAR, {columns})")
    for table, kinds in EVENT_TYPES.items():
        con.execute(f"CREATE TABLE tz.{table} (pid VARCHAR, ts {kinds[0]})")
    for table, rows in STORED.items():
        names = list(rows[0])
        marks = ", ".join("?" for _ in names)
        con.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
            [[row[n] for n in names] for row in rows],
        )
    yield con
    con.close()


@pytest.mark.duckdb
@pytest.mark.parametrize("zone", ZONES)
def test_duckdb_answers_alike_in_every_session_zone(
    duckdb_tables: duckdb.DuckDBPyConnection, zone: str
) -> None:
    duckdb_tables.execute(f"SET TimeZone = '{zone}'")  # one of ZONES
    try:
        answers = _answers(lambda sql: duckdb_tables.execute(sql).fetchall(), "duckdb", 1)
    finally:
        duckdb_tables.execute("SET TimeZone = 'UTC'")
    assert answers == _expected()


@pytest.mark.postgres
@pytest.mark.parametrize("zone", ZONES)
def test_postgres_answers_alike_in_every_session_zone(postgres_dsn: str, zone: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn) as conn:
        try:
            conn.execute("SET TIME ZONE 'UTC'")
            conn.execute("CREATE SCHEMA tz")
            conn.execute("CREATE TABLE tz.ids (pid TEXT, type TEXT, value TEXT)")
            columns = ", ".join(f"{n} {types[2]}" for n, types in TRAIT_COLUMNS.items())
            conn.execute(f"CREATE TABLE tz.traits (pid TEXT, {columns})")
            for table, kinds in EVENT_TYPES.items():
                conn.execute(f"CREATE TABLE tz.{table} (pid TEXT, ts {kinds[1]})")
            with conn.cursor() as cursor:
                for table, rows in STORED.items():
                    names = list(rows[0])
                    marks = ", ".join("%s" for _ in names)
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                        [[row[n] for n in names] for row in rows],
                    )
            conn.execute("SELECT set_config('TimeZone', %s, true)", (zone,))
            answers = _answers(lambda sql: conn.execute(sql).fetchall(), "postgres", 2)
        finally:
            conn.rollback()
    assert answers == _expected()


def test_date_is_not_read_as_a_date_in_every_zone() -> None:
    """The reference itself: a DATE stored for a `timestamp` trait is midnight UTC."""
    assert MEANT["tz.traits"][0]["day_as_timestamp"].tzinfo is UTC
    assert isinstance(MEANT["tz.traits"][0]["aware_as_date"], date)


EXTREMES = [
    ("after_date", "0001-01-01T00:00:00Z"),
    ("before_date", "9999-12-31T23:59:59Z"),
    ("after_date", "0999-06-30T12:00:00+00:00"),
]


@pytest.mark.parametrize(("operator", "value"), EXTREMES)
def test_years_below_1000_keep_four_digits(operator: str, value: str) -> None:
    """strftime's %Y writes year 1 as "1", which PostgreSQL reads as 2001."""
    condition = {"type": "trait", "trait": "seen_aware", "operator": operator, "value": value}
    audience = la.Audience.model_validate({"key": "x", "name": "x", "condition": condition})
    for dialect in ("postgres", "duckdb", "snowflake", "bigquery", "redshift", "databricks"):
        sql = la.compile(audience, GRAPH, dialect=dialect, as_of=AS_OF).profiles_sql
        assert f"'{value[:10]} {value[11:19]}.000000" in sql, dialect


def test_bounds_beyond_the_calendar_are_clamped() -> None:
    """as_of − N days before year 1 means "since the beginning": no OverflowError."""
    condition = {"type": "trait", "trait": "seen_aware", "operator": "within_last", "value": 5}
    audience = la.Audience.model_validate({"key": "x", "name": "x", "condition": condition})
    sql = la.compile(audience, GRAPH, as_of="0001-01-02T00:00:00Z").profiles_sql
    assert "'0001-01-01 00:00:00.000000+00:00'" in sql
    late = la.compile(audience, GRAPH, as_of="9999-12-30T00:00:00Z", dialect="postgres")
    nxt = audience.model_copy(update={"condition": audience.condition.model_copy(
        update={"operator": "within_next"})})  # fmt: skip
    assert "9999-12-31 23:59:59.999999" in la.compile(nxt, GRAPH, as_of=late.as_of).profiles_sql


@pytest.mark.postgres
def test_postgres_reads_extreme_years_exactly(postgres_dsn: str) -> None:
    import psycopg

    aware = [datetime(1, 1, 1, 12, tzinfo=UTC), datetime(999, 6, 30, 13, tzinfo=UTC),
             datetime(9999, 12, 31, 12, tzinfo=UTC)]  # fmt: skip
    with psycopg.connect(postgres_dsn) as conn:
        try:
            conn.execute("CREATE SCHEMA tz")
            conn.execute("CREATE TABLE tz.ids (pid TEXT, type TEXT, value TEXT)")
            conn.execute("CREATE TABLE tz.traits (pid TEXT, seen_aware TIMESTAMPTZ)")
            for i, moment in enumerate(aware):
                conn.execute("INSERT INTO tz.ids VALUES (%s, 'user_id', %s)", (f"p{i}", f"u{i}"))
                conn.execute("INSERT INTO tz.traits VALUES (%s, %s)", (f"p{i}", moment))
            conn.execute("SELECT set_config('TimeZone', 'Asia/Kathmandu', true)")
            got = {}
            for operator, value in EXTREMES:
                audience = la.Audience.model_validate({"key": "x", "name": "x", "condition":
                    {"type": "trait", "trait": "seen_aware", "operator": operator,
                     "value": value}})  # fmt: skip
                sql = la.compile(audience, GRAPH, dialect="postgres", as_of=AS_OF).profiles_sql
                got[value] = {r[0] for r in conn.execute(sql).fetchall()}
        finally:
            conn.rollback()
    assert got == {
        "0001-01-01T00:00:00Z": {"p0", "p1", "p2"},
        "9999-12-31T23:59:59Z": {"p0", "p1", "p2"},
        "0999-06-30T12:00:00+00:00": {"p1", "p2"},
    }


@pytest.mark.duckdb
def test_preview_reads_stored_kinds_from_the_catalog(
    duckdb_tables: duckdb.DuckDBPyConnection,
) -> None:
    """`la.preview` asks the catalog how each column is stored: no column_types needed."""
    from linked_audiences.dialects import get_dialect

    warehouse = la.Warehouse(get_dialect("duckdb"), duckdb_tables)
    expected = _expected()
    # GLOBAL: the Warehouse reads through cursors, which are connections of their own.
    duckdb_tables.execute("SET GLOBAL TimeZone = 'America/Los_Angeles'")
    try:
        assert warehouse.scalar("SELECT current_setting('TimeZone')") == "America/Los_Angeles"
        for audience in AUDIENCES:
            result = la.preview(audience, GRAPH, warehouse, as_of=AS_OF, sample=1)
            assert result.count == len(expected[audience.key]), audience.key
    finally:
        duckdb_tables.execute("SET GLOBAL TimeZone = 'UTC'")


def test_a_date_column_without_catalog_types_is_compared_as_a_date() -> None:
    """Declared `date` and no catalog: a DATE, compared with DATE literals and nothing
    wrapped around the column (so engines filter it at the scan)."""
    for operator, value in (("after_date", "2026-10-15"), ("within_last", 7)):
        condition = {"type": "trait", "trait": "seen_day", "operator": operator, "value": value}
        audience = la.Audience.model_validate({"key": "x", "name": "x", "condition": condition})
        sql = la.compile(audience, GRAPH, as_of=AS_OF).profiles_sql
        assert "TIME ZONE" not in sql.upper() and "TIMEZONE" not in sql.upper()
        assert "CAST('2026-10-" in sql and "AS DATE)" in sql
