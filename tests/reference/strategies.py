"""Hypothesis strategies: random data graphs, warehouse data and audiences for the oracle.

:func:`scenarios` draws a :class:`Scenario`: a valid data graph, small tables for every table
it names (with their column types, for :mod:`tests.reference.duckdb_loader`), one audience
and the extra audiences its ``audience`` nodes may name, and an ``as_of``. Everything is
built valid by construction (no heavy ``filter``) and checked with ``validate_audience``.

What the data is made to contain, because that is where SQL and SPEC part ways:

* hostile names (quotes, spaces, unicode, mixed case, keywords) for tables, columns and
  traits, and hostile string values (``'``, ``\\``, ``%``, ``_``, ``;``, SQL injection, unicode,
  empty string);
* NULLs in almost every column (primary keys included: such rows relate to nothing);
* entities shared between profiles (one email on two profiles, one child under two parents,
  repeated junction links);
* timestamps exactly on window and day-operator boundaries (``as_of − N days``, ``as_of``,
  one microsecond either side) and after ``as_of``; duplicate event rows; event rows of other
  events in a shared table; unmapped ``segment_id``\\ s;
* long-layout trait texts that do not cast (``abc`` for a number, ``t`` for a boolean, …) and
  several rows for one (profile, trait);
* ISO-8601 text in string columns, only as ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS``,
  ``YYYY-MM-DDTHH:MM:SSZ`` or ``YYYY-MM-DDTHH:MM:SS+HH:MM``, next to text that is clearly no
  date, so that SQL and Python agree on what parses.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from linked_audiences import Audience, DataGraph, validate_audience
from linked_audiences.graph import RelationshipPath
from linked_audiences.validation import OPERATOR_TYPES, REFERENCE_OPERATORS
from tests.reference.classic_strategies import ClassicNodes, add_follow_ups, adopt_rows
from tests.reference.evaluator import UNIVERSE_TYPES, Tables, cast_long_text

UTC = timezone.utc
DATA_TYPES = ("string", "number", "boolean", "date", "time", "timestamp")
#: Column and trait types as drawn: strings have the most operators, so they come up more.
DRAWN_TYPES = ("string", *DATA_TYPES)
Draw = Callable[[st.SearchStrategy[Any]], Any]


@dataclass(frozen=True)
class Scenario:
    """One generated case: a graph, its data, an audience (and the audiences it may name)."""

    graph: DataGraph
    tables: Tables
    column_types: dict[str, dict[str, str]]
    audience: Audience
    audiences: tuple[Audience, ...]
    as_of: datetime


# --------------------------------------------------------------------------------------------
# Value pools
# --------------------------------------------------------------------------------------------

#: Instants every scenario is evaluated at (UTC, microsecond 0): midday, midnight just after
#: a leap day, one second before a new year.
AS_OFS = (
    datetime(2024, 3, 10, 12, 0, 0, tzinfo=UTC),
    datetime(2024, 3, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
)

#: String values: SQL metacharacters, LIKE wildcards, escapes, quotes, unicode, empty, case.
STRINGS = (
    "",
    "a",
    "A",
    "abc",
    "Abc",
    "b%c",
    "a_c",
    "back\\slash",
    "x' OR '1'='1",
    ";",
    "O'Brien",
    'say "hi"',
    "Zoë",
    "李",
)
#: Extra strings that conditions use, so substring operators hit parts of the values above.
PROBE_STRINGS = ("b", "c", "%", "_", "\\", "'", "Z", "ab")
#: Values of a trait that links to an entity, and of that entity's join column.
LINK_STRINGS = STRINGS[:6]
#: Identifier values, shared by identifiers rows and entity join columns.
IDENT_VALUES = ("a@x.io", "b@x.io", "A@x.io", "it's@x.io", "u1", "u2", "")
NUMBERS = (0, 1, -1, 2.5, 10, -3.5, 100, 0.1)
TIMES = (time(0, 0), time(9, 30), time(12, 0), time(23, 59, 59))
DATA_TIMES = (*TIMES, time(12, 0, 0, 500_000))
GARBAGE_DATE_TEXT = ("not a date", "abc", "2024-13-45", "", "yesterday")

IDENTIFIER_TYPES = ("user_id", "email", "android.idfa", "ios.idfa", "anonymous_id", "phone")

#: Long-layout texts per type that do NOT cast (docs/semantics.md "Long-layout casts").
LONG_GARBAGE = {
    "number": ("abc", "", "1,5", "nan", "12abc"),
    "boolean": ("yes", "1", "t", ""),
    "date": ("2024-02-30", "abc", "2024-01-01T10:00:00"),
    "time": ("25:00:00", "abc"),
    "timestamp": GARBAGE_DATE_TEXT,
    "string": (),
}
LONG_NUMBER_TEXT = ("12", "-3.5", "1e3", "0", "10", "2.5", "100")
LONG_BOOLEAN_TEXT = ("true", "TRUE", "False", "false")

# Name parts. Table and column names never hold a dot (a table name is split on dots); join
# columns also hold no whitespace and no '=' (``join_on`` syntax, SPEC §2).
PLAIN_WORDS = ("account", "card", "txn", "merchant", "cart", "product", "order", "tier")
HOSTILE_WORDS = (
    'Order "Items"',
    "with space",
    "Ünïcödé",
    "MixedCase",
    "semi;colon",
    "it's",
    "select",
    "100%",
    "back\\slash",
)
HOSTILE_JOIN_WORDS = ('Key"Q', "it's", "ïd", "MixedKey", "select", "100%")
HOSTILE_SLUG_WORDS = ("User-Accounts", "CARDS", "x_Y-z")
EVENT_NAMES = ("Order Completed", "Page Viewed", "Screen Viewed", 'Bob\'s "Event" 🎉')


def _iso_text(instant: datetime, form: int) -> str:
    """``instant`` as one of the four ISO-8601 text forms strings may hold."""
    instant = instant.astimezone(UTC)
    if form == 0:
        return instant.date().isoformat()
    if form == 1:
        return instant.strftime("%Y-%m-%dT%H:%M:%S")
    if form == 2:
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    offset = (
        timezone(timedelta(hours=2)) if form == 3 else timezone(-timedelta(hours=5, minutes=30))
    )
    return instant.astimezone(offset).isoformat(timespec="seconds")


@dataclass
class _Pools:
    """Values of every type for one ``as_of``, shared by data and conditions so they meet."""

    as_of: datetime
    days: tuple[int, ...]
    instants: list[datetime] = field(default_factory=list)
    event_instants: list[datetime] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)

    def __post_init__(self) -> None:
        points = {self.as_of, self.as_of - timedelta(days=400)}
        for d in self.days:
            for sign in (-1, 1):
                base = self.as_of + sign * timedelta(days=d)
                points.update(
                    {base - timedelta(microseconds=1), base, base + timedelta(microseconds=1)}
                )
        self.instants = sorted(points)
        # Event times: the past boundaries of every window and day count, as_of itself, just
        # after it, and far back. Few points, so rows often sit exactly on a boundary.
        past = {self.as_of + timedelta(days=1), self.as_of - timedelta(days=400)}
        for d in self.days:
            base = self.as_of - timedelta(days=d)
            past.update({base - timedelta(microseconds=1), base, base + timedelta(microseconds=1)})
        self.event_instants = sorted(past)
        today = self.as_of.date()
        self.dates = sorted(
            {
                today + timedelta(days=s * (d + e))
                for d in self.days
                for s in (-1, 1)
                for e in (0, 1)
            }
        )

    def iso_texts(self) -> st.SearchStrategy[str]:
        """ISO text in one of the four allowed forms, at one of the boundary instants."""
        return st.builds(_iso_text, st.sampled_from(self.instants), st.integers(0, 4))

    def data_value(self, dtype: str, null: bool = True) -> st.SearchStrategy[Any]:
        """A stored value of ``dtype`` (NULL allowed unless ``null`` is false)."""
        base: st.SearchStrategy[Any]
        if dtype == "string":
            base = st.one_of(
                st.sampled_from(STRINGS), self.iso_texts(), st.sampled_from(GARBAGE_DATE_TEXT)
            )
        elif dtype == "number":
            base = st.sampled_from(NUMBERS)
        elif dtype == "boolean":
            base = st.booleans()
        elif dtype == "date":
            base = st.sampled_from(self.dates)
        elif dtype == "time":
            base = st.sampled_from(DATA_TIMES)
        else:
            base = st.sampled_from(self.instants)
        return st.one_of(st.none(), base) if null else base

    def long_text(self, dtype: str) -> st.SearchStrategy[str]:
        """A long-layout trait text for ``dtype``: a castable text or one that is not."""
        good: st.SearchStrategy[str]
        if dtype == "string":
            good = st.sampled_from(STRINGS)
        elif dtype == "number":
            good = st.sampled_from(LONG_NUMBER_TEXT)
        elif dtype == "boolean":
            good = st.sampled_from(LONG_BOOLEAN_TEXT)
        elif dtype == "date":
            good = st.sampled_from([d.isoformat() for d in self.dates])
        elif dtype == "time":
            good = st.sampled_from([t.isoformat() for t in TIMES])
        else:
            good = self.iso_texts()
        garbage = LONG_GARBAGE[dtype]
        return st.one_of(good, st.sampled_from(garbage)) if garbage else good

    def literal(self, dtype: str) -> st.SearchStrategy[Any]:
        """A definition literal of ``dtype`` (dates, times and timestamps as ISO text)."""
        if dtype == "string":
            return st.one_of(
                st.sampled_from(STRINGS + PROBE_STRINGS),
                st.sampled_from(IDENT_VALUES),
                self.iso_texts(),
            )
        if dtype == "number":
            return st.sampled_from(NUMBERS)
        if dtype == "boolean":
            return st.booleans()
        if dtype == "date":
            return st.sampled_from([d.isoformat() for d in self.dates])
        if dtype == "time":
            return st.sampled_from([t.isoformat() for t in TIMES])
        return self.iso_texts()


# --------------------------------------------------------------------------------------------
# Graph plan
# --------------------------------------------------------------------------------------------


class _Names:
    """Fresh names; a numeric suffix keeps them unique even case-insensitively (DuckDB
    matches quoted identifiers case-insensitively)."""

    def __init__(self, draw: Draw, hostile: bool) -> None:
        self.draw, self.hostile = draw, hostile
        self.counter = itertools.count()

    def _pick(self, plain: tuple[str, ...], hostile: tuple[str, ...]) -> str:
        if self.hostile and self.draw(st.booleans()):
            return str(self.draw(st.sampled_from(hostile)))
        return str(self.draw(st.sampled_from(plain)))

    def name(self, plain: tuple[str, ...] = PLAIN_WORDS) -> str:
        """A table, column or trait name (may hold quotes, spaces, unicode)."""
        return f"{self._pick(plain, HOSTILE_WORDS)}_{next(self.counter)}"

    def join_column(self) -> str:
        """A column used in ``join_on`` / junctions: no whitespace, '=' or '.'."""
        return f"{self._pick(('id', 'key', 'ref'), HOSTILE_JOIN_WORDS)}_{next(self.counter)}"

    def slug(self) -> str:
        """An entity or relationship slug: letters, digits, '-' and '_'."""
        return f"{self._pick(('e', 'rel', 'link'), HOSTILE_SLUG_WORDS)}_{next(self.counter)}"

    def table(self) -> str:
        """``schema.table`` or ``table``."""
        table = self.name()
        if _chance(self.draw, 25):
            return table
        return (
            f"{self._pick(('prod', 'segment', 'ps'), HOSTILE_WORDS)}_{next(self.counter)}.{table}"
        )


@dataclass
class _EntityPlan:
    slug: str
    table: str
    pk: str
    columns: dict[str, str]  # every physical column → type
    declared: dict[str, str]  # the graph's ``columns``
    #: join column → the (entity, column) whose values it copies (always a primary key)
    copies: dict[str, tuple[_EntityPlan, str]] = field(default_factory=dict)
    #: a top-level join column: "ident:<identifier type>" or "trait" (values from that pool)
    pools: dict[str, str] = field(default_factory=dict)
    max_rows: int = 8


@dataclass
class _JunctionPlan:
    table: str
    pk: str
    left: str
    right: str
    parent: _EntityPlan
    child: _EntityPlan


@dataclass
class _EventPlan:
    name: str
    table: str
    owner_column: str
    via_segment_id: bool
    timestamp: str
    event_column: str | None
    properties: dict[str, Any]  # the graph's ``properties``
    columns: dict[str, str]  # every physical column → type


def _entity(draw: Draw, names: _Names, max_rows: int) -> _EntityPlan:
    """An entity with a string primary key and 1–3 filter columns of mixed types."""
    pk = names.join_column()
    columns = {pk: "string"}
    declared: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 3))):
        column = names.name()
        dtype = draw(st.sampled_from(DRAWN_TYPES))
        columns[column] = declared[column] = dtype
    if draw(st.booleans()):
        declared[pk] = "string"
    return _EntityPlan(names.slug(), names.table(), pk, columns, declared, max_rows=max_rows)


def _add_join_column(draw: Draw, names: _Names, holder: _EntityPlan, source: _EntityPlan) -> str:
    """A column of ``holder`` whose values copy ``source``'s primary key (sometimes declared,
    so conditions may filter on it)."""
    column = names.join_column()
    holder.columns[column] = "string"
    holder.copies[column] = (source, source.pk)
    if _chance(draw, 33):
        holder.declared[column] = "string"
    return column


@dataclass
class _GraphPlan:
    as_of: datetime
    pools: _Pools
    profile_key: str
    layout: str
    traits: dict[str, str]
    traits_table: str
    identifiers_table: str
    id_graph_table: str | None
    link_types: set[str]
    entities: list[_EntityPlan]
    junctions: list[_JunctionPlan]
    events: list[_EventPlan]
    graph_json: dict[str, Any]
    hostile: bool
    link_trait: str | None


@st.composite
def _graph_plans(draw: Draw) -> _GraphPlan:
    """A data graph (SPEC §2) with the plan needed to fill its tables."""
    names = _Names(draw, hostile=draw(st.booleans()))
    as_of = draw(st.sampled_from(AS_OFS))
    days = tuple(sorted({0} | draw(st.sets(st.sampled_from((1, 2, 3, 7)), min_size=1, max_size=2))))
    pools = _Pools(as_of, days)

    # Profile: traits of mixed types; a trait link needs a string trait.
    trait_link = _chance(draw, 33)
    traits: dict[str, str] = {}
    for i in range(draw(st.integers(2, 4))):
        dtype = "string" if i == 0 and trait_link else draw(st.sampled_from(DRAWN_TYPES))
        traits[names.name(("tier", "ltv", "vip", "signup", "seen"))] = dtype
    profile_key = "canonical_segment_id" if draw(st.booleans()) else names.join_column()
    layout = draw(st.sampled_from(("wide", "long")))
    traits_table, identifiers_table = names.table(), names.table()

    # Entities: a chain (sometimes five relationships deep), sometimes a junction.
    depth = draw(st.sampled_from((1, 1, 2, 2, 3, 3, 5)))
    max_rows = 4 if depth > 3 else 8
    chain = [_entity(draw, names, max_rows) for _ in range(depth)]
    junctions: list[_JunctionPlan] = []
    link_types: set[str] = set()

    link_trait: list[str] = []

    def top_link(entity: _EntityPlan, by_trait: bool) -> dict[str, Any]:
        column = names.join_column()
        entity.columns[column] = "string"
        if by_trait:
            trait = next(t for t, ty in traits.items() if ty == "string")
            link_trait.append(trait)
            entity.pools[column] = "trait"
            return {"trait": {"name": trait, "join_key": column}}
        id_type = draw(st.sampled_from(("email", "user_id", "crm_id")))
        link_types.add(id_type)
        entity.pools[column] = f"ident:{id_type}"
        return {"external_id": {"type": id_type, "join_key": column}}

    rels: list[dict[str, Any]] = []
    top = {"slug": names.slug(), "related_entity": chain[0].slug, **top_link(chain[0], trait_link)}
    rels.append(top)
    parent_rel, parent = top, chain[0]
    for child in chain[1:]:
        rel: dict[str, Any] = {"slug": names.slug(), "related_entity": child.slug}
        if _chance(draw, 25):
            junction = _JunctionPlan(
                names.table(),
                names.join_column(),
                names.join_column(),
                names.join_column(),
                parent,
                child,
            )
            junctions.append(junction)
            rel["junction_table"] = {
                "table": junction.table,
                "primary_key": junction.pk,
                "left_join_on": f"{parent.slug}.{parent.pk} = {junction.left}",
                "right_join_on": f"{junction.right} = {child.slug}.{child.pk}",
            }
        else:
            if draw(st.booleans()):  # one-to-many: child.fk = parent.pk
                pair = (
                    f"{parent.slug}.{parent.pk}",
                    f"{child.slug}.{_add_join_column(draw, names, child, parent)}",
                )
            else:  # many-to-one: parent.fk = child.pk (one child under several parents)
                pair = (
                    f"{parent.slug}.{_add_join_column(draw, names, parent, child)}",
                    f"{child.slug}.{child.pk}",
                )
            left, right = pair if draw(st.booleans()) else pair[::-1]
            rel["join_on"] = f"{left} = {right}"
        parent_rel.setdefault("relationships", []).append(rel)
        parent_rel, parent = rel, child
    if _chance(draw, 33):
        # The same entity reached by a second top-level relationship, linked the other way
        # when a string trait exists.
        other_by_trait = not trait_link and "string" in traits.values()
        rels.append(
            {
                "slug": names.slug(),
                "related_entity": chain[0].slug,
                **top_link(chain[0], other_by_trait),
            }
        )

    # Events: one or two; sometimes via segment_id, sometimes in one shared table.
    n_events = draw(st.integers(1, 2))
    event_names = draw(
        st.lists(st.sampled_from(EVENT_NAMES), min_size=n_events, max_size=n_events, unique=True)
    )
    shared = n_events == 2 and draw(st.booleans())
    id_graph_table = None
    events: list[_EventPlan] = []
    shared_plan: _EventPlan | None = None
    for name in event_names:
        if shared_plan is not None:
            plan = _EventPlan(
                name,
                shared_plan.table,
                shared_plan.owner_column,
                shared_plan.via_segment_id,
                shared_plan.timestamp,
                shared_plan.event_column,
                {},
                shared_plan.columns,
            )
        else:
            via_segment = _chance(draw, 33)
            owner = (
                names.join_column()
                if names.hostile
                else ("segment_id" if via_segment else "user_key")
            )
            timestamp = "timestamp" if draw(st.booleans()) else names.name(("ts", "sent_at"))
            event_column = "event" if shared or _chance(draw, 25) else None
            columns = {owner: "string", timestamp: "timestamp"}
            if event_column:
                columns[event_column] = "string"
            plan = _EventPlan(
                name, names.table(), owner, via_segment, timestamp, event_column, {}, columns
            )
            if shared:
                shared_plan = plan
        if name in ("Page Viewed", "Screen Viewed"):
            plan.columns["name"] = "string"
        for _ in range(draw(st.integers(0, 3))):
            prop = names.name(("price", "product_id", "coupon", "qty"))
            dtype = draw(st.sampled_from(DRAWN_TYPES))
            if _chance(draw, 25):
                column = names.name(("col",))
                plan.properties[prop] = {"type": dtype, "column": column}
            else:
                column = prop
                plan.properties[prop] = dtype
            plan.columns[column] = dtype
        if plan.via_segment_id and id_graph_table is None:
            id_graph_table = names.table()
        events.append(plan)

    profile_json: dict[str, Any] = {
        "traits_table": traits_table,
        "identifiers_table": identifiers_table,
        "traits": traits,
        "traits_layout": layout,
    }
    if profile_key != "canonical_segment_id" or draw(st.booleans()):
        profile_json["key"] = profile_key
    if layout == "wide" and draw(st.booleans()):
        del profile_json["traits_layout"]
    if id_graph_table is not None:
        profile_json["id_graph_table"] = id_graph_table
    entities = chain
    graph_json = {
        "profile": profile_json,
        "entities": [
            {"slug": e.slug, "table": e.table, "primary_key": e.pk, "columns": e.declared}
            for e in entities
        ],
        "relationships": rels,
        "events": [_event_json(e) for e in events],
    }
    return _GraphPlan(
        as_of=as_of,
        pools=pools,
        profile_key=profile_key,
        layout=layout,
        traits=traits,
        traits_table=traits_table,
        identifiers_table=identifiers_table,
        id_graph_table=id_graph_table,
        link_types=link_types,
        entities=entities,
        junctions=junctions,
        events=events,
        graph_json=graph_json,
        hostile=names.hostile,
        link_trait=link_trait[0] if link_trait else None,
    )


def _event_json(plan: _EventPlan) -> dict[str, Any]:
    """The graph's JSON for one event source."""
    out: dict[str, Any] = {"name": plan.name, "table": plan.table}
    out["segment_id" if plan.via_segment_id else "profile_key"] = plan.owner_column
    if plan.timestamp != "timestamp":
        out["timestamp"] = plan.timestamp
    if plan.event_column is not None:
        out["event_column"] = plan.event_column
    if plan.properties:
        out["properties"] = plan.properties
    return out


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def _chance(draw: Draw, percent: int) -> bool:
    """True about ``percent`` times in a hundred (a wide range keeps hypothesis's preference
    for boundary values from skewing the odds)."""
    return bool(draw(st.integers(0, 99)) < percent)


def _maybe_null(draw: Draw, values: st.SearchStrategy[Any], p_null: int = 5) -> Any:
    """A value, NULL about one time in ``p_null``."""
    return None if _chance(draw, 100 // p_null) else draw(values)


def _keys_or_dangling(keys: list[str]) -> st.SearchStrategy[str]:
    """Mostly one of ``keys``; sometimes a key that matches nothing."""
    dangling = st.just("zz")
    if not keys:
        return dangling
    return st.integers(0, 99).flatmap(lambda i: dangling if i < 15 else st.sampled_from(keys))


def _profile_ids(draw: Draw, hostile: bool) -> list[str]:
    """1–8 distinct profile ids (text; sometimes with quotes, spaces or unicode)."""
    n = draw(st.integers(1, 8))
    forms = ("p{}", "p'{}", "P {}", "ü{}", "p{}\\") if hostile else ("p{}",)
    return [draw(st.sampled_from(forms)).format(i) for i in range(n)]


def _fill(
    draw: Draw, plan: _GraphPlan, classic: bool = False
) -> tuple[Tables, dict[str, dict[str, str]]]:
    """Rows for every table of the graph, and their column types. ``classic``: data for a
    funnel or an aggregate — someone is in the universe and owns event rows."""
    pools = plan.pools
    tables: Tables = {}
    types: dict[str, dict[str, str]] = {}
    profiles = _profile_ids(draw, plan.hostile)
    key = plan.profile_key
    someone = st.sampled_from([*profiles, "ghost"])

    # Identifiers: universe types, the link types (often), others; shared values; NULLs.
    id_types = st.sampled_from(
        sorted(IDENTIFIER_TYPES) + sorted(plan.link_types) * 3 + ["email", "user_id"]
    )
    identifiers = []
    for profile in profiles:
        types_of_profile = [draw(id_types) for _ in range(draw(st.integers(0, 2)))]
        if plan.link_types and draw(st.booleans()):
            types_of_profile.append(draw(st.sampled_from(sorted(plan.link_types))))
        for id_type in types_of_profile:
            identifiers.append(
                {
                    key: profile,
                    "type": id_type,
                    "value": _maybe_null(draw, st.sampled_from(IDENT_VALUES), 6),
                }
            )
    for _ in range(draw(st.integers(0, 2))):
        identifiers.append(
            {
                key: _maybe_null(draw, someone, 2),
                "type": draw(st.one_of(st.none(), id_types)),
                "value": _maybe_null(draw, st.sampled_from(IDENT_VALUES)),
            }
        )
    identifiers = identifiers[:12]
    if classic and not any(r["type"] in UNIVERSE_TYPES and r["value"] for r in identifiers):
        identifiers[-1:] = [{key: profiles[0], "type": "email", "value": "a@x.io"}]
    tables[plan.identifiers_table] = identifiers
    types[plan.identifiers_table] = {key: "string", "type": "string", "value": "string"}

    # Traits: wide (one row per profile) or long (texts, duplicates, garbage). The trait a
    # relationship links by takes the values its entity's join column takes, so links hit.
    def trait_value(trait: str, dtype: str) -> st.SearchStrategy[Any]:
        if trait == plan.link_trait:
            return st.one_of(st.none(), st.sampled_from(LINK_STRINGS))
        return pools.data_value(dtype)

    if plan.layout == "wide":
        owners = [p for p in [*profiles, "ghost"] if not _chance(draw, 25)]
        tables[plan.traits_table] = [
            {key: owner, **{t: draw(trait_value(t, ty)) for t, ty in plan.traits.items()}}
            for owner in owners
        ]
        types[plan.traits_table] = {key: "string", **plan.traits}
    else:
        rows = []
        if plan.link_trait is not None:
            for profile in profiles:
                if draw(st.booleans()):
                    value = _maybe_null(draw, st.sampled_from(LINK_STRINGS), 8)
                    rows.append({key: profile, "name": plan.link_trait, "value": value})
        trait_names = st.sampled_from(sorted(plan.traits))
        for _ in range(draw(st.integers(0, 10))):
            name = draw(st.one_of(trait_names, trait_names, st.sampled_from(["other", None])))
            dtype = plan.traits.get(name, "string") if name is not None else "string"
            rows.append(
                {
                    key: _maybe_null(draw, someone, 8),
                    "name": name,
                    "value": _maybe_null(
                        draw,
                        st.sampled_from(LINK_STRINGS)
                        if name == plan.link_trait
                        else pools.long_text(dtype),
                        8,
                    ),
                }
            )
        # several rows for one (profile, trait): the greatest text wins
        named = [r for r in rows if r[key] is not None and r["name"] in plan.traits]
        for _ in range(draw(st.integers(0, 3)) if named else 0):
            twin = draw(st.sampled_from(named))
            text = draw(pools.long_text(plan.traits[twin["name"]]))
            rows.insert(0, {key: twin[key], "name": twin["name"], "value": text})
        tables[plan.traits_table] = rows[:12]
        types[plan.traits_table] = {key: "string", "name": "string", "value": "string"}

    # Entities: primary keys first (unique, text), then every column. Top-level join columns
    # mostly take values the profiles have, so that links hit (and some that nobody has).
    def link_values(pool: str) -> st.SearchStrategy[Any]:
        if pool == "trait":
            assert plan.link_trait is not None
            present = [r.get(plan.link_trait) for r in tables[plan.traits_table]]
            if plan.layout == "long":
                present = [
                    r["value"] for r in tables[plan.traits_table] if r["name"] == plan.link_trait
                ]
        else:
            present = [r["value"] for r in tables[plan.identifiers_table] if r["type"] == pool[6:]]
        known = sorted({v for v in present if isinstance(v, str)})
        fallback = st.sampled_from(IDENT_VALUES if pool != "trait" else LINK_STRINGS)
        return st.one_of(st.sampled_from(known), fallback) if known else fallback

    pks: dict[str, list[str]] = {}
    for entity in plan.entities:
        n = 0 if _chance(draw, 12) else draw(st.integers(1, entity.max_rows))
        forms = ("id{}", "Id{}", "id'{}", "ï{}", "{}")
        pks[entity.slug] = [draw(st.sampled_from(forms)).format(i) for i in range(n)]
    for entity in plan.entities:
        rows = []
        keys: list[str | None] = list(pks[entity.slug])
        if _chance(draw, 25):
            keys.append(None)  # a NULL primary key relates to nothing
        for pk in keys:
            row: dict[str, Any] = {}
            for column, dtype in entity.columns.items():
                if column == entity.pk:
                    row[column] = pk
                elif column in entity.copies:
                    source, _ = entity.copies[column]
                    row[column] = _maybe_null(draw, _keys_or_dangling(pks[source.slug]), 5)
                elif column in entity.pools:
                    row[column] = _maybe_null(draw, link_values(entity.pools[column]), 6)
                else:
                    row[column] = draw(pools.data_value(dtype))
            rows.append(row)
        tables[entity.table] = rows
        types[entity.table] = dict(entity.columns)

    # Junctions: links between parent and child keys, repeated links, dangling ones.
    for junction in plan.junctions:
        left_keys = _keys_or_dangling(pks[junction.parent.slug])
        right_keys = _keys_or_dangling(pks[junction.child.slug])
        tables[junction.table] = [
            {
                junction.pk: f"j{i}",
                junction.left: _maybe_null(draw, left_keys, 6),
                junction.right: _maybe_null(draw, right_keys, 6),
            }
            for i in range(draw(st.integers(0, 8)))
        ]
        types[junction.table] = {
            junction.pk: "string",
            junction.left: "string",
            junction.right: "string",
        }

    # Id graph: unique segment ids, some unmapped (NULL canonical key), some unknown profiles.
    segment_ids = [f"s{i}" for i in range(draw(st.integers(1, 6)))]
    if plan.id_graph_table is not None:
        tables[plan.id_graph_table] = [
            {"segment_id": s, key: _maybe_null(draw, someone, 6)} for s in segment_ids
        ]
        types[plan.id_graph_table] = {"segment_id": "string", key: "string"}

    # Events: boundary timestamps, NULLs, other events of a shared table, duplicates.
    by_table: dict[str, list[_EventPlan]] = {}
    for event in plan.events:
        by_table.setdefault(event.table, []).append(event)
    instants = st.sampled_from(pools.event_instants)
    for table, sources in by_table.items():
        first = sources[0]
        row_owners = (
            st.sampled_from([*segment_ids, "s_unmapped"]) if first.via_segment_id else someone
        )
        names_in_table = st.sampled_from(
            [*(s.name for s in sources), "Other Event", "order completed"]
        )
        rows = []
        for _ in range(draw(st.integers(0, 10))):
            row = {}
            for column, dtype in first.columns.items():
                if column == first.owner_column:
                    row[column] = _maybe_null(draw, row_owners, 8)
                elif column == first.timestamp:
                    row[column] = _maybe_null(draw, instants, 10)
                elif column == first.event_column:
                    row[column] = _maybe_null(draw, names_in_table, 10)
                else:
                    row[column] = draw(pools.data_value(dtype))
            rows.append(row)
        if rows:
            for _ in range(draw(st.integers(0, 2))):
                rows.append(dict(draw(st.sampled_from(rows))))  # exact duplicates count twice
        tables[table] = rows
        types[table] = dict(first.columns)
    # Rows following others of the same owner, for funnel steps.
    universe = {
        row[key]
        for row in tables[plan.identifiers_table]
        if row["type"] in UNIVERSE_TYPES and row["value"] is not None and row[key] is not None
    }
    segments = set()
    if plan.id_graph_table is not None:
        segments = {r["segment_id"] for r in tables[plan.id_graph_table] if r[key] in universe}
    if classic and plan.id_graph_table is not None and universe and not segments:
        # a segment id of someone in the universe, so that segment_id events can be theirs
        tables[plan.id_graph_table].append({"segment_id": "s_member", key: min(universe)})
        segments = {"s_member"}
    members = {False: sorted(universe), True: sorted(segments)}
    if classic:
        adopt_rows(draw, tables, plan.events, pools, members)
    add_follow_ups(draw, tables, plan.events, pools, members)
    return tables, types


# --------------------------------------------------------------------------------------------
# Audiences
# --------------------------------------------------------------------------------------------

COUNT_FORMS = ("at_least", "exactly", "at_most")
_ORDERINGS = ("less_than", "greater_than", "less_than_or_equal", "greater_than_or_equal")


class _AudienceBuilder(ClassicNodes):
    """Random valid condition trees for one graph (SPEC §3 placement and typing rules)."""

    def __init__(
        self,
        draw: Draw,
        graph: DataGraph,
        pools: _Pools,
        others: tuple[str, ...],
        tables: Tables,
    ) -> None:
        self.draw, self.graph, self.pools, self.others = draw, graph, pools, others
        self.traits = graph.profile.traits
        self.tables = tables

    # -- comparisons -----------------------------------------------------------------------

    def comparison(
        self, dtype: str, refs: list[dict[str, str]], observed: list[Any]
    ) -> dict[str, Any]:
        """``operator`` and ``value``/``reference`` for a ``dtype`` operand (SPEC §3
        "Operators"; docs/semantics.md "Values are typed strictly"). ``observed`` are values
        the operand takes in the data: literals often come from them, so conditions hit."""
        draw = self.draw
        ops = [op for op, types in OPERATOR_TYPES.items() if dtype in types]
        op = draw(st.sampled_from(ops))
        if op in ("exists", "not_exists"):
            return {"operator": op}
        if refs and op in REFERENCE_OPERATORS.get(dtype, ()) and _chance(draw, 33):
            return {"operator": op, "reference": draw(st.sampled_from(refs))}
        seen = [_as_literal(v) for v in observed if v is not None]
        if seen and draw(st.booleans()):
            value = self.observed_literal(op, dtype, seen)
            if value is not None:
                return {"operator": op, "value": value}
        return {"operator": op, "value": self.literal(op, dtype)}

    def observed_literal(self, op: str, dtype: str, seen: list[Any]) -> Any:
        """A literal made from a value in the data (or None when ``op`` takes no such)."""
        draw = self.draw
        value = draw(st.sampled_from(seen))
        if op in ("contains", "does_not_contain", "contains_any_of", "starts_with", "ends_with"):
            start = draw(st.integers(0, len(value)))
            end = draw(st.integers(start, len(value)))
            part = value[:end] if op == "starts_with" else value[start:]
            part = part if op in ("starts_with", "ends_with") else value[start:end]
            return [part] if op == "contains_any_of" else part
        if op == "equals_any_of":
            return [value, *draw(st.lists(st.sampled_from(seen), max_size=2))]
        if op in ("equals", "not_equals") or op in _ORDERINGS:
            return value
        return None

    def literal(self, op: str, dtype: str) -> Any:
        """A literal that fits ``op`` on ``dtype``, from the scenario's pools."""
        draw, pools = self.draw, self.pools
        if op in ("within_last", "within_next", "before_last", "after_next"):
            return draw(st.sampled_from(pools.days))
        if op in ("before_date", "after_date"):
            return draw(
                st.one_of(st.sampled_from([d.isoformat() for d in pools.dates]), pools.iso_texts())
            )
        if op in ("contains", "does_not_contain", "starts_with", "ends_with"):
            return draw(pools.literal("string"))
        if op == "contains_any_of":
            return draw(st.lists(pools.literal("string"), min_size=1, max_size=3))
        if op == "equals_any_of":
            return draw(st.lists(pools.literal(dtype), min_size=1, max_size=3))
        return draw(pools.literal(dtype))

    # -- values in the data ------------------------------------------------------------------

    def trait_values(self, trait: str) -> list[Any]:
        """The values ``trait`` takes (long texts cast as the evaluator casts them)."""
        spec = self.graph.profile
        rows = self.tables.get(spec.traits_table, [])
        if spec.traits_layout == "wide":
            return [r.get(trait) for r in rows]
        dtype = spec.traits[trait]
        return [cast_long_text(r.get("value"), dtype) for r in rows if r.get("name") == trait]

    def column_values(self, table: str, column: str) -> list[Any]:
        return [r.get(column) for r in self.tables.get(table, [])]

    def trait_refs(self, dtype: str) -> list[dict[str, str]]:
        return [{"trait": t} for t, ty in self.traits.items() if ty == dtype]

    # -- counts and windows ----------------------------------------------------------------

    def count(self, zero_ok: bool = True) -> dict[str, int] | None:
        """A count (None ⇒ the default ``at_least: 1``)."""
        draw = self.draw
        form = draw(st.sampled_from((None, *COUNT_FORMS)))
        if form is None:
            return None
        low = 1 if form == "at_least" or not zero_ok else 0
        return {form: draw(st.integers(low, 3))}

    def window(self) -> dict[str, Any] | None:
        draw, days = self.draw, self.pools.days
        form = draw(st.sampled_from((None, "within_last_days", "between_days_ago")))
        positive = [d for d in days if d >= 1]
        if form == "within_last_days":
            return {"within_last_days": draw(st.sampled_from(positive))}
        if form == "between_days_ago":
            start = draw(st.sampled_from(days[:-1]))
            end = draw(st.sampled_from([d for d in days if d > start]))
            return {"between_days_ago": [start, end]}
        return None

    # -- nodes -----------------------------------------------------------------------------

    def group(self, child: Callable[[int], dict[str, Any]], depth: int) -> dict[str, Any]:
        n = self.draw(st.integers(1, 3))
        return {
            "type": "group",
            "operator": self.draw(st.sampled_from(("and", "or"))),
            "conditions": [child(depth - 1) for _ in range(n)],
        }

    def audience_level(self, depth: int) -> dict[str, Any]:
        """A node allowed at audience level (SPEC §3 table)."""
        draw = self.draw
        kinds = ["trait", "event", "event", "entity", "entity"]
        if self.others:
            kinds.append("audience")
        if depth > 0:
            kinds += ["group", "group"]
        kind = draw(st.sampled_from(kinds))
        if kind == "group":
            return self.group(self.audience_level, depth)
        without = _chance(draw, 25)
        if kind == "audience":
            return {
                "type": "audience",
                "key": draw(st.sampled_from(self.others)),
                "without": without,
            }
        if kind == "trait":
            trait = draw(st.sampled_from(sorted(self.traits)))
            dtype = self.traits[trait]
            return {
                "type": "trait",
                "trait": trait,
                "without": without,
                **self.comparison(dtype, self.trait_refs(dtype), self.trait_values(trait)),
            }
        if kind == "event":
            return self.event_node(without, depth)
        tops = [p for p in self.graph.relationship_paths() if p.parent is None]
        return self.entity_node(draw(st.sampled_from(tops)), without, depth)

    def event_node(self, without: bool, depth: int) -> dict[str, Any]:
        """An ``event`` node with any count (or an aggregate), window and ``where``, which
        may hold funnel steps."""
        source = self.draw(st.sampled_from(self.graph.events))
        node: dict[str, Any] = {"type": "event", "event": source.name, "without": without}
        window = self.window()
        if window:
            node["window"] = window
        self.event_body(node, source, None, 1, depth)
        return node

    def entity_node(
        self, path: RelationshipPath, without: bool, depth: int, aggregate_percent: int = 15
    ) -> dict[str, Any]:
        """An ``entity`` node with a count or an aggregate; a zero count never has a
        ``where``."""
        draw = self.draw
        node: dict[str, Any] = {"type": "entity", "relationship": path.slug, "without": without}
        wanted = _chance(draw, aggregate_percent)
        aggregate = self.entity_aggregate(path) if wanted else None
        count = None if aggregate is not None else self.count()
        if aggregate is not None:
            node["aggregate"] = aggregate
        if count:
            node["count"] = count
        zero = count is not None and "at_least" not in count and next(iter(count.values())) == 0
        if not zero and not _chance(draw, 25):
            node["where"] = self.entity_where(path, min(depth, 2))
        return node

    def entity_where(self, path: RelationshipPath, depth: int) -> dict[str, Any]:
        """A tree of ``group``/``column``/child ``entity`` nodes inside an entity's ``where``."""
        draw = self.draw
        children = [
            p
            for p in self.graph.relationship_paths()
            if p.parent is not None and p.parent.slug == path.slug
        ]
        kinds = ["column", "column"] if path.entity.columns else []
        if children:
            kinds += ["entity", "entity"]
        if depth > 0:
            kinds.append("group")
        kind = draw(st.sampled_from(kinds))
        if kind == "group":
            return self.group(lambda d: self.entity_where(path, d), depth)
        if kind == "entity":
            without = _chance(draw, 25)
            return self.entity_node(draw(st.sampled_from(children)), without, depth)
        column = draw(st.sampled_from(sorted(path.entity.columns)))
        dtype = path.entity.columns[column]
        refs = self.trait_refs(dtype) + [
            {"relationship": p.slug, "column": c}
            for p in path.ancestors()
            for c, ty in p.entity.columns.items()
            if ty == dtype
        ]
        observed = self.column_values(path.entity.table, column)
        return {"type": "column", "column": column, **self.comparison(dtype, refs, observed)}

    def audience(self, key: str, depth: int, classic: bool = False) -> Audience:
        """An audience; with ``classic`` its condition is a funnel or an aggregate node."""
        return Audience.model_validate(
            {
                "key": key,
                "name": f"Audience {key}",
                "include_anonymous": self.draw(st.booleans()),
                "condition": self.classic_node(depth) if classic else self.audience_level(depth),
            }
        )


def _as_literal(value: Any) -> Any:
    """A stored value as a definition literal: dates, times and timestamps as ISO text."""
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


@st.composite
def scenarios(draw: Draw, max_depth: int = 2, classic: bool = False) -> Scenario:
    """A graph, its data, one audience and 0–2 extra audiences it may name (SPEC §2–3).
    With ``classic`` the main audience is a funnel or an aggregate node.

    The extra audiences are ``extra_0`` and ``extra-1.b``; the second may name the first, the
    main one (``main``) may name both, so there is never a cycle. Every audience passes
    ``validate_audience``.
    """
    plan = draw(_graph_plans())
    graph = DataGraph.model_validate(plan.graph_json)
    tables, column_types = _fill(draw, plan, classic)
    extras: list[Audience] = []
    n_extras = 0 if _chance(draw, 20) else draw(st.integers(1, 2))
    for key in ("extra_0", "extra-1.b")[:n_extras]:
        builder = _AudienceBuilder(draw, graph, plan.pools, tuple(a.key for a in extras), tables)
        extras.append(builder.audience(key, 1))
    builder = _AudienceBuilder(draw, graph, plan.pools, tuple(a.key for a in extras), tables)
    audience = builder.audience("main", max_depth, classic)
    validate_audience(audience, graph, extras)
    return Scenario(graph, tables, column_types, audience, tuple(extras), plan.as_of)


__all__ = ["AS_OFS", "STRINGS", "Scenario", "scenarios"]
