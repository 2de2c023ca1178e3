"""The demo warehouse generator: layout, determinism, data shape and its command line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

pytestmark = pytest.mark.duckdb


def _load_generator() -> ModuleType:
    try:
        from linked_audiences.examples import generator
    except ImportError:  # not installed yet: load the file itself
        path = Path(__file__).resolve().parent.parent / "examples" / "generator.py"
        spec = importlib.util.spec_from_file_location("_demo_generator", path)
        assert spec is not None and spec.loader is not None
        generator = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(generator)
    return generator


gen = _load_generator()

AS_OF = "TIMESTAMPTZ '2026-11-01 00:00:00+00'"
PROFILES = 1_000
SEED = 7

EVENT_COLUMNS = [
    ("id", "VARCHAR"),
    ("segment_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("anonymous_id", "VARCHAR"),
    ("timestamp", "TIMESTAMP WITH TIME ZONE"),
    ("received_at", "TIMESTAMP WITH TIME ZONE"),
    ("event", "VARCHAR"),
    ("event_text", "VARCHAR"),
]
TZ = "TIMESTAMP WITH TIME ZONE"
EXPECTED_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "ps_materialize.user_traits": [
        ("canonical_segment_id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("value", "VARCHAR"),
        ("seq", "BIGINT"),
        ("received_at", TZ),
        ("uuid_ts", TZ),
        ("timestamp", TZ),
    ],
    "ps_materialize.user_identifiers": [
        ("canonical_segment_id", "VARCHAR"),
        ("type", "VARCHAR"),
        ("value", "VARCHAR"),
        ("timestamp", TZ),
    ],
    "ps_materialize.id_graph": [("segment_id", "VARCHAR"), ("canonical_segment_id", "VARCHAR")],
    "prod.account": [
        ("id", "VARCHAR"),
        ("email", "VARCHAR"),
        ("plan", "VARCHAR"),
        ("status", "VARCHAR"),
        ("balance", "DOUBLE"),
        ("min_balance", "DOUBLE"),
        ("opened_at", TZ),
        ("region", "VARCHAR"),
    ],
    "prod.credit_card": [
        ("id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("card_type", "VARCHAR"),
        ("credit_limit", "DOUBLE"),
        ("outstanding_balance", "DOUBLE"),
        ("status", "VARCHAR"),
        ("expires_on", "DATE"),
    ],
    "prod.card_transaction": [
        ("id", "VARCHAR"),
        ("card_id", "VARCHAR"),
        ("merchant_id", "VARCHAR"),
        ("amount", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("status", "VARCHAR"),
        ("created_at", TZ),
    ],
    "prod.merchant": [
        ("id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("category_id", "VARCHAR"),
        ("country", "VARCHAR"),
    ],
    "prod.merchant_category": [
        ("id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("mcc_code", "VARCHAR"),
        ("is_travel", "BOOLEAN"),
    ],
    "prod.cart_line": [
        ("cart_id", "VARCHAR"),
        ("line_no", "BIGINT"),
        ("product_sku", "VARCHAR"),
        ("quantity", "BIGINT"),
        ("unit_price", "DOUBLE"),
    ],
    "prod.cart_line_discount": [
        ("cart_id", "VARCHAR"),
        ("line_no", "BIGINT"),
        ("code", "VARCHAR"),
        ("amount", "DOUBLE"),
    ],
    "ps_materialize.account_traits": [
        ("group_id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("plan", "VARCHAR"),
        ("seats", "DOUBLE"),
        ("industry", "VARCHAR"),
        ("created_at", TZ),
    ],
    "ps_materialize.account_users": [
        ("group_id", "VARCHAR"),
        ("canonical_segment_id", "VARCHAR"),
    ],
    "prod.cart": [
        ("id", "VARCHAR"),
        ("user_id", "VARCHAR"),
        ("status", "VARCHAR"),
        ("total", "DOUBLE"),
        ("updated_at", TZ),
    ],
    "prod.cart_product": [("id", "VARCHAR"), ("cart_id", "VARCHAR"), ("product_sku", "VARCHAR")],
    "prod.product": [
        ("sku", "VARCHAR"),
        ("name", "VARCHAR"),
        ("category", "VARCHAR"),
        ("price", "DOUBLE"),
    ],
    "segment.order_completed": [
        *EVENT_COLUMNS,
        ("revenue", "DOUBLE"),
        ("product_id", "VARCHAR"),
        ("currency", "VARCHAR"),
        ("coupon", "VARCHAR"),
        ("cart_id", "VARCHAR"),
    ],
    "segment.checkout_started": [
        *EVENT_COLUMNS,
        ("cart_id", "VARCHAR"),
        ("revenue", "DOUBLE"),
    ],
    "segment.product_viewed": [
        *EVENT_COLUMNS,
        ("product_id", "VARCHAR"),
        ("category", "VARCHAR"),
        ("price", "DOUBLE"),
    ],
    "segment.pages": [
        *EVENT_COLUMNS,
        ("name", "VARCHAR"),
        ("url", "VARCHAR"),
        ("path", "VARCHAR"),
        ("title", "VARCHAR"),
    ],
    "segment.tracks": EVENT_COLUMNS,
}
TABLES = sorted(EXPECTED_COLUMNS)
EVENT_TABLES = [
    "segment.order_completed",
    "segment.checkout_started",
    "segment.product_viewed",
    "segment.pages",
]
KNOWN_ID_TYPES = "('user_id', 'email', 'ios.idfa', 'android.idfa')"


def _memory_build(profiles: int, seed: int) -> tuple[duckdb.DuckDBPyConnection, dict[str, int]]:
    con = duckdb.connect()
    counts = gen.build_demo_warehouse(None, connection=con, profiles=profiles, seed=seed)
    return con, counts


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def _fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[object, ...]:
    """Row count and an order-independent hash of every row (all columns)."""
    row = con.execute(
        f"SELECT count(*), sum(CAST(hash(t) AS HUGEINT)), bit_xor(hash(t)) FROM {table} AS t"
    ).fetchone()
    assert row is not None
    return tuple(row)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    counts = gen.build_demo_warehouse(path, profiles=PROFILES, seed=SEED)
    return path, counts


@pytest.fixture(scope="module")
def bigger() -> duckdb.DuckDBPyConnection:
    """A larger build, for rare values (odd names, NULL timestamps)."""
    return _memory_build(5_000, SEED)[0]


@pytest.fixture()
def con(built: tuple[Path, dict[str, int]]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built[0]), read_only=True)
    yield connection
    connection.close()


# --- layout --------------------------------------------------------------------------------


def test_every_table_and_column_exists_with_its_type(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name, column_name, data_type "
        "FROM information_schema.columns "
        "WHERE table_schema IN ('ps_materialize', 'prod', 'segment') "
        "ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        found.setdefault(table, []).append((column, kind))
    assert found == EXPECTED_COLUMNS


def test_returned_counts_are_the_table_row_counts(
    built: tuple[Path, dict[str, int]], con: duckdb.DuckDBPyConnection
) -> None:
    counts = built[1]
    assert sorted(counts) == TABLES
    for table in TABLES:
        assert counts[table] == _one(con, f"SELECT count(*) FROM {table}"), table
        assert counts[table] > 0, table


def test_a_build_leaves_no_helper_objects_behind() -> None:
    con, _ = _memory_build(200, 1)
    leftovers = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_la\\_%' ESCAPE '\\' "
        "UNION ALL SELECT function_name FROM duckdb_functions() "
        "WHERE function_name LIKE '\\_la\\_%' ESCAPE '\\'"
    ).fetchall()
    assert leftovers == []


def test_primary_keys_are_unique_and_foreign_keys_resolve(con: duckdb.DuckDBPyConnection) -> None:
    for table, key in [
        ("prod.account", "id"),
        ("prod.credit_card", "id"),
        ("prod.card_transaction", "id"),
        ("prod.merchant", "id"),
        ("prod.merchant_category", "id"),
        ("prod.cart", "id"),
        ("prod.cart_product", "id"),
        ("prod.product", "sku"),
        ("ps_materialize.id_graph", "segment_id"),
        ("ps_materialize.account_traits", "group_id"),
        ("prod.cart_line", "(cart_id, line_no)"),
        ("prod.cart_line_discount", "(cart_id, line_no, code)"),
        ("segment.tracks", "id"),
        *[(table, "id") for table in EVENT_TABLES],
    ]:
        assert _one(con, f"SELECT count(*) = count(DISTINCT {key}) FROM {table}"), table
    for child, column, parent, key in [
        ("prod.credit_card", "account_id", "prod.account", "id"),
        ("prod.card_transaction", "card_id", "prod.credit_card", "id"),
        ("prod.card_transaction", "merchant_id", "prod.merchant", "id"),
        ("prod.merchant", "category_id", "prod.merchant_category", "id"),
        ("prod.cart_product", "cart_id", "prod.cart", "id"),
        ("prod.cart_product", "product_sku", "prod.product", "sku"),
        ("prod.cart_line", "cart_id", "prod.cart", "id"),
        ("segment.order_completed", "product_id", "prod.product", "sku"),
        ("segment.product_viewed", "product_id", "prod.product", "sku"),
    ]:
        orphans = _one(
            con, f"SELECT count(*) FROM {child} c ANTI JOIN {parent} p ON p.{key} = c.{column}"
        )
        assert orphans == 0, (child, column)


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_whatever_the_threads_and_time_zone(
    built: tuple[Path, dict[str, int]],
) -> None:
    other = duckdb.connect()
    other.execute("SET TimeZone = 'America/Los_Angeles'")
    other.execute("SET threads = 1")
    counts = gen.build_demo_warehouse(None, connection=other, profiles=PROFILES, seed=SEED)
    assert counts == built[1]
    other.execute(f"ATTACH '{built[0]}' AS first (READ_ONLY)")
    for table in TABLES:
        for left, right in [("first", "memory"), ("memory", "first")]:
            difference = _one(
                other,
                f"SELECT count(*) FROM (SELECT * FROM {left}.{table} "
                f"EXCEPT ALL SELECT * FROM {right}.{table})",
            )
            assert difference == 0, (table, left, right)


def test_same_seed_gives_identical_fingerprints_in_a_file_and_in_memory(
    con: duckdb.DuckDBPyConnection,
) -> None:
    memory, _ = _memory_build(PROFILES, SEED)
    for table in TABLES:
        assert _fingerprint(memory, table) == _fingerprint(con, table), table


def test_another_seed_gives_other_content(con: duckdb.DuckDBPyConnection) -> None:
    other, _ = _memory_build(PROFILES, SEED + 1)
    changed = [t for t in TABLES if _fingerprint(other, t) != _fingerprint(con, t)]
    # Only the fixed list of merchant categories is the same for every seed.
    assert changed == [t for t in TABLES if t != "prod.merchant_category"]
    query = "SELECT canonical_segment_id FROM ps_materialize.id_graph"
    ids = {row[0] for row in other.execute(query).fetchall()}
    first = {row[0] for row in con.execute(query).fetchall()}
    assert len(ids) == len(first) == PROFILES
    assert not ids & first


def test_row_counts_scale_with_profiles() -> None:
    _, small = _memory_build(300, 3)
    _, large = _memory_build(3_000, 3)
    assert small["prod.merchant_category"] == large["prod.merchant_category"] == 20
    # Merchants and products are shared, so they grow more slowly (products from 10k up).
    assert small["prod.merchant"] < large["prod.merchant"] < 10 * small["prod.merchant"]
    assert small["prod.product"] <= large["prod.product"] < 10 * small["prod.product"]
    # Everything that hangs off a profile grows about as fast as the profiles.
    per_profile = [t for t in TABLES if t not in ("prod.merchant", "prod.product")]
    per_profile.remove("prod.merchant_category")
    for table in per_profile:
        ratio = large[table] / small[table]
        assert 7 < ratio < 13, (table, ratio)


# --- profiles ------------------------------------------------------------------------------


def test_anonymous_only_profiles_exist_and_have_no_known_identifiers(
    con: duckdb.DuckDBPyConnection,
) -> None:
    anonymous = _one(
        con,
        "SELECT count(*) FROM (SELECT canonical_segment_id FROM ps_materialize.user_identifiers "
        "GROUP BY 1 HAVING bool_and(type = 'anonymous_id'))",
    )
    assert isinstance(anonymous, int)
    assert 0.05 * PROFILES < anonymous < 0.15 * PROFILES
    # Every profile has identifiers, and no anonymous-only profile has an email trait.
    everyone = "SELECT count(DISTINCT canonical_segment_id) FROM ps_materialize.user_identifiers"
    assert _one(con, everyone) == PROFILES
    no_email_traits = _one(
        con,
        "SELECT count(*) FROM ps_materialize.user_traits t WHERE name = 'email' AND NOT EXISTS ("
        "  SELECT 1 FROM ps_materialize.user_identifiers i"
        "  WHERE i.canonical_segment_id = t.canonical_segment_id AND i.type = 'email')",
    )
    assert no_email_traits == 0


def test_identifier_types_and_multiple_values(con: duckdb.DuckDBPyConnection) -> None:
    types = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT type FROM ps_materialize.user_identifiers"
        ).fetchall()
    }
    assert types == {"user_id", "email", "anonymous_id", "ios.idfa", "android.idfa"}
    for kind in ("email", "anonymous_id"):
        doubles = _one(
            con,
            "SELECT count(*) FROM (SELECT canonical_segment_id FROM "
            f"ps_materialize.user_identifiers WHERE type = '{kind}' GROUP BY 1 "
            "HAVING count(*) = 2)",
        )
        assert isinstance(doubles, int) and doubles > 0, kind


def test_the_email_trait_is_one_of_the_profiles_email_identifiers(
    con: duckdb.DuckDBPyConnection,
) -> None:
    mismatches = _one(
        con,
        "SELECT count(*) FROM ps_materialize.user_traits t WHERE name = 'email' AND NOT EXISTS ("
        "  SELECT 1 FROM ps_materialize.user_identifiers i"
        "  WHERE i.canonical_segment_id = t.canonical_segment_id"
        "    AND i.type = 'email' AND i.value = t.value)",
    )
    assert mismatches == 0
    assert _one(con, "SELECT count(*) FROM ps_materialize.user_traits WHERE name = 'email'")


def test_traits_are_long_with_some_missing_per_profile(con: duckdb.DuckDBPyConnection) -> None:
    names = {
        row[0]
        for row in con.execute("SELECT DISTINCT name FROM ps_materialize.user_traits").fetchall()
    }
    assert names == {
        "email",
        "first_name",
        "country",
        "loyalty_tier",
        "lifetime_value",
        "avg_order_value",
        "is_vip",
        "signup_date",
        "last_seen_at",
        "preferred_category",
    }
    assert (
        _one(
            con,
            "SELECT count(*) FROM (SELECT canonical_segment_id, name "
            "FROM ps_materialize.user_traits GROUP BY ALL HAVING count(*) > 1)",
        )
        == 0
    )
    per_profile = con.execute(
        "SELECT min(n), max(n) FROM (SELECT canonical_segment_id, count(*) AS n "
        "FROM ps_materialize.user_traits GROUP BY 1)"
    ).fetchone()
    assert per_profile is not None
    assert per_profile[0] < 10 and per_profile[1] == 10
    # Some profiles have no trait rows at all, and the same trait is missing for some.
    with_traits = _one(
        con, "SELECT count(DISTINCT canonical_segment_id) FROM ps_materialize.user_traits"
    )
    assert isinstance(with_traits, int) and with_traits < PROFILES
    lifetime = _one(
        con, "SELECT count(*) FROM ps_materialize.user_traits WHERE name = 'lifetime_value'"
    )
    assert isinstance(lifetime, int) and 0.5 * PROFILES < lifetime < 0.95 * PROFILES


def test_trait_values_are_text_that_casts_to_their_declared_type(
    con: duckdb.DuckDBPyConnection,
) -> None:
    for name, kind in [
        ("lifetime_value", "DOUBLE"),
        ("avg_order_value", "DOUBLE"),
        ("is_vip", "BOOLEAN"),
        ("signup_date", "DATE"),
        ("last_seen_at", "TIMESTAMPTZ"),
    ]:
        bad = _one(
            con,
            "SELECT count(*) FROM ps_materialize.user_traits "
            f"WHERE name = '{name}' AND TRY_CAST(value AS {kind}) IS NULL",
        )
        assert bad == 0, name
    assert {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT value FROM ps_materialize.user_traits WHERE name = 'is_vip'"
        ).fetchall()
    } == {"true", "false"}
    assert (
        _one(
            con,
            "SELECT count(*) FROM ps_materialize.user_traits WHERE name = 'signup_date' "
            "AND NOT regexp_full_match(value, '\\d{4}-\\d{2}-\\d{2}')",
        )
        == 0
    )
    endings = con.execute(
        "SELECT count(*) FILTER (WHERE value LIKE '%Z'), "
        "count(*) FILTER (WHERE value LIKE '%+00:00') "
        "FROM ps_materialize.user_traits WHERE name = 'last_seen_at'"
    ).fetchone()
    assert endings is not None and min(endings) > 0
    tiers = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT value FROM ps_materialize.user_traits WHERE name = 'loyalty_tier'"
        ).fetchall()
    }
    assert tiers == {"bronze", "silver", "gold", "platinum"}


def test_first_names_include_values_that_need_escaping(bigger: duckdb.DuckDBPyConnection) -> None:
    names = {
        row[0]
        for row in bigger.execute(
            "SELECT DISTINCT value FROM ps_materialize.user_traits WHERE name = 'first_name'"
        ).fetchall()
    }
    assert "O'Brien" in names
    assert any("%" in n for n in names)
    assert any("_" in n for n in names)
    assert any("\\" in n for n in names)
    assert "Zoë" in names and "李" in names


def test_id_graph_maps_every_profile_to_itself_and_some_merged_ids(
    con: duckdb.DuckDBPyConnection,
) -> None:
    selves = _one(
        con, "SELECT count(*) FROM ps_materialize.id_graph WHERE segment_id = canonical_segment_id"
    )
    assert selves == PROFILES
    merged_profiles = _one(
        con,
        "SELECT count(DISTINCT canonical_segment_id) FROM ps_materialize.id_graph "
        "WHERE segment_id <> canonical_segment_id",
    )
    assert isinstance(merged_profiles, int)
    assert 0.1 * PROFILES < merged_profiles < 0.3 * PROFILES
    assert (
        _one(
            con,
            "SELECT max(n) FROM (SELECT canonical_segment_id, count(*) - 1 AS n "
            "FROM ps_materialize.id_graph GROUP BY 1)",
        )
        == 2
    )


# --- events --------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [*EVENT_TABLES, "segment.tracks"])
def test_every_event_segment_id_is_in_the_id_graph(
    con: duckdb.DuckDBPyConnection, table: str
) -> None:
    missing = _one(
        con,
        f"SELECT count(*) FROM {table} e "
        "ANTI JOIN ps_materialize.id_graph g ON g.segment_id = e.segment_id",
    )
    assert missing == 0
    merged = _one(
        con,
        f"SELECT count(*) FROM {table} e JOIN ps_materialize.id_graph g USING (segment_id) "
        "WHERE g.segment_id <> g.canonical_segment_id",
    )
    assert isinstance(merged, int) and merged > 0


@pytest.mark.parametrize("table", EVENT_TABLES)
def test_event_times_lie_in_the_180_days_before_as_of(
    con: duckdb.DuckDBPyConnection, table: str
) -> None:
    outside = _one(
        con,
        f"SELECT count(*) FROM {table} WHERE timestamp < {AS_OF} - INTERVAL 180 DAY "
        f"OR timestamp > {AS_OF}",
    )
    assert outside == 0
    assert _one(con, f"SELECT count(*) FROM {table} WHERE received_at IS NULL") == 0


def test_some_events_fall_on_day_boundaries_or_have_no_timestamp(
    con: duckdb.DuckDBPyConnection, bigger: duckdb.DuckDBPyConnection
) -> None:
    union = " UNION ALL ".join(f"SELECT timestamp FROM {t}" for t in EVENT_TABLES)
    on_boundary = _one(
        con, f"SELECT count(*) FROM ({union}) WHERE timestamp = {AS_OF} - INTERVAL 7 DAY"
    )
    assert isinstance(on_boundary, int) and on_boundary > 0
    # A bigger build has a handful of NULL timestamps.
    nulls = _one(bigger, f"SELECT count(*) FROM ({union}) WHERE timestamp IS NULL")
    assert isinstance(nulls, int) and 0 < nulls < 200


def test_tracks_indexes_the_track_events_and_signups(con: duckdb.DuckDBPyConnection) -> None:
    for table, event in [
        ("segment.order_completed", "Order Completed"),
        ("segment.product_viewed", "Product Viewed"),
    ]:
        mismatches = _one(
            con,
            f"SELECT count(*) FROM (SELECT id, segment_id, user_id, anonymous_id, timestamp, "
            f"received_at, event, event_text FROM {table} EXCEPT ALL "
            f"SELECT * FROM segment.tracks WHERE event = '{event}')",
        )
        assert mismatches == 0, table
        assert _one(con, f"SELECT count(*) FROM {table} WHERE event <> '{event}'") == 0
    tracked = _one(con, "SELECT count(*) FROM segment.tracks WHERE event <> 'Signed Up'")
    assert tracked == _one(
        con,
        "SELECT (SELECT count(*) FROM segment.order_completed) "
        "+ (SELECT count(*) FROM segment.product_viewed)",
    )
    signups = _one(
        con,
        "SELECT count(DISTINCT g.canonical_segment_id) FROM segment.tracks t "
        "JOIN ps_materialize.id_graph g USING (segment_id) WHERE t.event = 'Signed Up'",
    )
    known = _one(
        con,
        "SELECT count(DISTINCT canonical_segment_id) FROM ps_materialize.user_identifiers "
        f"WHERE type IN {KNOWN_ID_TYPES}",
    )
    assert isinstance(signups, int) and isinstance(known, int)
    assert 0.9 * known < signups <= known


def test_anonymous_events_have_no_user_id(con: duckdb.DuckDBPyConnection) -> None:
    union = " UNION ALL ".join(f"SELECT segment_id, user_id FROM {t}" for t in EVENT_TABLES)
    with_user_id = _one(
        con,
        f"SELECT count(*) FROM ({union}) e JOIN ps_materialize.id_graph g USING (segment_id) "
        "WHERE e.user_id IS NOT NULL AND g.canonical_segment_id IN ("
        "  SELECT canonical_segment_id FROM ps_materialize.user_identifiers "
        "  GROUP BY 1 HAVING bool_and(type = 'anonymous_id'))",
    )
    assert with_user_id == 0


# --- entities ------------------------------------------------------------------------------

ACCOUNTS = (
    "SELECT DISTINCT i.canonical_segment_id AS profile, a.* FROM ps_materialize.user_identifiers i "
    "JOIN prod.account a ON i.type = 'email' AND a.email = i.value"
)


def test_accounts_join_profiles_by_email_with_orphans_and_shared_accounts(
    con: duckdb.DuckDBPyConnection,
) -> None:
    known = _one(
        con,
        "SELECT count(DISTINCT canonical_segment_id) FROM ps_materialize.user_identifiers "
        f"WHERE type IN {KNOWN_ID_TYPES}",
    )
    accounts = _one(con, "SELECT count(*) FROM prod.account")
    assert isinstance(known, int) and isinstance(accounts, int)
    assert 1.0 * known < accounts < 1.4 * known
    orphans = _one(
        con,
        "SELECT count(*) FROM prod.account a ANTI JOIN ps_materialize.user_identifiers i "
        "ON i.type = 'email' AND i.value = a.email",
    )
    assert isinstance(orphans, int) and 0 < orphans < 0.05 * accounts
    shared = _one(
        con,
        f"SELECT count(*) FROM (SELECT id FROM ({ACCOUNTS}) GROUP BY 1 "
        "HAVING count(DISTINCT profile) > 1)",
    )
    assert isinstance(shared, int) and shared > 0


def test_six_level_chain_from_profile_to_merchant_category(
    con: duckdb.DuckDBPyConnection,
) -> None:
    chain = con.execute(
        f"""
        SELECT count(*), count(DISTINCT a.profile),
            count(DISTINCT a.profile) FILTER (
                WHERE mc.is_travel AND t.created_at >= {AS_OF} - INTERVAL 90 DAY)
        FROM ({ACCOUNTS}) a
        JOIN prod.credit_card c ON c.account_id = a.id
        JOIN prod.card_transaction t ON t.card_id = c.id
        JOIN prod.merchant m ON m.id = t.merchant_id
        JOIN prod.merchant_category mc ON mc.id = m.category_id
        """
    ).fetchone()
    assert chain is not None
    rows, profiles, travellers = chain
    assert rows > 0
    assert 0 < travellers < profiles < PROFILES


def test_entity_distributions_give_partial_audiences(con: duckdb.DuckDBPyConnection) -> None:
    known = _one(
        con,
        "SELECT count(DISTINCT canonical_segment_id) FROM ps_materialize.user_identifiers "
        f"WHERE type IN {KNOWN_ID_TYPES}",
    )
    assert isinstance(known, int)
    audiences = {
        "premium cardholders": f"SELECT a.profile FROM ({ACCOUNTS}) a "
        "JOIN prod.credit_card c ON c.account_id = a.id WHERE c.card_type = 'premium'",
        "cards over 1000": f"SELECT a.profile FROM ({ACCOUNTS}) a "
        "JOIN prod.credit_card c ON c.account_id = a.id WHERE c.outstanding_balance > 1000",
        "balance under minimum": f"SELECT profile FROM ({ACCOUNTS}) WHERE balance < min_balance",
        "abandoned carts in 7 days": "SELECT i.canonical_segment_id "
        "FROM ps_materialize.user_identifiers i JOIN prod.cart c "
        "ON i.type = 'user_id' AND c.user_id = i.value "
        f"WHERE c.status = 'abandoned' AND c.updated_at >= {AS_OF} - INTERVAL 7 DAY",
        "high lifetime value": "SELECT canonical_segment_id FROM ps_materialize.user_traits "
        "WHERE name = 'lifetime_value' AND CAST(value AS DOUBLE) > 5000",
        "frequent page viewers": "SELECT g.canonical_segment_id FROM segment.pages p "
        "JOIN ps_materialize.id_graph g USING (segment_id) "
        f"WHERE p.timestamp >= {AS_OF} - INTERVAL 30 DAY "
        "GROUP BY 1 HAVING count(*) >= 5",
    }
    for label, sql in audiences.items():
        members = _one(con, f"SELECT count(DISTINCT m) FROM ({sql}) AS q(m)")
        assert isinstance(members, int)
        assert 0.01 * known < members < 0.6 * known, (label, members)
    nulls = _one(con, "SELECT count(*) FROM prod.card_transaction WHERE amount IS NULL")
    assert isinstance(nulls, int) and nulls > 0
    window = con.execute(
        f"SELECT min(created_at) >= {AS_OF} - INTERVAL 365 DAY, max(created_at) <= {AS_OF} "
        "FROM prod.card_transaction"
    ).fetchone()
    assert window == (True, True)
    per_card = con.execute(
        "SELECT max(n) FROM (SELECT c.id, count(t.id) AS n FROM prod.credit_card c "
        "LEFT JOIN prod.card_transaction t ON t.card_id = c.id GROUP BY 1)"
    ).fetchone()
    assert per_card is not None and per_card[0] <= 8


def test_junction_joins_carts_to_shared_products(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        """
        SELECT count(*), count(DISTINCT c.id), count(DISTINCT p.sku),
            max(per_cart.n), min(per_cart.n)
        FROM prod.cart c
        JOIN prod.cart_product cp ON cp.cart_id = c.id
        JOIN prod.product p ON p.sku = cp.product_sku
        JOIN (SELECT cart_id, count(*) AS n FROM prod.cart_product GROUP BY 1) per_cart
            ON per_cart.cart_id = c.id
        """
    ).fetchone()
    assert row is not None
    links, carts, products, most, fewest = row
    assert carts == _one(con, "SELECT count(*) FROM prod.cart")
    assert links == _one(con, "SELECT count(*) FROM prod.cart_product")
    assert products < carts  # the same product sits in many carts
    assert fewest >= 1 and most <= 5
    totals_off = _one(
        con,
        "SELECT count(*) FROM prod.cart c JOIN (SELECT cp.cart_id, sum(p.price) AS s "
        "FROM prod.cart_product cp JOIN prod.product p ON p.sku = cp.product_sku GROUP BY 1) t "
        "ON t.cart_id = c.id WHERE abs(c.total - t.s) > 0.005",
    )
    assert totals_off == 0
    joined = _one(
        con,
        "SELECT count(*) FROM prod.cart c ANTI JOIN ps_materialize.user_identifiers i "
        "ON i.type = 'user_id' AND i.value = c.user_id",
    )
    assert joined == 0


# --- API and command line ------------------------------------------------------------------


def test_progress_reports_each_table() -> None:
    messages: list[str] = []
    counts = gen.build_demo_warehouse(
        None, connection=duckdb.connect(), profiles=200, seed=1, progress=messages.append
    )
    for table, rows in counts.items():
        assert any(m.startswith(f"{table}: {rows:,} rows in ") for m in messages), table


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"profiles": 0}, ValueError),
        ({"profiles": -5}, ValueError),
        ({"profiles": True}, TypeError),
        ({"profiles": 10.0}, TypeError),
        ({"seed": "42"}, TypeError),
        ({"seed": 2**63}, ValueError),
    ],
)
def test_invalid_arguments_are_rejected(
    tmp_path: Path, kwargs: dict[str, object], error: type[Exception]
) -> None:
    target = tmp_path / "x.duckdb"
    with pytest.raises(error):
        gen.build_demo_warehouse(target, **kwargs)
    assert not target.exists()


def test_path_and_connection_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        gen.build_demo_warehouse(None)
    with pytest.raises(ValueError, match="exactly one"):
        gen.build_demo_warehouse(tmp_path / "x.duckdb", connection=duckdb.connect())


def test_main_writes_the_file_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.duckdb"
    target.write_text("not a database")  # replaced
    assert gen.main(["--profiles", "300", "--seed", "5", "--out", str(target)]) == 0
    out, err = capsys.readouterr()
    assert "ps_materialize.user_traits" in out and "total" in out
    assert "rows in" in err
    with duckdb.connect(str(target), read_only=True) as db:
        profiles = _one(
            db, "SELECT count(DISTINCT canonical_segment_id) FROM ps_materialize.id_graph"
        )
        assert profiles == 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.duckdb"]


def test_main_rejects_zero_profiles_with_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gen.main(["--profiles", "0"])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("usage:")
    assert len([line for line in lines if "error:" in line]) == 1
    assert "error:" in lines[-1] and "--profiles" in lines[-1]


def test_the_script_exits_2_with_one_error_line_and_no_traceback(tmp_path: Path) -> None:
    assert gen.__file__ is not None
    result = subprocess.run(
        [sys.executable, gen.__file__, "--profiles", "0", "--out", str(tmp_path / "x.duckdb")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "--profiles" in errors[0]
    assert result.stdout == ""
    assert not (tmp_path / "x.duckdb").exists()


def test_checkouts_come_before_orders_of_the_same_cart(
    bigger: duckdb.DuckDBPyConnection,
) -> None:
    """The funnel example needs both outcomes: a checkout followed by an order of its cart
    within a day, one whose order came later than a day, and checkouts of carts never
    ordered. Every order that names a cart has its checkout 2 minutes to 40 hours before."""
    pairs = (
        "SELECT o.timestamp - c.timestamp AS lag FROM segment.order_completed AS o "
        "JOIN segment.checkout_started AS c ON c.id = 'ajs-chk-' || substr(o.id, 5)"
    )
    named = _one(bigger, "SELECT count(*) FROM segment.order_completed WHERE cart_id IS NOT NULL")
    dated = _one(
        bigger,
        "SELECT count(*) FROM segment.order_completed "
        "WHERE cart_id IS NOT NULL AND timestamp IS NOT NULL",
    )
    assert isinstance(named, int) and isinstance(dated, int) and 0 < dated <= named
    assert _one(bigger, f"SELECT count(*) FROM ({pairs})") == dated
    assert (
        _one(
            bigger,
            f"SELECT count(*) FROM ({pairs}) "
            "WHERE lag < INTERVAL 2 MINUTE OR lag > INTERVAL 40 HOUR",
        )
        == 0
    )
    within_a_day = _one(bigger, f"SELECT count(*) FROM ({pairs}) WHERE lag <= INTERVAL 1 DAY")
    assert isinstance(within_a_day, int) and 0 < within_a_day < dated
    never_ordered = _one(
        bigger,
        "SELECT count(*) FROM segment.checkout_started AS c JOIN prod.cart AS ct "
        "ON ct.id = c.cart_id WHERE ct.status IN ('open', 'abandoned')",
    )
    assert isinstance(never_ordered, int) and never_ordered > 0


def test_accounts_have_members_and_edge_cases(bigger: duckdb.DuckDBPyConnection) -> None:
    """Account audiences need: accounts without members, profiles in two accounts,
    membership rows without a profile, and memberships of accounts without a traits row."""
    empty = _one(
        bigger,
        "SELECT count(*) FROM ps_materialize.account_traits AS a WHERE NOT EXISTS ("
        "SELECT 1 FROM ps_materialize.account_users AS m WHERE m.group_id = a.group_id "
        "AND m.canonical_segment_id IS NOT NULL)",
    )
    two = _one(
        bigger,
        "SELECT count(*) FROM (SELECT canonical_segment_id FROM ps_materialize.account_users "
        "WHERE canonical_segment_id IS NOT NULL GROUP BY 1 "
        "HAVING count(DISTINCT group_id) > 1)",
    )
    no_profile = _one(
        bigger,
        "SELECT count(*) FROM ps_materialize.account_users WHERE canonical_segment_id IS NULL",
    )
    orphans = _one(
        bigger,
        "SELECT count(*) FROM ps_materialize.account_users AS m WHERE NOT EXISTS ("
        "SELECT 1 FROM ps_materialize.account_traits AS a WHERE a.group_id = m.group_id)",
    )
    for found in (empty, two, no_profile, orphans):
        assert isinstance(found, int) and found > 0
    assert (
        _one(
            bigger, "SELECT count(*) - count(DISTINCT group_id) FROM ps_materialize.account_traits"
        )
        == 0
    )


def test_discounts_belong_to_a_cart_line(bigger: duckdb.DuckDBPyConnection) -> None:
    """The composite join (cart, line number) resolves; some lines have two discounts."""
    orphans = _one(
        bigger,
        "SELECT count(*) FROM prod.cart_line_discount AS d ANTI JOIN prod.cart_line AS l "
        "ON l.cart_id = d.cart_id AND l.line_no = d.line_no",
    )
    assert orphans == 0
    twice = _one(
        bigger,
        "SELECT count(*) FROM (SELECT cart_id, line_no FROM prod.cart_line_discount "
        "GROUP BY ALL HAVING count(*) = 2)",
    )
    assert isinstance(twice, int) and twice > 0
