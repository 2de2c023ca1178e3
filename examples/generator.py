"""Build the demo warehouse that ``examples/graph.yaml`` describes, as one DuckDB file.

Run it as ``python -m linked_audiences.examples.generator --profiles N --seed S --out demo.duckdb``.
It writes Segment's Profiles Sync layout and an entity schema:

* ``ps_materialize``: ``user_traits`` (long: one row per profile and trait that has a value),
  ``user_identifiers`` and ``id_graph``;
* ``prod``: a bank (account -> credit_card -> card_transaction -> merchant ->
  merchant_category) and a shop (cart <-> product through ``cart_product``);
* ``segment``: ``pages``, ``product_viewed``, ``order_completed`` and ``tracks``.

Every value comes from DuckDB SQL over ``range(...)``: a hash of (seed, stream, row) stands in
for a random number, so the same ``(profiles, seed)`` gives identical table contents on every
run, whatever DuckDB's parallelism or the session time zone. (``hash`` is DuckDB's own, so the
guarantee holds per DuckDB version; the order of rows inside a table is not part of it.)
Ids are keyed permutations of row numbers, so primary keys never collide. The arithmetic
uses only + - * / and sqrt, so no libm function can round differently on another machine.
All times are relative to ``DEMO_AS_OF``; events lie in the 180 days before it, except the
``Signed Up`` rows of ``tracks``, which sit at each profile's signup time (up to two years back).

Measured with the CLI on the 2-core, 24 GB build machine (DuckDB 2.0.0; wall clock of the
whole command on an otherwise idle machine; a second busy process on the 2 cores roughly
doubles the 1M time):

==========  ==========  =======  =========  ========
profiles    rows        time     file       peak RSS
==========  ==========  =======  =========  ========
10,000         363,279  1.4 s      15 MB    0.2 GB
100,000      3,632,747  4.9 s     118 MB    0.5 GB
1,000,000   36,205,046  26 s    1,188 MB    2.1 GB
==========  ==========  =======  =========  ========
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import duckdb

__all__ = ["DEMO_AS_OF", "build_demo_warehouse", "main"]

DEMO_AS_OF: datetime = datetime(2026, 11, 1, tzinfo=timezone.utc)
"""The instant every generated time is relative to (events lie before it)."""

_AS_OF_US = int(DEMO_AS_OF.timestamp()) * 1_000_000
_DAY_US = 86_400_000_000
_AS_OF_DATE = f"DATE '{DEMO_AS_OF:%Y-%m-%d}'"
_MAX_PROFILES = 1_000_000_000  # keeps every generated index far below the 2**48 id space
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1

# Output tables, in build order, with their exact column types.
_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "ps_materialize.user_identifiers": (
        ("canonical_segment_id", "VARCHAR"),
        ("type", "VARCHAR"),
        ("value", "VARCHAR"),
        ("timestamp", "TIMESTAMPTZ"),
    ),
    "ps_materialize.user_traits": (
        ("canonical_segment_id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("value", "VARCHAR"),
        ("seq", "BIGINT"),
        ("received_at", "TIMESTAMPTZ"),
        ("uuid_ts", "TIMESTAMPTZ"),
        ("timestamp", "TIMESTAMPTZ"),
    ),
    "ps_materialize.id_graph": (
        ("segment_id", "VARCHAR"),
        ("canonical_segment_id", "VARCHAR"),
    ),
    "ps_materialize.account_traits": (
        ("group_id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("plan", "VARCHAR"),
        ("seats", "DOUBLE"),
        ("industry", "VARCHAR"),
        ("created_at", "TIMESTAMPTZ"),
    ),
    "ps_materialize.account_users": (
        ("group_id", "VARCHAR"),
        ("canonical_segment_id", "VARCHAR"),
    ),
    "prod.merchant_category": (
        ("id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("mcc_code", "VARCHAR"),
        ("is_travel", "BOOLEAN"),
    ),
    "prod.merchant": (
        ("id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("category_id", "VARCHAR"),
        ("country", "VARCHAR"),
    ),
    "prod.product": (
        ("sku", "VARCHAR"),
        ("name", "VARCHAR"),
        ("category", "VARCHAR"),
        ("price", "DOUBLE"),
    ),
    "prod.account": (
        ("id", "VARCHAR"),
        ("email", "VARCHAR"),
        ("plan", "VARCHAR"),
        ("status", "VARCHAR"),
        ("balance", "DOUBLE"),
        ("min_balance", "DOUBLE"),
        ("opened_at", "TIMESTAMPTZ"),
        ("region", "VARCHAR"),
    ),
    "prod.credit_card": (
        ("id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("card_type", "VARCHAR"),
        ("credit_limit", "DOUBLE"),
        ("outstanding_balance", "DOUBLE"),
        ("status", "VARCHAR"),
        ("expires_on", "DATE"),
    ),
    "prod.card_transaction": (
        ("id", "VARCHAR"),
        ("card_id", "VARCHAR"),
        ("merchant_id", "VARCHAR"),
        ("amount", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("status", "VARCHAR"),
        ("created_at", "TIMESTAMPTZ"),
    ),
    "prod.cart_product": (
        ("id", "VARCHAR"),
        ("cart_id", "VARCHAR"),
        ("product_sku", "VARCHAR"),
    ),
    "prod.cart_line": (
        ("cart_id", "VARCHAR"),
        ("line_no", "BIGINT"),
        ("product_sku", "VARCHAR"),
        ("quantity", "BIGINT"),
        ("unit_price", "DOUBLE"),
    ),
    "prod.cart_line_discount": (
        ("cart_id", "VARCHAR"),
        ("line_no", "BIGINT"),
        ("code", "VARCHAR"),
        ("amount", "DOUBLE"),
    ),
    "prod.cart": (
        ("id", "VARCHAR"),
        ("user_id", "VARCHAR"),
        ("status", "VARCHAR"),
        ("total", "DOUBLE"),
        ("updated_at", "TIMESTAMPTZ"),
    ),
}
_EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "VARCHAR"),
    ("segment_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("anonymous_id", "VARCHAR"),
    ("timestamp", "TIMESTAMPTZ"),
    ("received_at", "TIMESTAMPTZ"),
    ("event", "VARCHAR"),
    ("event_text", "VARCHAR"),
)
_TABLES["segment.pages"] = (
    *_EVENT_COLUMNS,
    ("name", "VARCHAR"),
    ("url", "VARCHAR"),
    ("path", "VARCHAR"),
    ("title", "VARCHAR"),
)
_TABLES["segment.product_viewed"] = (
    *_EVENT_COLUMNS,
    ("product_id", "VARCHAR"),
    ("category", "VARCHAR"),
    ("price", "DOUBLE"),
)
_TABLES["segment.order_completed"] = (
    *_EVENT_COLUMNS,
    ("revenue", "DOUBLE"),
    ("product_id", "VARCHAR"),
    ("currency", "VARCHAR"),
    ("coupon", "VARCHAR"),
    ("cart_id", "VARCHAR"),
)
_TABLES["segment.checkout_started"] = (
    *_EVENT_COLUMNS,
    ("cart_id", "VARCHAR"),
    ("revenue", "DOUBLE"),
)
_TABLES["segment.tracks"] = _EVENT_COLUMNS
_REPORT_ORDER = (
    "ps_materialize.user_traits",
    "ps_materialize.user_identifiers",
    "ps_materialize.id_graph",
    "ps_materialize.account_traits",
    "ps_materialize.account_users",
    "prod.account",
    "prod.credit_card",
    "prod.card_transaction",
    "prod.merchant",
    "prod.merchant_category",
    "prod.cart",
    "prod.cart_product",
    "prod.cart_line",
    "prod.cart_line_discount",
    "prod.product",
    "segment.order_completed",
    "segment.checkout_started",
    "segment.product_viewed",
    "segment.pages",
    "segment.tracks",
)

# ---------------------------------------------------------------------------------------------
# Vocabulary. Weighted choices are (value, weight) pairs; weights are small integers.

_FIRST_NAMES: tuple[tuple[str, str], ...] = (  # (display, ASCII token for e-mail addresses)
    ("Olivia", "olivia"), ("Liam", "liam"), ("Emma", "emma"), ("Noah", "noah"),
    ("Ava", "ava"), ("Elijah", "elijah"), ("Sophia", "sophia"), ("Mateo", "mateo"),
    ("Isabella", "isabella"), ("Lucas", "lucas"), ("Mia", "mia"), ("Oliver", "oliver"),
    ("Amelia", "amelia"), ("James", "james"), ("Harper", "harper"), ("Benjamin", "benjamin"),
    ("Evelyn", "evelyn"), ("Henry", "henry"), ("Aisha", "aisha"), ("Mohammed", "mohammed"),
    ("Priya", "priya"), ("Arjun", "arjun"), ("Yuki", "yuki"), ("Hiroshi", "hiroshi"),
    ("Chloé", "chloe"), ("Zoë", "zoe"), ("José", "jose"), ("Sofía", "sofia"),
    ("Björn", "bjorn"), ("Łukasz", "lukasz"), ("Olga", "olga"), ("Fatima", "fatima"),
    ("Wei", "wei"), ("Mei", "mei"), ("Kwame", "kwame"), ("Ngozi", "ngozi"),
    ("Siobhan", "siobhan"), ("Seán", "sean"), ("Ana María", "anamaria"), ("Jean-Luc", "jeanluc"),
)  # fmt: skip
# Odd values that a compiler must quote and escape correctly (LIKE wildcards, quotes, a
# backslash, non-Latin scripts, an empty string, the word NULL, padding, SQL injection).
_ODD_FIRST_NAMES: tuple[str, ...] = (
    "O'Brien", "D'Angelo", "100% Jane", "Jo_Ann", "back\\slash", "50%_off\\", "李", "张伟",
    "Zoë", "Ñandú", "", "NULL", "  Padded  ", "Robert'); DROP TABLE students;--", "Émile 🌟",
)  # fmt: skip
_EMAIL_DOMAINS = (("example.com", 5), ("example.org", 3), ("example.net", 2), ("mail.test", 1))
_COUNTRIES = (
    ("US", 35), ("GB", 10), ("DE", 8), ("FR", 7), ("CA", 6), ("BR", 5), ("IN", 5), ("JP", 4),
    ("AU", 4), ("ES", 4), ("NL", 3), ("MX", 3), ("SE", 2), ("IT", 2), ("SG", 2),
)  # fmt: skip
_LOYALTY_TIERS = (("bronze", 50), ("silver", 30), ("gold", 15), ("platinum", 5))
_PRODUCT_CATEGORIES = (
    ("electronics", 14), ("apparel", 16), ("home", 12), ("beauty", 10), ("sports", 9),
    ("books", 9), ("toys", 8), ("grocery", 10), ("garden", 6), ("pets", 6),
)  # fmt: skip
_PRODUCT_ADJECTIVES = (
    "Classic", "Ultra", "Eco", "Smart", "Compact", "Deluxe", "Everyday", "Pro", "Mini", "Organic",
    "Vintage", "Wireless", "Cozy", "Rugged", "Premium", "Lightweight",
)  # fmt: skip
_PRODUCT_NOUNS = (
    "Headphones", "Sneakers", "Lamp", "Serum", "Yoga Mat", "Novel", "Puzzle", "Coffee Beans",
    "Planter", "Dog Bed", "Backpack", "Blender", "Jacket", "Notebook", "Water Bottle", "Speaker",
    "Candle", "Board Game", "Tea Set", "Sunglasses",
)  # fmt: skip
# (id, name, mcc_code, is_travel, weight for merchants, merchant-name suffixes)
_MERCHANT_CATEGORIES: tuple[tuple[str, str, str, bool, int, tuple[str, ...]], ...] = (
    ("mc_01", "Airlines", "4511", True, 4, ("Air", "Airways", "Airlines")),
    ("mc_02", "Hotels & Lodging", "7011", True, 5, ("Hotel", "Inn", "Suites", "Resort")),
    ("mc_03", "Car Rental", "7512", True, 2, ("Car Rental", "Rent-a-Car")),
    ("mc_04", "Travel Agencies", "4722", True, 3, ("Travel", "Tours", "Getaways")),
    ("mc_05", "Rail & Bus", "4112", True, 2, ("Rail", "Coachlines")),
    ("mc_06", "Cruise Lines", "4411", True, 1, ("Cruises",)),
    ("mc_07", "Grocery", "5411", False, 12, ("Market", "Grocers", "Foods")),
    ("mc_08", "Restaurants", "5812", False, 12, ("Bistro", "Kitchen", "Grill", "Trattoria")),
    ("mc_09", "Fast Food", "5814", False, 8, ("Burgers", "Tacos", "Pizza")),
    ("mc_10", "Gas Stations", "5541", False, 6, ("Fuel", "Gas")),
    ("mc_11", "Pharmacies", "5912", False, 5, ("Pharmacy", "Drugstore")),
    ("mc_12", "Electronics", "5732", False, 5, ("Electronics", "Tech")),
    ("mc_13", "Clothing", "5651", False, 7, ("Outfitters", "Apparel", "Boutique")),
    ("mc_14", "Department Stores", "5311", False, 4, ("Department Store",)),
    ("mc_15", "Home Improvement", "5200", False, 4, ("Hardware", "Home Center")),
    ("mc_16", "Entertainment", "7832", False, 5, ("Cinema", "Theater")),
    ("mc_17", "Streaming Services", "4899", False, 3, ("Stream", "Plus")),
    ("mc_18", "Utilities", "4900", False, 3, ("Energy", "Water Co.")),
    ("mc_19", "Health & Fitness", "7997", False, 4, ("Gym", "Fitness Club")),
    ("mc_20", "Education", "8299", False, 3, ("Academy", "Learning")),
)  # fmt: skip
_MERCHANT_WORDS = (
    "Blue", "Harbor", "Summit", "Golden", "Maple", "Urban", "North", "Silver", "Cedar", "Bright",
    "Coastal", "Pioneer", "Union", "Lucky", "Royal", "Green", "Star", "Metro", "River", "Oak",
)  # fmt: skip
_PAGES: tuple[tuple[str | None, str, int], ...] = (  # (Segment page name, path, weight)
    ("Home", "/", 20), ("Product", "/products", 22), ("Category", "/c/all", 10),
    ("Search", "/search", 8), ("Cart", "/cart", 7), ("Checkout", "/checkout", 4),
    ("Pricing", "/pricing", 4), ("Deals", "/deals", 6), ("Blog", "/blog", 5),
    ("Help", "/help", 3), ("Account", "/account", 4), (None, "/landing/fall-sale", 4),
    (None, "/l/summer_50%", 1), ("Café & Co's picks", "/picks", 2),
)  # fmt: skip
_COUPONS = (("SAVE10", 5), ("WELCOME15", 4), ("FREESHIP", 4), ("50%OFF", 1), ("VIP_ONLY", 1))
_CURRENCIES = (("USD", 80), ("EUR", 10), ("GBP", 7), ("JPY", 3))
_EVENT_DAY_MARKS = (0, 1, 7, 14, 30, 60, 90, 180)  # some events fall exactly on AS_OF - N days


# ---------------------------------------------------------------------------------------------
# SQL building helpers. Only module constants and validated integers reach the SQL text.


def _str(value: str | None) -> str:
    """A SQL string literal for a module constant (never for user input)."""
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def _list(values: Sequence[str | None]) -> str:
    return "CAST([" + ", ".join(_str(v) for v in values) + "] AS VARCHAR[])"


def _expand(weighted: Sequence[tuple[str, int]]) -> list[str]:
    return [value for value, weight in weighted for _ in range(weight)]


def _pick(values: Sequence[str | None], stream: int, i: str, j: str = "0") -> str:
    """A uniformly chosen element of ``values`` (repeat an element to weight it)."""
    return f"{_list(values)}[1 + _la_n({stream}, {i}, {j}, {len(values)})]"


def _pick_weighted(weighted: Sequence[tuple[str, int]], stream: int, i: str, j: str = "0") -> str:
    return _pick(_expand(weighted), stream, i, j)


def _pick_int(weighted: Sequence[tuple[int, int]], stream: int, i: str, j: str = "0") -> str:
    values = [str(value) for value, weight in weighted for _ in range(weight)]
    return f"[{', '.join(values)}][1 + _la_n({stream}, {i}, {j}, {len(values)})]"


def _macros(seed: int, profiles: int) -> list[str]:
    tokens = _list([token for _, token in _FIRST_NAMES])
    domains = _list(_expand(_EMAIL_DOMAINS))
    return [
        # A 64-bit hash of (seed, stream, i, j); the source of every "random" value.
        f"""CREATE OR REPLACE TEMP MACRO _la_h(s, i, j) AS hash(
            CAST({seed} AS BIGINT), CAST(s AS BIGINT), CAST(i AS BIGINT), CAST(j AS BIGINT))""",
        """CREATE OR REPLACE TEMP MACRO _la_u(s, i, j) AS
            CAST(_la_h(s, i, j) % 1000000007 AS DOUBLE) / 1000000007.0""",
        """CREATE OR REPLACE TEMP MACRO _la_n(s, i, j, n) AS
            CAST(_la_h(s, i, j) % CAST(n AS UBIGINT) AS BIGINT)""",
        # A keyed permutation of [0, 2**48) (a three-round Feistel network on 24-bit halves),
        # printed as 12 hex digits: distinct indexes always give distinct ids.
        """CREATE OR REPLACE TEMP MACRO _la_f(salt, r) AS
            CAST(_la_h(salt, r, -7) & 16777215 AS BIGINT)""",
        """CREATE OR REPLACE TEMP MACRO _la_r1(x, salt) AS
            xor(x >> 24, _la_f(salt * 4 + 1, x & 16777215))""",
        """CREATE OR REPLACE TEMP MACRO _la_r2(x, salt) AS
            xor(x & 16777215, _la_f(salt * 4 + 2, _la_r1(x, salt)))""",
        """CREATE OR REPLACE TEMP MACRO _la_r3(x, salt) AS
            xor(_la_r1(x, salt), _la_f(salt * 4 + 3, _la_r2(x, salt)))""",
        """CREATE OR REPLACE TEMP MACRO _la_id(x, salt) AS
            lower(to_hex(((_la_r2(x, salt) << 24) | _la_r3(x, salt)) + 281474976710656))[2:]""",
        # Version-4-shaped UUID text from two 64-bit hashes (unique with overwhelming odds).
        """CREATE OR REPLACE TEMP MACRO _la_uuid(s, i, j) AS CAST(CAST(
            to_hex((_la_h(s, i, j) & CAST(18446744073709490175 AS UBIGINT))
                   | CAST(9223372036854792192 AS UBIGINT))
            || to_hex((_la_h(s + 1000, i, j) >> 2) | CAST(9223372036854775808 AS UBIGINT))
            AS UUID) AS VARCHAR)""",
        # Microseconds since the epoch -> TIMESTAMPTZ / ISO text, independent of the session
        # time zone (only a fixed-length interval is ever added).
        """CREATE OR REPLACE TEMP MACRO _la_tz(us) AS
            TIMESTAMPTZ '1970-01-01 00:00:00+00' + to_microseconds(CAST(us AS BIGINT))""",
        """CREATE OR REPLACE TEMP MACRO _la_money(x) AS
            CAST(CAST(x AS DECIMAL(18, 2)) AS DOUBLE)""",
        f"""CREATE OR REPLACE TEMP MACRO _la_email(p) AS
            {tokens}[1 + _la_n(16, p, 0, {len(_FIRST_NAMES)})] || '.' || _la_id(p, 3) || '@'
            || {domains}[1 + _la_n(17, p, 0, {len(_expand(_EMAIL_DOMAINS))})]""",
        f"CREATE OR REPLACE TEMP MACRO _la_profiles() AS CAST({profiles} AS BIGINT)",
    ]


_MACRO_NAMES = (
    "_la_h", "_la_u", "_la_n", "_la_f", "_la_r1", "_la_r2", "_la_r3", "_la_id", "_la_uuid",
    "_la_tz", "_la_money", "_la_email", "_la_profiles",
)  # fmt: skip
_TEMP_TABLES = (
    "_la_index",
    "_la_profile",
    "_la_merchant",
    "_la_product",
    "_la_account",
    "_la_card",
    "_la_cart_item",
    "_la_cart",
    "_la_order",
)


def _ago(max_days: int, stream: int, i: str, j: str) -> str:
    """Epoch microseconds uniformly within ``max_days`` before AS_OF."""
    return f"({_AS_OF_US} - _la_n({stream}, {i}, {j}, {max_days * _DAY_US}))"


def _ago_recent(max_days: int, stream: int, i: str, j: str) -> str:
    """Epoch microseconds within ``max_days`` before AS_OF, denser near AS_OF (u ** 1.5)."""
    u = f"_la_u({stream}, {i}, {j})"
    return f"({_AS_OF_US} - CAST({max_days * _DAY_US} * {u} * sqrt({u}) AS BIGINT))"


# ---------------------------------------------------------------------------------------------
# The steps. Each returns the statements that fill one table.


def _profile_sql() -> list[str]:
    """One row per profile with everything other tables derive from it."""
    names = [display for display, _ in _FIRST_NAMES]
    n = "_la_profiles()"
    # range() is scanned by one thread; a table of indexes is scanned by all of them.
    index = f"CREATE OR REPLACE TEMP TABLE _la_index AS SELECT range AS p FROM range({n})"
    return [
        index,
        f"""
CREATE OR REPLACE TEMP TABLE _la_profile AS
SELECT
    p,
    anon,
    'use_' || _la_id(p * 4, 1) AS cid,
    CASE WHEN has_uid THEN 'usr_' || _la_id(p, 2) END AS user_id,
    CASE WHEN n_email >= 1 THEN _la_email(p) END AS email1,
    CASE WHEN n_email = 2 THEN
        CASE WHEN _la_u(7, p, 0) < 0.05 AND {n} > 1  -- shares the next profile's address
             THEN _la_email((p + 1) % {n})
             ELSE split_part(_la_email(p), '.', 1) || '.' || _la_id(p, 4) || '@work.example.com'
        END
    END AS email2,
    CASE n_anonid WHEN 0 THEN CAST([] AS VARCHAR[])
                  WHEN 1 THEN [_la_uuid(10, p, 0)]
                  ELSE [_la_uuid(10, p, 0), _la_uuid(10, p, 1)] END AS anon_ids,
    device,
    CASE WHEN device IS NOT NULL THEN upper(_la_uuid(11, p, 0)) END AS device_id,
    CASE n_merged WHEN 0 THEN CAST([] AS VARCHAR[])
                  WHEN 1 THEN ['use_' || _la_id(p * 4 + 1, 1)]
                  ELSE ['use_' || _la_id(p * 4 + 1, 1), 'use_' || _la_id(p * 4 + 2, 1)]
    END AS merged_ids,
    CASE WHEN NOT anon THEN {_ago(730, 12, "p", "0")} END AS signup_us,
    {_list(names)}[1 + _la_n(16, p, 0, {len(names)})] AS first_name,
    activity,
    -- Heavy-tailed activity: most profiles have a few events, some have many (at most 31).
    CAST(floor(32 * a_pages * a_pages * a_pages * sqrt(a_pages)) AS BIGINT) AS n_pages,
    CAST(floor(20 * a_views * a_views * a_views) AS BIGINT) AS n_views,
    CASE WHEN anon THEN CAST(_la_u(15, p, 1) < 0.04 AS BIGINT)
         ELSE CAST(floor(7 * a_orders * a_orders * a_orders) AS BIGINT) END AS n_orders
FROM (
    SELECT *,
        CASE WHEN anon THEN 1 + CAST(_la_u(5, p, 0) < 0.25 AS INTEGER)
             WHEN has_uid AND _la_u(5, p, 0) < 0.06 THEN 0
             WHEN _la_u(5, p, 0) < 0.80 THEN 1
             ELSE 2 END AS n_anonid,
        CASE WHEN _la_u(6, p, 0) < 0.12 THEN 1 WHEN _la_u(6, p, 0) < 0.20 THEN 2 ELSE 0 END
            AS n_merged,
        0.7 * activity + 0.3 * _la_u(13, p, 0) AS a_pages,
        0.7 * activity + 0.3 * _la_u(14, p, 0) AS a_views,
        0.7 * activity + 0.3 * _la_u(15, p, 0) AS a_orders
    FROM (
        SELECT *,
            NOT anon AND (_la_u(3, p, 0) < 0.88 OR (n_email = 0 AND device IS NULL)) AS has_uid
        FROM (
            SELECT
                p,
                _la_u(1, p, 0) < 0.10 AS anon,
                CASE WHEN _la_u(1, p, 0) < 0.10 THEN 0
                     WHEN _la_u(2, p, 0) < 0.05 THEN 0
                     WHEN _la_u(2, p, 0) < 0.85 THEN 1
                     ELSE 2 END AS n_email,
                CASE WHEN _la_u(1, p, 0) < 0.10 THEN NULL
                     WHEN _la_u(4, p, 0) < 0.25 THEN 'ios.idfa'
                     WHEN _la_u(4, p, 0) < 0.45 THEN 'android.idfa' END AS device,
                _la_u(8, p, 0) AS activity
            FROM _la_index
        )
    )
)
""",
    ]


def _identifiers_sql() -> str:
    def ident(kind: str, value: str, stream: int, where: str) -> str:
        return (
            f"SELECT cid, {_str(kind)}, {value}, _la_tz({_ago(900, stream, 'p', '0')}) "
            f"FROM _la_profile WHERE {where}"
        )

    parts = [
        ident("user_id", "user_id", 30, "user_id IS NOT NULL"),
        ident("email", "email1", 31, "email1 IS NOT NULL"),
        ident("email", "email2", 32, "email2 IS NOT NULL"),
        ident("anonymous_id", "anon_ids[1]", 33, "len(anon_ids) >= 1"),
        ident("anonymous_id", "anon_ids[2]", 34, "len(anon_ids) >= 2"),
        ident("ios.idfa", "device_id", 35, "device = 'ios.idfa'"),
        ident("android.idfa", "device_id", 35, "device = 'android.idfa'"),
    ]
    return "INSERT INTO ps_materialize.user_identifiers\n" + "\nUNION ALL\n".join(parts)


_TRAIT_NAMES = (
    "email", "first_name", "country", "loyalty_tier", "lifetime_value", "avg_order_value",
    "is_vip", "signup_date", "last_seen_at", "preferred_category",
)  # fmt: skip


def _traits_sql() -> str:
    odd = _pick(_ODD_FIRST_NAMES, 41, "p")
    ltv = "(0.6 * activity + 0.4 * _la_u(44, p, 0))"
    last_seen = _ago_recent(60, 48, "p", "0")
    names = _list(list(_TRAIT_NAMES))
    return f"""
INSERT INTO ps_materialize.user_traits
SELECT cid, name, value, p * 16 + ti AS seq,
    _la_tz(t_us + lag_us) AS received_at,
    _la_tz(t_us + lag_us + _la_n(51, p, ti, 120000000)) AS uuid_ts,
    _la_tz(t_us) AS timestamp
FROM (
    SELECT cid, p, name, value,
        list_position({names}, name) AS ti,
        {_ago(365, 49, "p", "list_position(" + names + ", name)")} AS t_us,
        _la_n(50, p, list_position({names}, name), 5000000) AS lag_us
    FROM (
        UNPIVOT (
            SELECT p, cid,
                CASE WHEN _la_u(40, p, 0) < 0.95 THEN
                    CASE WHEN email2 IS NOT NULL AND _la_u(40, p, 1) < 0.2 THEN email2
                         ELSE email1 END
                END AS email,
                CASE WHEN _la_u(40, p, 2) < (CASE WHEN anon THEN 0.05 ELSE 0.85 END) THEN
                    CASE WHEN _la_u(40, p, 3) < 0.03 THEN {odd} ELSE first_name END
                END AS first_name,
                CASE WHEN _la_u(40, p, 4) < (CASE WHEN anon THEN 0.6 ELSE 0.9 END)
                    THEN {_pick_weighted(_COUNTRIES, 42, "p")} END AS country,
                CASE WHEN NOT anon AND _la_u(40, p, 5) < 0.8
                    THEN {_pick_weighted(_LOYALTY_TIERS, 43, "p")} END AS loyalty_tier,
                CASE WHEN NOT anon AND _la_u(40, p, 6) < 0.85 THEN CAST(ltv AS VARCHAR)
                    END AS lifetime_value,
                CASE WHEN NOT anon AND _la_u(40, p, 7) < 0.75 AND ltv_num > 0
                    THEN CAST(CAST(ltv_num / (1 + _la_n(45, p, 0, 20)) AS DECIMAL(12, 2))
                              AS VARCHAR) END AS avg_order_value,
                CASE WHEN NOT anon AND _la_u(40, p, 8) < 0.7 THEN
                    CASE WHEN ltv_num > 6000 OR _la_u(46, p, 0) < 0.02 THEN 'true' ELSE 'false' END
                END AS is_vip,
                CASE WHEN signup_us IS NOT NULL AND _la_u(40, p, 9) < 0.95
                    THEN strftime(make_timestamp(signup_us), '%Y-%m-%d') END AS signup_date,
                CASE WHEN _la_u(40, p, 10) < 0.9 THEN
                    CASE _la_n(47, p, 0, 3)
                        WHEN 0 THEN strftime(make_timestamp({last_seen}), '%Y-%m-%dT%H:%M:%SZ')
                        WHEN 1 THEN strftime(make_timestamp({last_seen}), '%Y-%m-%dT%H:%M:%S+00:00')
                        ELSE strftime(make_timestamp({last_seen}), '%Y-%m-%dT%H:%M:%S.%gZ') END
                END AS last_seen_at,
                CASE WHEN _la_u(40, p, 11) < 0.6
                    THEN {_pick_weighted(_PRODUCT_CATEGORIES, 52, "p")} END AS preferred_category
            FROM (
                SELECT *,
                    CASE WHEN _la_u(44, p, 1) < 0.08 THEN 0
                         ELSE CAST(12000 * {ltv} * {ltv} * {ltv} * {ltv} AS DECIMAL(12, 2))
                    END AS ltv,
                    CAST(ltv AS DOUBLE) AS ltv_num
                FROM _la_profile
                WHERE _la_u(39, p, 0) >= 0.02  -- a few profiles have no traits at all
            )
        )
        ON {", ".join(_TRAIT_NAMES)}
        INTO NAME name VALUE value
    )
)
"""


def _id_graph_sql() -> str:
    return """
INSERT INTO ps_materialize.id_graph
SELECT cid, cid FROM _la_profile
UNION ALL
SELECT unnest(merged_ids), cid FROM _la_profile WHERE len(merged_ids) > 0
"""


def _account_group_sql() -> list[str]:
    """Accounts (Segment groups) for B2B audiences: one per eight profiles. Six in ten
    profiles belong to one, one in twenty to a second; some accounts have no members, a few
    membership rows have no profile, and a few name accounts without a traits row."""
    groups = "greatest(1, _la_profiles() // 8)"
    plan = _pick_weighted(
        [("free", 40), ("team", 30), ("business", 20), ("enterprise", 10)], 702, "g"
    )
    industry = _pick_weighted(
        [("retail", 30), ("software", 25), ("finance", 20), ("health", 15), ("travel", 10)],
        703,
        "g",
    )
    return [
        f"""
INSERT INTO ps_materialize.account_traits
SELECT 'grp_' || _la_id(g, 70), 'Company ' || _la_id(g, 71), {plan},
    CAST(1 + _la_n(704, g, 0, 500) AS DOUBLE),
    CASE WHEN _la_u(705, g, 0) < 0.95 THEN {industry} END,
    _la_tz({_AS_OF_US} - _la_n(706, g, 0, {720 * _DAY_US}))
FROM (SELECT unnest(range({groups})) AS g)
""",
        f"""
INSERT INTO ps_materialize.account_users
SELECT 'grp_' || _la_id(_la_n(701, p, 0, {groups}), 70), cid
FROM _la_profile WHERE _la_u(700, p, 0) < 0.6
UNION ALL
SELECT 'grp_' || _la_id(_la_n(701, p, 1, {groups}), 70), cid
FROM _la_profile WHERE _la_u(700, p, 1) < 0.05
UNION ALL
SELECT 'grp_' || _la_id(_la_n(701, p, 2, {groups}), 70), NULL
FROM _la_profile WHERE _la_u(700, p, 2) < 0.01
UNION ALL
SELECT 'grp_orphan_' || _la_id(p, 72), cid
FROM _la_profile WHERE _la_u(700, p, 3) < 0.01
""",
    ]


def _merchant_category_sql() -> list[str]:
    rows = ", ".join(
        f"({_str(cid)}, {_str(name)}, {_str(mcc)}, {'TRUE' if travel else 'FALSE'})"
        for cid, name, mcc, travel, _, _ in _MERCHANT_CATEGORIES
    )
    return [f"INSERT INTO prod.merchant_category VALUES {rows}"]


def _merchant_count(profiles: int) -> int:
    return max(50, min(5000, int(5 * math.sqrt(profiles))))


def _product_count(profiles: int) -> int:
    return max(200, min(2000, int(2 * math.sqrt(profiles))))


def _merchant_sql(merchants: int) -> list[str]:
    weighted = [(str(i), weight) for i, (*_, weight, _) in enumerate(_MERCHANT_CATEGORIES)]
    ids = _list([c[0] for c in _MERCHANT_CATEGORIES])
    suffixes = "[" + ", ".join(_list(c[5]) for c in _MERCHANT_CATEGORIES) + "]"
    return [
        f"""
CREATE OR REPLACE TEMP TABLE _la_merchant AS
SELECT i, printf('mer_%05d', i + 1) AS id,
    {_pick(_MERCHANT_WORDS, 61, "i")} || ' ' || {_pick(_MERCHANT_WORDS, 62, "i")} || ' '
        || list_extract({suffixes}[1 + ci], 1 + _la_n(63, i, 0, len({suffixes}[1 + ci])))
        AS name,
    {ids}[1 + ci] AS category_id,
    {_pick_weighted(_COUNTRIES, 64, "i")} AS country
FROM (SELECT range AS i, CAST({_pick_weighted(weighted, 60, "range")} AS BIGINT) AS ci
      FROM range({merchants}))
""",
        "INSERT INTO prod.merchant SELECT id, name, category_id, country FROM _la_merchant",
    ]


def _product_sql(products: int) -> list[str]:
    return [
        f"""
CREATE OR REPLACE TEMP TABLE _la_product AS
SELECT range AS i, printf('SKU-%05d', range + 1) AS sku,
    {_pick(_PRODUCT_ADJECTIVES, 70, "range")} || ' ' || {_pick(_PRODUCT_NOUNS, 71, "range")}
        AS name,
    {_pick_weighted(_PRODUCT_CATEGORIES, 72, "range")} AS category,
    _la_money(4.99 + 495 * _la_u(73, range, 0) * _la_u(73, range, 0)) AS price
FROM range({products})
""",
        "INSERT INTO prod.product SELECT sku, name, category, price FROM _la_product",
    ]


def _account_sql() -> list[str]:
    n_acc = _pick_int([(0, 10), (1, 65), (2, 20), (3, 5)], 80, "p")
    orphans = "greatest(3, _la_profiles() // 500)"
    plan = "_la_n(84, acc_no, 0, 100)"
    return [
        f"""
CREATE OR REPLACE TEMP TABLE _la_account AS
SELECT acc_no, 'acc_' || _la_id(acc_no, 31) AS id, email
FROM (
    SELECT p * 4 + k AS acc_no,
        CASE WHEN k > 0 AND email2 IS NOT NULL AND _la_u(81, p, k) < 0.5 THEN email2
             ELSE email1 END AS email
    FROM (SELECT p, email1, email2, unnest(range({n_acc})) AS k
          FROM _la_profile WHERE email1 IS NOT NULL)
    UNION ALL  -- accounts whose e-mail belongs to no profile
    SELECT (_la_profiles() + range) * 4, 'closed.' || _la_id(range, 32) || '@example.net'
    FROM range({orphans})
)
""",
        f"""
INSERT INTO prod.account
SELECT id, email,
    CASE WHEN {plan} < 45 THEN 'basic' WHEN {plan} < 75 THEN 'plus'
         WHEN {plan} < 90 THEN 'premium' ELSE 'business' END,
    {_pick_weighted([("active", 85), ("dormant", 7), ("closed", 8)], 85, "acc_no")},
    CASE WHEN _la_u(86, acc_no, 0) >= 0.01 THEN _la_money(
        -300 + 25000 * _la_u(86, acc_no, 1) * _la_u(86, acc_no, 1) * _la_u(86, acc_no, 2)) END,
    CASE WHEN {plan} < 45 THEN 0 WHEN {plan} < 75 THEN 500
         WHEN {plan} < 90 THEN 2500 ELSE 1000 END,
    _la_tz({_ago(3650, 87, "acc_no", "0")}),
    CASE WHEN _la_u(88, acc_no, 0) >= 0.02
        THEN {_pick_weighted([("NA", 50), ("EMEA", 30), ("APAC", 15), ("LATAM", 5)], 89, "acc_no")}
    END
FROM _la_account
""",
    ]


def _card_sql() -> list[str]:
    n_cards = _pick_int([(0, 20), (1, 45), (2, 25), (3, 10)], 90, "acc_no")
    kind = "_la_n(92, card_no, 0, 100)"
    limit = f"""CASE WHEN {kind} < 15 THEN 10000 + 100 * _la_n(93, card_no, 0, 401)
        WHEN {kind} < 45 THEN 5000 + 100 * _la_n(93, card_no, 0, 151)
        ELSE 500 + 100 * _la_n(93, card_no, 0, 46) END"""
    status = _pick_weighted([("active", 80), ("frozen", 7), ("closed", 13)], 94, "card_no")
    return [
        f"""
CREATE OR REPLACE TEMP TABLE _la_card AS
SELECT card_no, 'card_' || _la_id(card_no, 41) AS id, account_id, card_type,
    credit_limit, status
FROM (
    SELECT card_no, account_id,
        CASE WHEN {kind} < 15 THEN 'premium' WHEN {kind} < 45 THEN 'gold' ELSE 'standard' END
            AS card_type,
        CAST({limit} AS DOUBLE) AS credit_limit,
        {status} AS status
    FROM (
        SELECT acc_no * 4 + k AS card_no, id AS account_id
        FROM (SELECT acc_no, id, unnest(range({n_cards})) AS k FROM _la_account)
    )
)
""",
        f"""
INSERT INTO prod.credit_card
SELECT id, account_id, card_type, credit_limit,
    CASE WHEN status = 'closed' THEN 0
         -- about 4% of open cards are maxed out (at or just over the limit)
         WHEN _la_u(97, card_no, 0) < 0.04
              THEN _la_money(credit_limit * (1 + 0.05 * _la_u(97, card_no, 1)))
         ELSE _la_money(credit_limit * _la_u(95, card_no, 0) * _la_u(95, card_no, 1)) END,
    status,
    {_AS_OF_DATE} + CAST(_la_n(96, card_no, 0, 6 * 365) - 365 AS INTEGER)
FROM _la_card
""",
    ]


def _transaction_sql(merchants: int) -> list[str]:
    u = "_la_u(100, card_no, 0)"
    m = "_la_u(102, t.txn_no, 0)"
    amount = "_la_u(103, txn_no, 0)"
    return [
        f"""
INSERT INTO prod.card_transaction
SELECT 'txn_' || _la_id(t.txn_no, 51),
    t.card_id,
    m.id,
    CASE WHEN _la_u(104, txn_no, 0) >= 0.004
        THEN _la_money(1.5 + 900 * {amount} * {amount} * {amount}) END,
    {_pick_weighted(_CURRENCIES, 105, "txn_no")},
    {_pick_weighted([("settled", 85), ("pending", 10), ("declined", 5)], 106, "txn_no")},
    _la_tz({_ago(365, 107, "txn_no", "0")})
FROM (
    SELECT card_no * 8 + k AS txn_no, id AS card_id
    FROM (SELECT card_no, id, unnest(range(CAST(floor(9 * {u} * sqrt({u})) AS BIGINT))) AS k
          FROM _la_card)
) AS t
JOIN _la_merchant AS m ON m.i = CAST(floor({merchants} * {m} * sqrt({m})) AS BIGINT)
"""
    ]


def _cart_sql(products: int) -> list[str]:
    n_carts = _pick_int([(0, 35), (1, 35), (2, 20), (3, 10)], 110, "p")
    sku = "_la_u(113, c.item_no, 0)"
    status = _pick_weighted(
        [("open", 30), ("checked_out", 50), ("abandoned", 20)], 112, "c.cart_no"
    )
    return [
        f"""
CREATE OR REPLACE TEMP TABLE _la_cart AS
SELECT cart_no, 'cart_' || _la_id(cart_no, 61) AS id, user_id
FROM (SELECT p * 4 + k AS cart_no, user_id
      FROM (SELECT p, user_id, unnest(range({n_carts})) AS k
            FROM _la_profile WHERE user_id IS NOT NULL))
""",
        f"""
CREATE OR REPLACE TEMP TABLE _la_cart_item AS
SELECT c.item_no, c.cart_no, 'cp_' || _la_id(c.item_no, 62) AS id, c.cart_id,
    pr.sku AS product_sku, pr.price
FROM (SELECT cart_no * 8 + k AS item_no, cart_no, cart_id
      FROM (SELECT cart_no, id AS cart_id, unnest(range(1 + _la_n(111, cart_no, 0, 5))) AS k
            FROM _la_cart)) AS c
JOIN _la_product AS pr ON pr.i = CAST(floor({products} * {sku} * {sku}) AS BIGINT)
""",
        """
INSERT INTO prod.cart_product
SELECT id, cart_id, product_sku FROM _la_cart_item
""",
        f"""
INSERT INTO prod.cart
SELECT c.id, c.user_id, {status},
    CAST(t.total AS DOUBLE),
    _la_tz({_AS_OF_US} - CAST({120 * _DAY_US} * _la_u(114, c.cart_no, 0)
                                 * _la_u(114, c.cart_no, 0) AS BIGINT))
FROM _la_cart AS c
JOIN (SELECT cart_no, sum(CAST(price AS DECIMAL(18, 2))) AS total
      FROM _la_cart_item GROUP BY cart_no) AS t ON t.cart_no = c.cart_no
""",
    ]


def _cart_line_sql() -> list[str]:
    """Cart lines keyed by (cart, line number) — a composite key — and discounts keyed by
    (cart, line number, code), joined to their line on both columns: one line per cart
    item, one or two discounts with different codes on three lines in ten (their own
    random streams, so no other table changes)."""
    codes = _list(["WELCOME10", "BUNDLE", "VIP5"])
    return [
        """
INSERT INTO prod.cart_line
SELECT cart_id, item_no % 8 + 1, product_sku, 1 + _la_n(800, item_no, 0, 4), price
FROM _la_cart_item
""",
        f"""
INSERT INTO prod.cart_line_discount
SELECT cart_id, item_no % 8 + 1, {codes}[1 + (_la_n(802, item_no, 0, 3) + k) % 3],
    _la_money(1 + 20 * _la_u(803, item_no, k))
FROM (SELECT *, unnest(range(1 + _la_n(804, item_no, 0, 2))) AS k FROM _la_cart_item)
WHERE _la_u(801, item_no, 0) < 0.3
""",
    ]


def _event_spine(stream: int, table_no: int, count: str) -> str:
    """One row per (profile, k) for k < ``count`` (at most 32), with the common Segment event
    columns. Ids number (profile, k, table) so that they are unique across all event tables."""
    day_marks = "[" + ", ".join(str(d * _DAY_US) for d in _EVENT_DAY_MARKS) + "]"
    pick_mark = f"_la_n({stream + 7}, p, k, {len(_EVENT_DAY_MARKS)})"
    return f"""
SELECT p, k,
    'ajs-' || _la_id((p * 32 + k) * 4 + {table_no}, 9) AS id,
    CASE WHEN len(merged_ids) > 0 AND _la_u({stream + 1}, p, k) < 0.3
         THEN merged_ids[1 + _la_n({stream + 2}, p, k, len(merged_ids))]
         ELSE cid END AS segment_id,
    CASE WHEN user_id IS NOT NULL AND (len(anon_ids) = 0 OR _la_u({stream + 3}, p, k) < 0.75)
         THEN user_id END AS user_id,
    CASE WHEN len(anon_ids) > 0 THEN anon_ids[1 + _la_n({stream + 4}, p, k, len(anon_ids))]
         END AS anonymous_id,
    CASE WHEN _la_u({stream + 5}, p, k) < 0.0005 THEN NULL
         WHEN _la_u({stream + 6}, p, k) < 0.003 THEN {_AS_OF_US} - {day_marks}[1 + {pick_mark}]
         ELSE {_ago_recent(180, stream + 8, "p", "k")} END AS ts_us
FROM (SELECT *, unnest(range({count})) AS k FROM _la_profile WHERE {count} > 0)
"""


def _event_head(stream: int, event: str | None) -> str:
    lag = f"_la_n({stream + 9}, p, k, 4000000)"
    fallback = f"{_AS_OF_US} - _la_n({stream + 10}, p, k, {180 * _DAY_US})"
    return f"""e.id, e.segment_id, e.user_id, e.anonymous_id,
    _la_tz(e.ts_us),
    _la_tz(coalesce(e.ts_us, {fallback}) + 50000 + {lag}),
    {_str(event)}, {_str(event)}"""


def _pages_sql(products: int) -> list[str]:
    weighted = [(str(i), weight) for i, (_, _, weight) in enumerate(_PAGES)]
    names = _list([name for name, _, _ in _PAGES])
    paths = _list([path for _, path, _ in _PAGES])
    return [
        f"""
INSERT INTO segment.pages
SELECT {_event_head(200, None)},
    {names}[1 + pg], 'https://shop.example.com' || path, path,
    coalesce({names}[1 + pg] || ' | ', '') || 'Example Shop'
FROM (
    SELECT *,
        CASE WHEN pg = 1
             THEN {paths}[2] || '/' || printf('SKU-%05d', 1 + _la_n(220, p, k, {products}))
             ELSE {paths}[1 + pg] END AS path
    FROM (SELECT *, CAST({_pick_weighted(weighted, 221, "p", "k")} AS BIGINT) AS pg
          FROM ({_event_spine(200, 0, "n_pages")}))
) AS e
"""
    ]


def _product_viewed_sql(products: int) -> list[str]:
    u = "_la_u(320, e.p, e.k)"
    return [
        f"""
INSERT INTO segment.product_viewed
SELECT {_event_head(300, "Product Viewed")},
    pr.sku, pr.category, pr.price
FROM ({_event_spine(300, 1, "n_views")}) AS e
JOIN _la_product AS pr ON pr.i = CAST(floor({products} * {u} * {u}) AS BIGINT)
"""
    ]


def _order_completed_sql(products: int) -> list[str]:
    """Orders; seven in ten name one of the profile's carts (when it has that cart)."""
    u = "_la_u(420, e.p, e.k)"
    coupon = _pick_weighted(_COUPONS, 422, "e.p", "e.k")
    return [
        f"""
CREATE OR REPLACE TEMP TABLE _la_order AS
SELECT e.*, pr.sku, pr.price, c.id AS cart_id
FROM ({_event_spine(400, 2, "n_orders")}) AS e
JOIN _la_product AS pr ON pr.i = CAST(floor({products} * {u} * {u}) AS BIGINT)
LEFT JOIN _la_cart AS c
    ON c.cart_no = e.p * 4 + _la_n(425, e.p, e.k, 4) AND _la_u(426, e.p, e.k) < 0.7
""",
        f"""
INSERT INTO segment.order_completed
SELECT {_event_head(400, "Order Completed")},
    _la_money(e.price * (1 + _la_n(421, e.p, e.k, 3))), e.sku,
    {_pick_weighted(_CURRENCIES, 423, "e.p", "e.k")},
    CASE WHEN _la_u(424, e.p, e.k) < 0.2 THEN {coupon} END,
    e.cart_id
FROM _la_order AS e
""",
    ]


def _checkout_started_sql() -> list[str]:
    """Checkouts: one before each order that names a cart (2 minutes to 40 hours earlier, so
    some orders come more than a day later), and one for four in five carts that were never
    checked out (open or abandoned), a few minutes before the cart's last update."""
    hours_40 = 40 * 3600 * 1_000_000
    lag = f"(120000000 + CAST({hours_40} * _la_u(430, p, k) * _la_u(431, p, k) AS BIGINT))"
    return [
        f"""
INSERT INTO segment.checkout_started
SELECT 'ajs-chk-' || _la_id((p * 32 + k) * 4 + 2, 9), segment_id, user_id, anonymous_id,
    _la_tz(ts_us - {lag}), _la_tz(ts_us - {lag} + 60000),
    'Checkout Started', 'Checkout Started', cart_id, _la_money(price)
FROM _la_order
WHERE cart_id IS NOT NULL AND ts_us IS NOT NULL
""",
        """
INSERT INTO segment.checkout_started
SELECT 'ajs-chk-c' || _la_id(c.cart_no, 61), pf.cid, pf.user_id,
    CASE WHEN len(pf.anon_ids) > 0 THEN pf.anon_ids[1] END,
    ct.updated_at - to_microseconds(60000000 + _la_n(432, c.cart_no, 0, 1800000000)),
    ct.updated_at, 'Checkout Started', 'Checkout Started', ct.id, ct.total
FROM _la_cart AS c
JOIN prod.cart AS ct ON ct.id = c.id
JOIN _la_profile AS pf ON pf.p = c.cart_no // 4
WHERE ct.status IN ('open', 'abandoned') AND _la_u(433, c.cart_no, 0) < 0.8
""",
    ]


def _tracks_sql() -> list[str]:
    common = "id, segment_id, user_id, anonymous_id, timestamp, received_at, event, event_text"
    return [
        f"INSERT INTO segment.tracks SELECT {common} FROM segment.order_completed",
        f"INSERT INTO segment.tracks SELECT {common} FROM segment.product_viewed",
        """
INSERT INTO segment.tracks
SELECT 'ajs-' || _la_id(p * 128 + 3, 9), cid, user_id,
    CASE WHEN len(anon_ids) > 0 THEN anon_ids[1] END,
    _la_tz(signup_us), _la_tz(signup_us + 80000 + _la_n(501, p, 0, 2000000)),
    'Signed Up', 'Signed Up'
FROM _la_profile
WHERE signup_us IS NOT NULL AND _la_u(502, p, 0) < 0.98
""",
    ]


def _churn_scores_sql() -> list[str]:
    """A data-science team's table behind the graph's SQL trait: a churn score per app
    user_id (not per profile, so the trait's query maps it through the identifiers). Its
    own random streams (900+), so no other table's rows change."""
    return [
        "CREATE SCHEMA IF NOT EXISTS ml",
        "CREATE OR REPLACE TABLE ml.churn_scores "
        "(user_id VARCHAR, churn_score DOUBLE, scored_at TIMESTAMPTZ)",
        f"""
INSERT INTO ml.churn_scores
SELECT user_id, round(_la_u(900, p, 0), 3), _la_tz({_ago(7, 901, "p", "0")})
FROM _la_profile
WHERE user_id IS NOT NULL AND _la_u(902, p, 0) < 0.9
""",
    ]


# ---------------------------------------------------------------------------------------------
# Driver.


def _check_args(profiles: object, seed: object) -> tuple[int, int]:
    if isinstance(profiles, bool) or not isinstance(profiles, int):
        raise TypeError(f"profiles must be an int, not {type(profiles).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    if not 1 <= profiles <= _MAX_PROFILES:
        raise ValueError(f"profiles must be between 1 and {_MAX_PROFILES:,} (got {profiles})")
    if not _BIGINT_MIN <= seed <= _BIGINT_MAX:
        raise ValueError(f"seed must fit in a signed 64-bit integer (got {seed})")
    return int(profiles), int(seed)


def _build(
    con: duckdb.DuckDBPyConnection,
    profiles: int,
    seed: int,
    progress: Callable[[str], None] | None,
) -> dict[str, int]:
    merchants = _merchant_count(profiles)
    products = _product_count(profiles)

    def run(statements: Sequence[str]) -> None:
        for statement in statements:
            con.execute(statement)

    def step(label: str, statements: Sequence[str]) -> None:
        started = time.perf_counter()
        run(statements)
        row = con.execute(f"SELECT count(*) FROM {label.split(' ')[0]}").fetchone()
        rows = int(row[0]) if row is not None else 0
        if label in _TABLES:
            counts[label] = rows
        if progress is not None:
            progress(f"{label}: {rows:,} rows in {time.perf_counter() - started:.1f} s")

    counts: dict[str, int] = {}
    for schema in ("ps_materialize", "prod", "segment"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table, columns in _TABLES.items():
        body = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        con.execute(f"CREATE OR REPLACE TABLE {table} ({body})")

    cart = _cart_sql(products)
    run(_macros(seed, profiles))
    steps: list[tuple[str, Sequence[str]]] = [
        ("_la_profile (temporary)", _profile_sql()),
        ("ps_materialize.user_identifiers", [_identifiers_sql()]),
        ("ps_materialize.user_traits", [_traits_sql()]),
        ("ps_materialize.id_graph", [_id_graph_sql()]),
        ("ps_materialize.account_traits", _account_group_sql()[:1]),
        ("ps_materialize.account_users", _account_group_sql()[1:]),
        ("prod.merchant_category", _merchant_category_sql()),
        ("prod.merchant", _merchant_sql(merchants)),
        ("prod.product", _product_sql(products)),
        ("prod.account", _account_sql()),
        ("prod.credit_card", _card_sql()),
        ("prod.card_transaction", _transaction_sql(merchants)),
        ("prod.cart_product", cart[:3]),
        ("prod.cart", cart[3:]),
        ("prod.cart_line", _cart_line_sql()[:1]),
        ("prod.cart_line_discount", _cart_line_sql()[1:]),
        ("segment.pages", _pages_sql(products)),
        ("segment.product_viewed", _product_viewed_sql(products)),
        ("segment.order_completed", _order_completed_sql(products)),
        ("segment.checkout_started", _checkout_started_sql()),
        ("segment.tracks", _tracks_sql()),
        ("ml.churn_scores", _churn_scores_sql()),
    ]
    try:
        for label, statements in steps:
            step(label, statements)
    finally:  # leave a caller's connection as it was, apart from the demo tables
        for name in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
        for name in _MACRO_NAMES:
            con.execute(f"DROP MACRO IF EXISTS temp.main.{name}")
    return {table: counts[table] for table in _REPORT_ORDER}


def build_demo_warehouse(
    path: str | os.PathLike[str] | None,
    *,
    profiles: int = 10_000,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, int]:
    """Write the demo warehouse and return ``{"schema.table": row_count}``.

    Give either ``path`` (a DuckDB file, replaced if it exists; it appears only once the build
    has succeeded) or ``connection=`` (an open DuckDB connection to build into; existing demo
    tables there are replaced). ``progress`` receives one line per table, e.g.
    ``"ps_materialize.user_traits: 6,000,000 rows in 2.1 s"``. The same ``profiles`` and
    ``seed`` always give the same table contents.
    """
    profiles, seed = _check_args(profiles, seed)
    if (path is None) == (connection is None):
        raise ValueError("give exactly one of path or connection=")
    if connection is not None:
        return _build(connection, profiles, seed, progress)

    assert path is not None
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"no such folder: {target.parent}")
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    for leftover in (partial, Path(f"{partial}.wal")):
        leftover.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(partial))
        try:
            _quiet(con)
            counts = _build(con, profiles, seed, progress)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        # A stale write-ahead log next to the old file would be replayed into the new one.
        Path(f"{target}.wal").unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        for leftover in (partial, Path(f"{partial}.wal")):
            leftover.unlink(missing_ok=True)
    return counts


# ---------------------------------------------------------------------------------------------
# Command line.


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if not 1 <= value <= _MAX_PROFILES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {_MAX_PROFILES:,} (got {value})")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if not _BIGINT_MIN <= value <= _BIGINT_MAX:
        raise argparse.ArgumentTypeError(f"must fit in a signed 64-bit integer (got {value})")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m linked_audiences.examples.generator",
        description="Build the Segment-layout demo warehouse (a DuckDB file) that "
        "examples/graph.yaml describes.",
    )
    parser.add_argument(
        "--profiles", type=_positive_int, default=10_000, help="number of profiles (10000)"
    )
    parser.add_argument("--seed", type=_seed, default=42, help="seed of all values (42)")
    parser.add_argument(
        "--out", default="demo.duckdb", help="DuckDB file to write, replaced if it exists"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the process exit code."""
    args = _parser().parse_args(argv)

    def report(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    try:
        counts = build_demo_warehouse(
            args.out,
            profiles=args.profiles,
            seed=args.seed,
            progress=None if args.quiet else report,
        )
    except (OSError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    width = max(len(table) for table in counts)
    print(f"{'table':<{width}}  {'rows':>12}")
    for table, rows in counts.items():
        print(f"{table:<{width}}  {rows:>12,}")
    print(f"{'total':<{width}}  {sum(counts.values()):>12,}")
    size = Path(args.out).stat().st_size / 1_000_000
    print(f"wrote {args.out} ({size:,.1f} MB) in {elapsed:.1f} s")
    return 0


def _quiet(con: duckdb.DuckDBPyConnection) -> None:
    """No DuckDB progress bar (progress goes to ``progress``). Inside Jupyter without
    ipywidgets DuckDB refuses the setting itself; the bar is then not shown anyway."""
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")


if __name__ == "__main__":
    raise SystemExit(main())
