"""The insights on the demo warehouse, checked against plain SQL written by hand, on DuckDB and
PostgreSQL; their command line; exports of hostile values; impact against real runs; and that
none of them writes to the warehouse."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import linked_audiences as la
from linked_audiences.examples.generator import DEMO_AS_OF, build_demo_warehouse
from linked_audiences.insights.explain import ROWS_SHOWN

from .conftest import EXAMPLES

GRAPH = EXAMPLES / "graph.yaml"
AUDIENCES = EXAMPLES / "audiences"
AS_OF = DEMO_AS_OF.isoformat()

#: Members of premium_cardholders, by hand: an email identifier that owns an active account
#: holding an active premium card.
PREMIUM = """
SELECT DISTINCT i.canonical_segment_id
FROM ps_materialize.user_identifiers AS i
JOIN prod.account AS a ON a.email = i.value
JOIN prod.credit_card AS c ON c.account_id = a.id
WHERE i.type = 'email' AND a.status = 'active' AND c.card_type = 'premium'
  AND c.status = 'active'
"""


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("insights") / "demo.duckdb"
    build_demo_warehouse(path, profiles=600, seed=11)
    return path


@pytest.fixture(scope="module")
def pg_demo(postgres_dsn: str, demo_path: Path) -> Iterator[str]:
    """The same demo rows in PostgreSQL (dropped afterwards: the server is the session's)."""
    import psycopg

    from .engines.demo_copy import demo_tables
    from .engines.postgres_loader import load_tables

    tables, types = demo_tables(demo_path)
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        load_tables(conn, tables, types)
    params = dict(part.split("=", 1) for part in postgres_dsn.split())
    url = f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"
    yield url
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        for schema in sorted({name.split(".")[0] for name in types}):
            conn.execute(
                psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    psycopg.sql.Identifier(schema)
                )
            )


ENGINES = [
    pytest.param("duckdb", marks=pytest.mark.duckdb),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=ENGINES)
def warehouse(request: pytest.FixtureRequest, demo_path: Path) -> Iterator[la.Warehouse]:
    if request.param == "duckdb":
        url = f"duckdb:///{demo_path}"
    else:
        url = request.getfixturevalue("pg_demo")
    with la.connect(url, read_only=True) as opened:  # every insight works read-only
        yield opened


@pytest.fixture(scope="module")
def graph() -> la.DataGraph:
    return la.DataGraph.load(GRAPH)


@pytest.fixture(scope="module")
def audiences() -> dict[str, la.Audience]:
    from linked_audiences.loading import load_audience_folder

    return {a.key: a for a in load_audience_folder(AUDIENCES)}


def rows(warehouse: la.Warehouse, sql: str) -> list[tuple[Any, ...]]:
    return warehouse.fetchall(sql)


def members(warehouse: la.Warehouse, audience: la.Audience, audiences: Any, graph: Any) -> set[str]:
    compiled = la.compile(
        audience, graph, warehouse.dialect.name, as_of=DEMO_AS_OF, audiences=audiences
    )
    return {str(r[0]) for r in warehouse.fetchall(compiled.profiles_sql)}


# -- suggest -----------------------------------------------------------------------------------


def test_suggest_counts_like_plain_sql(warehouse: la.Warehouse, graph: la.DataGraph) -> None:
    trait = la.suggest(graph, warehouse, trait="country")
    expected = rows(
        warehouse,
        "SELECT value, COUNT(DISTINCT canonical_segment_id) FROM ps_materialize.user_traits "
        "WHERE name = 'country' AND value IS NOT NULL GROUP BY value",
    )
    assert dict(trait.values) == {v: int(n) for v, n in expected}
    assert [n for _, n in trait.values] == sorted((n for _, n in trait.values), reverse=True)

    prop = la.suggest(graph, warehouse, event="Order Completed", property="coupon")
    expected = rows(
        warehouse,
        "SELECT coupon, COUNT(*) FROM segment.order_completed WHERE coupon IS NOT NULL "
        "GROUP BY coupon",
    )
    assert dict(prop.values) == {v: int(n) for v, n in expected}
    assert None not in dict(prop.values)

    column = la.suggest(graph, warehouse, relationship="account-cards", column="card_type")
    expected = rows(
        warehouse,
        "SELECT card_type, COUNT(*) FROM prod.credit_card WHERE card_type IS NOT NULL "
        "GROUP BY card_type",
    )
    assert dict(column.values) == {v: int(n) for v, n in expected}


def test_suggest_keeps_segment_limits_most_frequent_first(
    warehouse: la.Warehouse, graph: la.DataGraph
) -> None:
    # product ids: more distinct values than the limit
    result = la.suggest(graph, warehouse, event="Product Viewed", property="product_id")
    counts = Counter(
        r[0]
        for r in rows(
            warehouse, "SELECT product_id FROM segment.product_viewed WHERE product_id IS NOT NULL"
        )
    )
    assert len(counts) > 65 and len(result.values) == 65
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    assert list(result.values) == ranked[:65]
    emails = la.suggest(graph, warehouse, relationship="user-accounts", column="email")
    assert len(emails.values) == 100


@pytest.mark.duckdb
def test_suggest_refuses_what_it_cannot_answer(demo_path: Path, graph: la.DataGraph) -> None:
    with la.connect(f"duckdb:///{demo_path}", read_only=True) as w:
        cases: list[tuple[dict[str, str], str]] = [
            ({}, "exactly one of"),
            ({"trait": "country", "event": "Order Completed"}, "exactly one of"),
            ({"trait": "nope"}, "no trait 'nope'"),
            ({"event": "Order Completed"}, "needs a property"),
            ({"event": "Order Completed", "property": "nope"}, "no property 'nope'"),
            ({"relationship": "user-accounts", "column": "nope"}, "no column 'nope'"),
            ({"relationship": "nope", "column": "id"}, "no relationship 'nope'"),
        ]
        for kwargs, message in cases:
            with pytest.raises(la.DefinitionError, match=message):
                la.suggest(graph, w, **kwargs)  # type: ignore[arg-type]


# -- breakdown and overlap ---------------------------------------------------------------------


def test_breakdown_counts_members_per_identifier_type(
    warehouse: la.Warehouse, graph: la.DataGraph, audiences: dict[str, la.Audience]
) -> None:
    result = la.breakdown(
        audiences["premium_cardholders"],
        graph,
        warehouse,
        as_of=DEMO_AS_OF,
        audiences=list(audiences.values()),
    )
    expected = rows(
        warehouse,
        f"SELECT i.type, COUNT(DISTINCT i.canonical_segment_id) FROM "
        f"ps_materialize.user_identifiers i WHERE i.value IS NOT NULL AND "
        f"i.canonical_segment_id IN ({PREMIUM}) GROUP BY i.type",
    )
    (total,) = rows(warehouse, f"SELECT COUNT(*) FROM ({PREMIUM}) m")[0]
    assert result.members == total > 0
    assert {s.type: s.count for s in result.identifiers} == {t: int(n) for t, n in expected}
    for share in result.identifiers:
        assert share.share == pytest.approx(share.count / total)
    email = next(s for s in result.identifiers if s.type == "email")
    assert email.share == 1.0  # members are found through their email


def test_overlap_of_many_audiences_in_one_query(
    warehouse: la.Warehouse, graph: la.DataGraph, audiences: dict[str, la.Audience]
) -> None:
    keys = [
        "premium_cardholders",
        "high_value_loyalty",
        "upsell_premium",
        "big_spenders_90d",
        "checkout_not_completed",
        "lapsed_vips",
    ]
    known = list(audiences.values())
    chosen = [audiences[k] for k in keys]
    sets = {a.key: members(warehouse, a, known, graph) for a in chosen}
    statements: list[str] = []
    original = warehouse.fetchall

    def counting(query: Any) -> list[tuple[Any, ...]]:
        statements.append(warehouse.sql(query))
        return original(query)

    warehouse.fetchall = counting  # type: ignore[method-assign]
    try:
        result = la.overlap(chosen, graph, warehouse, as_of=DEMO_AS_OF, audiences=known)
    finally:
        del warehouse.fetchall
    assert len([s for s in statements if s.lstrip().upper().startswith("WITH")]) == 1
    assert [(k, s) for k, _, s in result.audiences] == [(k, len(sets[k])) for k in keys]
    assert len(result.pairs) == 15
    for pair in result.pairs:
        shared = sets[pair.a] & sets[pair.b]
        either = sets[pair.a] | sets[pair.b]
        assert pair.shared == len(shared)
        assert pair.jaccard == pytest.approx(len(shared) / len(either) if either else 0.0)
    # upsell_premium = high_value_loyalty without premium_cardholders
    assert result.pair("premium_cardholders", "upsell_premium").shared == 0
    upsell = result.pair("upsell_premium", "high_value_loyalty")
    assert upsell.shared == upsell.size_a > 0


@pytest.mark.duckdb
def test_overlap_refuses_mixed_levels_and_repeats(
    demo_path: Path, graph: la.DataGraph, audiences: dict[str, la.Audience]
) -> None:
    with la.connect(f"duckdb:///{demo_path}", read_only=True) as w:
        known = list(audiences.values())
        with pytest.raises(la.DefinitionError, match="cannot be compared"):
            la.overlap(
                [audiences["premium_cardholders"], audiences["buying_business_accounts"]],
                graph,
                w,
                audiences=known,
            )
        with pytest.raises(la.DefinitionError, match="given twice"):
            la.overlap([audiences["lapsed_vips"]] * 2, graph, w, audiences=known)
        single = la.overlap([audiences["lapsed_vips"]], graph, w, as_of=DEMO_AS_OF, audiences=known)
        assert single.pairs == () and single.size("lapsed_vips") == len(
            members(w, audiences["lapsed_vips"], known, graph)
        )


# -- export ------------------------------------------------------------------------------------


def _picked(warehouse: la.Warehouse, kind: str) -> dict[str, str]:
    """A profile's identifier of ``kind`` as a run picks it (no timestamp column in the demo:
    the greatest value)."""
    found: dict[str, str] = {}
    for profile, value in rows(
        warehouse,
        f"SELECT canonical_segment_id, value FROM ps_materialize.user_identifiers "
        f"WHERE type = '{kind}' AND value IS NOT NULL",
    ):
        found[str(profile)] = max(found.get(str(profile), str(value)), str(value))
    return found


def test_export_formats(
    warehouse: la.Warehouse,
    graph: la.DataGraph,
    audiences: dict[str, la.Audience],
    tmp_path: Path,
) -> None:
    audience = audiences["high_value_loyalty"]
    known = list(audiences.values())
    expected = members(warehouse, audience, known, graph)
    emails, user_ids = _picked(warehouse, "email"), _picked(warehouse, "user_id")
    traits = {
        (str(p), str(n)): str(v)
        for p, n, v in rows(
            warehouse,
            "SELECT canonical_segment_id, name, value FROM ps_materialize.user_traits "
            "WHERE name IN ('loyalty_tier', 'lifetime_value', 'country')",
        )
    }

    out = tmp_path / "formatted.csv"
    result = la.export(audience, graph, warehouse, out, as_of=DEMO_AS_OF, audiences=known)
    with out.open(newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == ["user_id", "email", "loyalty_tier", "lifetime_value"]
    assert result.rows == len(table) - 1 == len(expected)
    assert result.traits == ("loyalty_tier", "lifetime_value")
    assert sorted((r[0], r[1], r[2]) for r in table[1:]) == sorted(
        (user_ids.get(p, ""), emails.get(p, ""), traits[(p, "loyalty_tier")]) for p in expected
    )
    for row in table[1:]:
        assert float(row[3]) >= 1000  # the audience's own condition

    out = tmp_path / "unformatted.csv"
    la.export(
        audience,
        graph,
        warehouse,
        out,
        format="unformatted",
        identifiers=["email", "anonymous_id"],
        traits=["country"],
        as_of=DEMO_AS_OF,
        audiences=known,
    )
    with out.open(newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == ["profile_id", "identifiers", "traits"]
    assert sorted(r[0] for r in table[1:]) == sorted(expected)  # each member once
    anonymous = _picked(warehouse, "anonymous_id")
    for profile, ids, found in table[1:]:
        want = {"email": emails.get(profile), "anonymous_id": anonymous.get(profile)}
        assert json.loads(ids) == {k: v for k, v in want.items() if v is not None}
        country = traits.get((profile, "country"))
        assert json.loads(found) == ({"country": country} if country is not None else {})

    out = tmp_path / "hashed.csv"
    hashed = la.export(
        audience, graph, warehouse, out, format="hashed", as_of=DEMO_AS_OF, audiences=known
    )
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "email_sha256"
    want = sorted(
        hashlib.sha256(emails[p].strip().lower().encode()).hexdigest()
        for p in expected
        if p in emails
    )
    assert sorted(lines[1:]) == want and hashed.rows == len(want)


@pytest.mark.duckdb
def test_export_streams_in_batches_and_leaves_no_half_file(
    demo_path: Path, graph: la.DataGraph, audiences: dict[str, la.Audience], tmp_path: Path
) -> None:
    audience = audiences["premium_cardholders"]
    known = list(audiences.values())
    seen: list[int] = []
    with la.connect(f"duckdb:///{demo_path}", read_only=True) as w:
        result = la.export(
            audience,
            graph,
            w,
            tmp_path / "m.csv",
            as_of=DEMO_AS_OF,
            audiences=known,
            progress=seen.append,
            batch_rows=7,
        )
        assert seen == sorted(seen) and seen[-1] == result.rows and len(seen) > 3

        class Boom(Exception):
            pass

        def fail(rows: int) -> None:
            raise Boom

        target = tmp_path / "failed.csv"
        target.write_text("the previous export\n")
        with pytest.raises(Boom):
            la.export(audience, graph, w, target, audiences=known, progress=fail, batch_rows=7)
    assert target.read_text() == "the previous export\n"  # untouched: no half file over it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failed.csv", "m.csv"]


@pytest.mark.duckdb
def test_export_writes_hostile_values_exactly(tmp_path: Path) -> None:
    """Quotes, commas, newlines, backslashes, percent signs, semicolons and unicode survive a
    round trip through each format."""
    hostile = ['O\'Brien, "Bob"', "line\nbreak", "back\\slash;%_", "Zoë 🦆", " pad ", "=1+1"]
    path = tmp_path / "hostile.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE traits (pid VARCHAR, nick VARCHAR, score DOUBLE)")
        con.execute("CREATE TABLE ids (pid VARCHAR, type VARCHAR, value VARCHAR)")
        for n, text in enumerate(hostile):
            pid = f"p{n}'\"{text}"
            con.execute("INSERT INTO traits VALUES (?, ?, ?)", [pid, text, n + 0.5])
            con.execute("INSERT INTO ids VALUES (?, 'email', ?)", [pid, f" {text.upper()}@X.io "])
            con.execute("INSERT INTO ids VALUES (?, 'user_id', ?)", [pid, text])
    graph = la.DataGraph.model_validate(
        {
            "profile": {
                "traits_table": "traits",
                "key": "pid",
                "identifiers_table": "ids",
                "traits": {"nick": "string", "score": "number"},
            }
        }
    )
    audience = la.Audience.model_validate(
        {
            "key": "everyone",
            "name": "Everyone",
            "condition": {
                "type": "trait",
                "trait": "score",
                "operator": "greater_than",
                "value": 0,
            },
        }
    )
    with la.connect(f"duckdb:///{path}", read_only=True) as w:
        out = tmp_path / "f.csv"
        la.export(audience, graph, w, out, traits=["nick", "score"])
        with out.open(newline="", encoding="utf-8") as f:
            table = list(csv.reader(f))
        assert table[0] == ["user_id", "email", "nick", "score"]
        assert sorted(tuple(r) for r in table[1:]) == sorted(
            (t, f" {t.upper()}@X.io ", t, str(n + 0.5)) for n, t in enumerate(hostile)
        )
        out = tmp_path / "u.csv"
        la.export(audience, graph, w, out, format="unformatted", traits=["nick"])
        with out.open(newline="", encoding="utf-8") as f:
            table = list(csv.reader(f))
        assert sorted((r[0], json.loads(r[2])["nick"]) for r in table[1:]) == sorted(
            (f"p{n}'\"{t}", t) for n, t in enumerate(hostile)
        )
        out = tmp_path / "h.csv"
        la.export(audience, graph, w, out, format="hashed")
        digests = out.read_text(encoding="utf-8").splitlines()[1:]
        assert sorted(digests) == sorted(
            hashlib.sha256(f" {t.upper()}@X.io ".strip().lower().encode()).hexdigest()
            for t in hostile
        )


# -- explain -----------------------------------------------------------------------------------


def test_explain_shows_why_with_the_rows(
    warehouse: la.Warehouse, graph: la.DataGraph, audiences: dict[str, la.Audience]
) -> None:
    known = list(audiences.values())
    premium = audiences["premium_cardholders"]
    member = sorted(str(r[0]) for r in rows(warehouse, PREMIUM))[0]
    result = la.explain(premium, graph, warehouse, member, as_of=DEMO_AS_OF, audiences=known)
    assert result.member and result.tree.holds
    accounts = result.tree.find("$.condition.conditions[0]")
    owned = {
        str(r[0])
        for r in rows(
            warehouse,
            "SELECT a.id FROM ps_materialize.user_identifiers i JOIN prod.account a "
            f"ON a.email = i.value WHERE i.type = 'email' AND i.canonical_segment_id = '{member}'",
        )
    }
    assert accounts.holds and accounts.rows_total == len(owned)
    assert {r["id"] for r in accounts.rows} == set(sorted(owned)[:ROWS_SHOWN])
    assert all(r["source"] == "user-accounts" for r in accounts.rows)

    outsider = sorted(
        str(r[0])
        for r in rows(
            warehouse,
            f"SELECT DISTINCT canonical_segment_id FROM ps_materialize.user_identifiers "
            f"WHERE canonical_segment_id NOT IN ({PREMIUM})",
        )
    )[0]
    result = la.explain(premium, graph, warehouse, outsider, as_of=DEMO_AS_OF, audiences=known)
    assert not result.member and result.tree.holds is False


def test_explain_values_of_traits_and_aggregates(
    warehouse: la.Warehouse, graph: la.DataGraph, audiences: dict[str, la.Audience]
) -> None:
    known = list(audiences.values())
    loyalty = audiences["high_value_loyalty"]
    member = sorted(members(warehouse, loyalty, known, graph))[0]
    result = la.explain(loyalty, graph, warehouse, member, as_of=DEMO_AS_OF, audiences=known)
    tier = result.tree.find("$.condition.conditions[0]")
    (stored,) = rows(
        warehouse,
        "SELECT value FROM ps_materialize.user_traits WHERE name = 'loyalty_tier' AND "
        f"canonical_segment_id = '{member}'",
    )[0]
    assert (tier.value, tier.value_label, tier.holds) == (stored, "loyalty_tier", True)

    spenders = audiences["big_spenders_90d"]
    member = sorted(members(warehouse, spenders, known, graph))[0]
    result = la.explain(spenders, graph, warehouse, member, as_of=DEMO_AS_OF, audiences=known)
    (total, n) = rows(
        warehouse,
        "SELECT SUM(o.revenue), COUNT(*) FROM segment.order_completed o JOIN "
        "ps_materialize.id_graph g ON g.segment_id = o.segment_id WHERE "
        f"g.canonical_segment_id = '{member}' AND o.timestamp <= TIMESTAMPTZ '{AS_OF}' AND "
        f"o.timestamp >= TIMESTAMPTZ '{AS_OF}' - INTERVAL '90 days'",
    )[0]
    assert result.tree.value_label == "sum(revenue)"
    assert float(result.tree.value) == pytest.approx(float(total)) and float(total) > 500
    assert result.tree.rows_total == n and len(result.tree.rows) == min(n, ROWS_SHOWN)


# -- impact ------------------------------------------------------------------------------------


@pytest.mark.duckdb
def test_impact_against_the_last_committed_run(
    demo_path: Path, graph: la.DataGraph, audiences: dict[str, la.Audience], tmp_path: Path
) -> None:
    known = list(audiences.values())
    path = tmp_path / "runs.duckdb"
    shutil.copy(demo_path, path)
    loyalty = audiences["high_value_loyalty"]
    edited = loyalty.model_copy(
        update={
            "condition": loyalty.condition.model_copy(
                update={"conditions": [loyalty.condition.conditions[0]]}  # type: ignore[union-attr]
            )
        }
    )
    with la.connect(f"duckdb:///{path}") as w:
        before = members(w, loyalty, known, graph)
        first = la.impact(loyalty, graph, w, as_of=DEMO_AS_OF, audiences=known)
        assert (first.baseline_run_id, first.entered, first.exited) == (None, len(before), 0)
        run = la.run(loyalty, graph, w, as_of=DEMO_AS_OF, audiences=known)
        list(run.events)
        after = members(w, edited, known, graph)
    state = duckdb.connect(str(path), read_only=True)
    counts = {
        t: state.execute(f"SELECT COUNT(*) FROM linked_audiences.{t}").fetchone()
        for t in ("la_runs", "la_members", "la_events")
    }
    state.close()
    with la.connect(f"duckdb:///{path}", read_only=True) as w:  # impact never writes
        result = la.impact(edited, graph, w, as_of=DEMO_AS_OF, audiences=known, sample=5)
    assert result.baseline_run_id == run.run_id
    assert result.entered == len(after - before) > 0 and result.exited == len(before - after)
    assert result.members == len(after)
    assert list(result.entering) == sorted(after - before)[:5]
    state = duckdb.connect(str(path), read_only=True)
    for t, n in counts.items():
        assert state.execute(f"SELECT COUNT(*) FROM linked_audiences.{t}").fetchone() == n
    state.close()


# -- consumers ---------------------------------------------------------------------------------


def _audience(key: str, *names: str) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = [{"type": "audience", "key": n} for n in names]
    conditions.append({"type": "trait", "trait": "country", "operator": "equals", "value": "US"})
    return {
        "key": key,
        "name": key.title(),
        "condition": {"type": "group", "operator": "and", "conditions": conditions},
    }


def test_consumers_direct_and_through_others(tmp_path: Path) -> None:
    # base ← a ← c ← d, base ← b ← c (a diamond), e names nothing
    folder = tmp_path / "audiences"
    folder.mkdir()
    for key, names in {
        "base": (),
        "a": ("base",),
        "b": ("base",),
        "c": ("a", "b"),
        "d": ("c",),
        "e": (),
    }.items():
        (folder / f"{key}.json").write_text(json.dumps(_audience(key, *names)))
    known = [la.Audience.load(p) for p in sorted(folder.iterdir())]
    result = la.consumers("base", known)
    assert result.keys == ["a", "b", "c", "d"]
    assert result.direct == ["a", "b"]
    assert next(c for c in result.consumers if c.key == "d").chain == ("d", "c", "a", "base")
    assert la.consumers("e", known).consumers == ()
    assert la.consumers("d", known).keys == []

    out = _cli("consumers", str(folder / "base.json"), "--json")
    assert out.returncode == 0, out.stderr
    assert [c["key"] for c in json.loads(out.stdout)["consumers"]] == ["a", "b", "c", "d"]
    out = _cli("consumers", "c", "--audiences", str(folder))
    assert out.returncode == 0 and out.stdout.split() == ["d", "direct"]
    out = _cli("consumers", "nope", "--audiences", str(folder))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "no audience" in out.stderr


# -- the command line --------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linked_audiences", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.duckdb
def test_every_insight_on_the_command_line(demo_path: Path, tmp_path: Path) -> None:
    url = f"duckdb:///{demo_path}"
    premium = str(AUDIENCES / "premium_cardholders.json")
    common = ["--warehouse", url, "--as-of", AS_OF]
    with la.connect(url, read_only=True) as w:
        member = sorted(str(r[0]) for r in w.fetchall(PREMIUM))[0]
        size = len(w.fetchall(PREMIUM))

    out = _cli("suggest", str(GRAPH), "--warehouse", url, "--trait", "loyalty_tier", "--json")
    assert out.returncode == 0, out.stderr
    assert {v["value"] for v in json.loads(out.stdout)["values"]} == {
        "bronze",
        "silver",
        "gold",
        "platinum",
    }
    out = _cli("breakdown", str(GRAPH), premium, *common, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["members"] == size
    out = _cli(
        "overlap",
        str(GRAPH),
        premium,
        str(AUDIENCES / "upsell_premium.json"),
        str(AUDIENCES / "high_value_loyalty.json"),
        *common,
    )
    assert out.returncode == 0 and "premium_cardholders & upsell_premium: 0 shared" in out.stdout
    out = _cli("explain", str(GRAPH), premium, *common, "--profile", member)
    assert out.returncode == 0 and out.stdout.startswith(f"{member} is a member")
    assert "✓ related user-accounts" in out.stdout
    out = _cli("impact", str(GRAPH), premium, *common, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["entered"] == size
    target = tmp_path / "premium.csv"
    out = _cli("export", str(GRAPH), premium, *common, "--out", str(target), "--format", "hashed")
    assert out.returncode == 0 and out.stderr.startswith("wrote ")
    assert len(target.read_text().splitlines()) == size + 1
    out = _cli("preview", str(GRAPH), premium, *common, "--blocks", "--json")
    blocks = json.loads(out.stdout)["blocks"]
    assert [b["count"] for b in blocks] == [size]

    # a user's mistakes: one line, exit 2
    for args in (
        ["suggest", str(GRAPH), "--warehouse", url, "--trait", "x", "--event", "y"],
        ["suggest", str(GRAPH), "--warehouse", url, "--trait", "no_such_trait"],
        ["export", str(GRAPH), premium, *common, "--out", str(target), "--format", "xml"],
        [
            "export",
            str(GRAPH),
            str(AUDIENCES / "buying_business_accounts.json"),
            *common,
            "--out",
            str(target),
        ],
        ["breakdown", str(GRAPH), str(AUDIENCES / "buying_business_accounts.json"), *common],
        ["export", str(GRAPH), premium, *common, "--out", str(target), "--traits", "nope"],
    ):
        out = _cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr


@pytest.mark.duckdb
def test_preview_shows_the_events_a_run_will_send(
    demo_path: Path, graph: la.DataGraph, audiences: dict[str, la.Audience], tmp_path: Path
) -> None:
    """The shapes come from the run's own payload builder: each key a real run's event of
    that trigger carries is in the preview's example, and the other way round."""
    audience = audiences["premium_cardholders"]
    known = list(audiences.values())
    activations = [
        la.Activation(trigger="audience_entered", traits=["loyalty_tier"]),
        la.Activation(
            trigger="entity_added", relationship="user-accounts", entity_columns=["status"]
        ),
    ]
    with la.connect(f"duckdb:///{demo_path}", read_only=True) as w:
        shown = la.preview(
            audience,
            graph,
            w,
            as_of=DEMO_AS_OF,
            audiences=known,
            events=True,
            activations=activations,
        )
    assert [(e["trigger"], e["relationship"]) for e in shown.events] == [
        ("audience_entered", None),
        ("entity_added", "user-accounts"),
    ]
    path = tmp_path / "run.duckdb"
    shutil.copy(demo_path, path)
    with la.connect(f"duckdb:///{path}") as w:
        sent = list(
            la.run(
                audience, graph, w, as_of=DEMO_AS_OF, audiences=known, activations=activations
            ).events
        )

    def keys(payload: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for k, v in payload.items():
            found.add(prefix + k)
            if isinstance(v, dict):
                found |= keys(v, f"{prefix}{k}.")
        return found

    for shape in shown.events:
        real = next(
            e
            for e in sent
            if e["event"] == shape["event"]
            and e["properties"].get("relationship") == shape["relationship"]
        )
        assert keys(shape["payload"]) == keys(real)
    assert "loyalty_tier" in shown.events[0]["payload"]["properties"]  # the enrichment
    assert "user-accounts__status" in shown.events[1]["payload"]["properties"]
    out = _cli(
        "preview",
        str(GRAPH),
        str(AUDIENCES / "premium_cardholders.json"),
        "--warehouse",
        f"duckdb:///{demo_path}",
        "--as-of",
        AS_OF,
        "--events",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    assert [e["event"] for e in json.loads(out.stdout)["events"]][:2] == [
        "Audience Entered",
        "Audience Exited",
    ]
