"""Every insight gives DuckDB's answer on every warehouse stand-in.

Each stand-in (fakesnow, bqemulator, PostgreSQL behind redshift-connector, local Spark)
gets the rows of one 40-profile demo warehouse; ``suggest``, ``breakdown``, ``overlap``,
``export`` (three formats), ``explain``, ``impact`` (before and after a run on that
stand-in) and ``preview(..., blocks=True)`` must then answer there what they answer on
DuckDB over the same file, at the example audiences' ``DEMO_AS_OF``. DuckDB's answers are
themselves checked against the reference evaluator and plain SQL (tests/test_insights_*.py).

Answers are compared exactly but for the spellings a client legitimately chooses, undone
by :func:`plain`: an instant is compared in UTC (Spark's Python client hands a TIMESTAMP
back as a naive datetime in the local zone, so an export or an explanation there writes
``2026-10-30T07:11:17`` where the others write ``…+00:00``; CSV cells and explanation ids
that spell an instant are read as one), and a DECIMAL as the number it is. Numbers are not
rounded: every stand-in sums the demo's doubles to the same bits.

The stand-ins are loaded here rather than through tests/test_warehouse_runs.py's fixtures:
those leave their tables (fakesnow, bqemulator, Spark) for the session, and a second load
of the same schemas in one session would find them there. These use their own database
(``la_insights``) and drop what they made, run state included.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import DEMO_AS_OF, build_demo_warehouse
from linked_audiences.insights import ExplainedNode
from linked_audiences.insights.export import ExportFormat

from .conftest import REDSHIFT_LACKS
from .engines.demo_copy import SCHEMAS, demo_tables
from .test_warehouse_runs import ENGINES, REDSHIFT_SESSION, REDSHIFT_SHIMS, StandIn

DATABASE = "la_insights"
#: Run state of the impact test (dropped at the end of the module).
STATE = "la_insights_state"

#: A funnel (checkout_not_completed), an event aggregate (big_spenders_90d), an entity
#: aggregate (indebted_cardholders) and three nested-entity or event audiences.
OVERLAP = (
    "checkout_not_completed",
    "big_spenders_90d",
    "indebted_cardholders",
    "outstanding_card_balance",
    "premium_cardholders",
    "coupon_shoppers_eu",
)
#: A top-level event aggregate; three levels of entities with composite keys (cart lines,
#: their discounts) under a group.
EXPLAINED = ("big_spenders_90d", "discounted_bulk_carts")
#: A root that is a group (two blocks) and one that is not (one block).
BLOCKS = ("browsers_not_buyers", "discounted_bulk_carts")
EXPORTED = "outstanding_card_balance"
#: Traits of every type, a computed one among them.
EXPORT_TRAITS = [
    "loyalty_tier",
    "lifetime_value",
    "is_vip",
    "signup_date",
    "last_seen_at",
    "revenue_90d",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("insights_standins") / "demo.duckdb"
    build_demo_warehouse(path, profiles=40, seed=9)
    return path


@pytest.fixture(scope="module")
def rows(demo: Path) -> tuple[Any, dict[str, dict[str, str]]]:
    # Whole numbers stay integers (cart line numbers are part of a composite key: the
    # entity id spells them as DuckDB does).
    return demo_tables(demo, SCHEMAS, integers=True)


def _quoted(name: str, dialect: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect)


@pytest.fixture(scope="module")
def snowflake_standin(fakesnow_port: int, rows: Any) -> Iterator[StandIn]:
    from .engines.snowflake_loader import drop_tables, execute, load_tables

    url = (
        f"snowflake://fake:snow@fakesnow/{DATABASE}/public?host=127.0.0.1&port={fakesnow_port}"
        "&protocol=http&paramstyle=qmark"
    )
    tables, types = rows
    with la.connect(url) as warehouse:
        load_tables(warehouse.connection.cursor(), tables, types)
    yield StandIn(url)
    with la.connect(url) as warehouse:
        cursor = warehouse.connection.cursor()
        drop_tables(cursor, types)
        execute(cursor, f"DROP SCHEMA IF EXISTS {_quoted(STATE, 'snowflake')} CASCADE")


@pytest.fixture(scope="module")
def bigquery_standin(bigquery_endpoint: str, rows: Any) -> Iterator[StandIn]:
    from .engines.bigquery_loader import drop_datasets, load_tables
    from .engines.bqemulator_server import PROJECT

    url = (
        f"bigquery://{PROJECT}/{DATABASE}?api_endpoint={bigquery_endpoint}"
        "&credentials=anonymous&retry_seconds=30"
    )
    tables, types = rows
    with la.connect(url) as warehouse:
        client = warehouse.connection.client
        load_tables(client, DATABASE, tables, types)
    yield StandIn(url)
    with la.connect(url) as warehouse:
        client = warehouse.connection.client
        drop_datasets(client, DATABASE, types)
        client.delete_dataset(f"{PROJECT}.{STATE}", delete_contents=True, not_found_ok=True)


@pytest.fixture(scope="module")
def redshift_standin(postgres_dsn: str, rows: Any) -> Iterator[StandIn]:
    import psycopg

    from .engines.redshift_loader import load_tables
    from .engines.redshift_proxy import redshift_proxy

    tables, types = rows
    dsn = dict(part.split("=", 1) for part in postgres_dsn.split())
    try:
        with redshift_proxy(f"{dsn['host']}/.s.PGSQL.{dsn['port']}") as port:
            url = (
                f"redshift://{dsn['user']}:unused-md5-secret@127.0.0.1:{port}/{dsn['dbname']}"
                "?ssl=false"
            )
            with la.connect(url) as warehouse:
                for statement in [*REDSHIFT_LACKS, *REDSHIFT_SHIMS, *REDSHIFT_SESSION]:
                    warehouse.execute(statement)
                cursor = warehouse.connection.cursor()
                cursor.paramstyle = "qmark"
                load_tables(cursor, tables, types)
            yield StandIn(url, REDSHIFT_SESSION)
    finally:
        # The PostgreSQL server is the session's: leave it as found.
        with psycopg.connect(postgres_dsn, autocommit=True) as con:
            for schema in sorted({*(name.split(".")[0] for name in types), STATE}):
                con.execute(
                    psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        psycopg.sql.Identifier(schema)
                    )
                )


@pytest.fixture(scope="module")
def databricks_standin(spark: Any, rows: Any) -> Iterator[StandIn]:
    from .engines.spark_session import databases, drop_databases, load_tables

    tables, types = rows
    load_tables(spark, DATABASE, tables, types)
    try:
        yield StandIn("databricks://local?spark=local[2]")
    finally:
        drop_databases(spark, [*databases(DATABASE, types), STATE])


@pytest.fixture
def warehouse(request: pytest.FixtureRequest, engine: str) -> Iterator[la.Warehouse]:
    """A session on the stand-in ``engine`` names."""
    standin: StandIn = request.getfixturevalue(f"{engine}_standin")
    with standin.connect() as connected:
        yield connected


@pytest.fixture(scope="module")
def duck(demo: Path, rows: Any) -> Iterator[la.Warehouse]:
    """DuckDB on the demo file (writable: the impact test runs there too), once its rows
    are read for the stand-ins."""
    with la.connect(f"duckdb:///{demo}", read_only=False) as connected:
        yield connected


@pytest.fixture(scope="module")
def examples() -> tuple[la.DataGraph, dict[str, la.Audience]]:
    graph, audiences = load_examples()
    return graph, {a.key: a for a in audiences}


# -- normalising what a warehouse may legitimately spell otherwise ---------------------------

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def plain(value: Any) -> Any:
    """``value`` as every warehouse should agree on it (see the module's docstring)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):  # a naive one is local time (pyspark's convention)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and _INSTANT.match(value):
        try:  # Python 3.10 reads no "Z"
            return plain(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


#: What fakesnow returns for a NULL timestamp, normalised.
EPOCH = "1970-01-01T00:00:00+00:00"


def _without_epoch(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v != EPOCH}


def cell(text: str) -> Any:
    """A CSV cell: an instant read as one, other text as it is."""
    return plain(text)


# -- the insights, as comparable answers ------------------------------------------------------


def suggestions(w: la.Warehouse, graph: la.DataGraph) -> list[Any]:
    asked = [
        {"trait": "loyalty_tier"},
        {"event": "Product Viewed", "property": "category"},
        {"relationship": "cart-lines", "column": "quantity"},
    ]
    out = []
    for kwargs in asked:
        found = la.suggest(graph, w, as_of=DEMO_AS_OF, **kwargs)
        out.append((found.kind, found.source, found.limit, plain(found.values)))
    return out


def breakdowns(w: la.Warehouse, graph: la.DataGraph, known: dict[str, la.Audience]) -> Any:
    found = la.breakdown(
        known[EXPORTED], graph, w, as_of=DEMO_AS_OF, audiences=list(known.values())
    )
    return found.to_dict()


def overlaps(w: la.Warehouse, graph: la.DataGraph, known: dict[str, la.Audience]) -> Any:
    chosen = [known[k] for k in OVERLAP]
    found = la.overlap(chosen, graph, w, as_of=DEMO_AS_OF, audiences=list(known.values()))
    return found.to_dict()


def exports(
    w: la.Warehouse,
    graph: la.DataGraph,
    known: dict[str, la.Audience],
    folder: Path,
    epoch_is_null: bool = False,
) -> dict[str, Any]:
    """Each format's header and rows, parsed (cells normalised), and the rows reported.

    ``epoch_is_null``: fakesnow hands back a NULL timestamp as 1970-01-01 (its bug, see
    docs/stand-ins.md), so there that instant is read as the NULL it stands for."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    formats: tuple[ExportFormat, ...] = ("formatted", "unformatted", "hashed")
    for fmt in formats:
        path = folder / f"{fmt}.csv"
        result = la.export(
            known[EXPORTED],
            graph,
            w,
            path,
            format=fmt,
            identifiers=["user_id", "email", "anonymous_id"],
            traits=EXPORT_TRAITS,
            as_of=DEMO_AS_OF,
            audiences=list(known.values()),
            batch_rows=7,  # several batches
        )
        with path.open(newline="", encoding="utf-8") as f:
            header, *lines = list(csv.reader(f))
        if fmt == "unformatted":
            parsed = [
                [profile, plain(json.loads(ids)), plain(json.loads(traits))]
                for profile, ids, traits in lines
            ]
            if epoch_is_null:
                parsed = [[p, ids, _without_epoch(traits)] for p, ids, traits in parsed]
        else:
            parsed = [[cell(c) for c in line] for line in lines]
            if epoch_is_null:
                parsed = [["" if c == EPOCH else c for c in line] for line in parsed]
        # written in the order the warehouse hands the rows back: compared sorted
        parsed.sort(key=lambda row: json.dumps(row, sort_keys=True))
        out[fmt] = (header, parsed, result.rows)
    return out


def _nodes(node: ExplainedNode) -> Iterator[ExplainedNode]:
    yield node
    for child in node.children:
        yield from _nodes(child)


def explanations(
    w: la.Warehouse, graph: la.DataGraph, known: dict[str, la.Audience], who: dict[str, list[str]]
) -> list[Any]:
    """Every node of each explanation: holds, value, rows (ids and values) and their total."""
    out = []
    for key, profiles in who.items():
        for profile in profiles:
            found = la.explain(
                known[key], graph, w, profile, as_of=DEMO_AS_OF, audiences=list(known.values())
            )
            tree = [
                (
                    n.path,
                    n.kind,
                    n.label,
                    n.holds,
                    plain(n.value),
                    n.value_label,
                    plain([r["source"] for r in n.rows]),
                    plain([r["id"] for r in n.rows]),
                    plain([r["values"] for r in n.rows]),
                    n.rows_total,
                )
                for n in _nodes(found.tree)
            ]
            out.append((key, profile, found.member, tree))
    return out


def edited(audience: la.Audience) -> la.Audience:
    """big_spenders_90d over 60 days above 300: some enter, some exit."""
    data = json.loads(audience.model_dump_json(exclude_none=True, exclude_defaults=True))
    data["condition"]["window"] = {"within_last_days": 60}
    data["condition"]["aggregate"]["value"] = 300
    return la.Audience.model_validate(data)


def impacts(
    w: la.Warehouse, graph: la.DataGraph, known: dict[str, la.Audience], state: str = STATE
) -> list[Any]:
    """With no run state, then against one run of the saved definition on ``w``."""
    audience = known["big_spenders_90d"]
    out: list[Any] = []
    before = la.impact(audience, graph, w, as_of=DEMO_AS_OF, state_schema=state)
    out.append((before.baseline_run_id, before.members, before.entered, before.exited))
    out.append((before.entering, before.exiting))
    la.run(audience, graph, w, as_of=DEMO_AS_OF, state_schema=state)
    after = la.impact(edited(audience), graph, w, as_of=DEMO_AS_OF, state_schema=state)
    assert after.baseline_run_id is not None
    out.append((plain(after.baseline_as_of), after.members, after.entered, after.exited))
    out.append((after.entering, after.exiting))
    return out


def previews(w: la.Warehouse, graph: la.DataGraph, known: dict[str, la.Audience]) -> list[Any]:
    out = []
    for key in BLOCKS:
        found = la.preview(
            known[key], graph, w, as_of=DEMO_AS_OF, audiences=list(known.values()), blocks=True
        )
        out.append(
            (found.count, found.sample, [b.to_dict() for b in found.blocks], found.identifiers)
        )
    return out


# -- the tests --------------------------------------------------------------------------------

Examples = tuple[la.DataGraph, dict[str, la.Audience]]


@pytest.mark.parametrize("engine", ENGINES)
def test_suggest_breakdown_and_overlap(
    warehouse: la.Warehouse, duck: la.Warehouse, examples: Examples
) -> None:
    graph, known = examples
    expected = suggestions(duck, graph)
    assert all(values for *_, values in expected)
    assert suggestions(warehouse, graph) == expected

    expected_breakdowns = breakdowns(duck, graph, known)
    assert len(expected_breakdowns["identifiers"]) >= 3
    assert breakdowns(warehouse, graph, known) == expected_breakdowns

    expected_overlap = overlaps(duck, graph, known)
    assert all(a["size"] for a in expected_overlap["audiences"])
    assert sum(p["shared"] > 0 for p in expected_overlap["pairs"]) >= 5
    assert overlaps(warehouse, graph, known) == expected_overlap


@pytest.mark.parametrize("engine", ENGINES)
def test_export(
    warehouse: la.Warehouse, duck: la.Warehouse, examples: Examples, tmp_path: Path, engine: str
) -> None:
    graph, known = examples
    expected = exports(duck, graph, known, tmp_path / "duckdb")
    assert all(rows > 7 for _, _, rows in expected.values())
    assert EPOCH not in json.dumps(expected)  # so reading it as NULL hides no difference
    # every trait, last_seen_at (a timestamp from text with an offset) among them, has values
    assert len({k for _, _, traits in expected["unformatted"][1] for k in traits}) == 6
    found = exports(
        warehouse, graph, known, tmp_path / "standin", epoch_is_null=engine == "snowflake"
    )
    assert found == expected


def _partly(
    w: la.Warehouse, graph: la.DataGraph, known: dict[str, la.Audience], key: str, profile: str
) -> bool:
    (_, _, _, tree), *_ = explanations(w, graph, known, {key: [profile]})
    return any(holds or total for _, _, _, holds, *_, total in tree)


@pytest.mark.parametrize("engine", ENGINES)
def test_explain(warehouse: la.Warehouse, duck: la.Warehouse, examples: Examples) -> None:
    graph, known = examples
    everyone = sorted(
        str(p)
        for (p,) in duck.fetchall(
            "SELECT DISTINCT canonical_segment_id FROM ps_materialize.user_identifiers"
        )
    )
    who = {}
    for key in EXPLAINED:
        members = la.preview(
            known[key], graph, duck, as_of=DEMO_AS_OF, audiences=list(known.values()), sample=100
        ).sample
        # a non-member for whom some node holds or matches rows: there is more to compare
        outsider = next(
            p for p in everyone if p not in members and _partly(duck, graph, known, key, p)
        )
        who[key] = [members[0], outsider]
    expected = explanations(duck, graph, known, who)
    assert [member for _, _, member, _ in expected] == [True, False] * len(EXPLAINED)
    assert any(rows for *_, tree in expected for *_, rows, _ in tree)  # rows to compare
    assert explanations(warehouse, graph, known, who) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_impact(
    warehouse: la.Warehouse, duck: la.Warehouse, examples: Examples, engine: str
) -> None:
    graph, known = examples
    expected = impacts(duck, graph, known, f"{STATE}_{engine}")
    (baseline, members, entered, exited), _, (_, _, edited_in, edited_out), _ = expected
    assert (baseline, entered, exited) == (None, members, 0) and members > 0
    assert edited_in > 0 and edited_out > 0
    assert impacts(warehouse, graph, known) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_preview_blocks(warehouse: la.Warehouse, duck: la.Warehouse, examples: Examples) -> None:
    graph, known = examples
    expected = previews(duck, graph, known)
    assert [len(blocks) for _, _, blocks, _ in expected] == [2, 1]
    assert previews(warehouse, graph, known) == expected


# -- what the stand-ins found -----------------------------------------------------------------


def test_snowflake_searches_a_pattern_it_would_match_whole() -> None:
    """Snowflake's REGEXP_LIKE matches the whole text (fakesnow does too): a RegexpLike
    meant as a search, like the offset test of a timestamp trait's text, must reach it as
    one. Each rendered test, read as Snowflake reads it, answers as a search would."""
    import re

    import sqlglot

    from linked_audiences.dialects import get_dialect

    patterns = ["^[0-9]+$", "(Z|[+-][0-9]{2}:[0-9]{2})$", "^a|b$", "^(a|b)$", "b"]
    texts = ["123", "2026-10-30T07:11:17+00:00", "2026-10-30T07:11:17", "2026-10-30Z", "a"]
    texts += ["xb", "ab", "b", "", "1\n2"]
    text = exp.column("v")
    tree = exp.and_(
        *(exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(p)) for p in patterns)
    )
    before = tree.sql()
    rendered = get_dialect("snowflake").render(tree, copy=False)
    assert tree.sql() == before  # the caller's tree keeps its RegexpLike
    parsed = sqlglot.parse_one(rendered, read="snowflake")
    tests = list(parsed.flatten()) if isinstance(parsed, exp.And) else [parsed]
    assert len(tests) == len(patterns)

    def answer(test: exp.Expr, value: str) -> bool:
        if isinstance(test, exp.RegexpLike):  # Snowflake: the whole text
            assert test.args.get("full_match")
            return re.fullmatch(test.expression.name, value) is not None
        assert isinstance(test, exp.GT) and isinstance(test.this, exp.RegexpInstr)
        return re.search(test.this.expression.name, value) is not None

    for pattern, test in zip(patterns, tests, strict=True):
        for value in texts:
            assert answer(test, value) == (re.search(pattern, value) is not None), (
                pattern,
                value,
            )
    assert rendered.count("REGEXP_LIKE") == 2  # the anchored ones stay as they were
