"""The reference evaluator: what an audience means, in plain, slow, obvious Python.

It reads warehouse tables given as lists of row dicts and answers, for an audience at an
``as_of``, which profiles are members and which entities they matched — the same two answers
as the compiled ``profiles_sql`` and ``entities_sql`` (SPEC §5). Every rule follows SPEC §1–3
and, where SPEC is silent, ``docs/semantics.md`` ("Evaluation"). Speed is not a goal: rows are
scanned with nested loops so that each rule can be read off the code.

Conventions of the ``tables`` argument:

* keys are table names exactly as the graph writes them (``"prod.account"``);
* values are lists of rows; a row maps column name → Python value: ``str``, ``int``/``float``
  (number), ``bool``, ``datetime.date`` (date), aware ``datetime.datetime`` (timestamp; a
  naive one is read as UTC), ``datetime.time`` or ``None`` (NULL);
* a table the graph names but ``tables`` lacks is empty; a column a row lacks is NULL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from linked_audiences.conditions import (
    Aggregate,
    Audience,
    AudienceCondition,
    ColumnCondition,
    ColumnReference,
    Comparison,
    Condition,
    Count,
    EntityCondition,
    EventCondition,
    GroupCondition,
    ParentReference,
    PropertyCondition,
    TraitCondition,
    TraitReference,
    UsersCondition,
    Window,
)
from linked_audiences.datatypes import parse_iso_date, parse_iso_time, parse_iso_timestamp
from linked_audiences.graph import DataGraph, Entity, EventSource, RelationshipPath
from linked_audiences.validation import validate_audience

Row = dict[str, Any]
Tables = dict[str, list[Row]]

UTC = timezone.utc

#: SPEC §3 "Universe": identifier types that put a profile in the universe.
UNIVERSE_TYPES: tuple[str, ...] = ("user_id", "email", "android.idfa", "ios.idfa")
#: ... and the one that counts too with ``include_anonymous: true``.
ANONYMOUS_TYPE = "anonymous_id"

DAY_OPERATORS = ("within_last", "within_next", "before_last", "after_next")
DATE_OPERATORS = ("before_date", "after_date")


@dataclass(frozen=True)
class Result:
    """An audience's answer at one ``as_of`` (SPEC §5: ``profiles_sql`` and ``entities_sql``).

    ``members`` are profile ids; ``entities`` are ``(profile_id, relationship slug, entity_id)``
    with ``entity_id`` the primary key as text (docs/semantics.md, "entity_id").
    """

    members: frozenset[str]
    entities: frozenset[tuple[str, str, str]]


def evaluate(
    audience: Audience,
    graph: DataGraph,
    tables: Tables,
    as_of: datetime,
    audiences: Sequence[Audience] = (),
) -> Result:
    """Members and matched entities of ``audience`` at ``as_of`` (SPEC §3).

    ``audiences`` are the definitions that ``audience`` nodes may name (SPEC §5, ``compile``).
    The definition is validated first (SPEC §3: definition errors are raised before anything
    runs), so the evaluator itself can trust every name it looks up.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (SPEC §5)")
    validate_audience(audience, graph, audiences)
    known = {other.key: other for other in audiences}
    known[audience.key] = audience
    evaluator = _Evaluator(graph, tables, as_of.astimezone(UTC), known)
    members = evaluator.members(audience)
    entities: set[tuple[Any, str, str]] = set()
    if audience.level == "account":  # SPEC §8: account audiences have no matched entities
        return Result(frozenset(members), frozenset())
    for profile in members:
        evaluator.collect_matched(audience.condition, _Context(profile), entities)
    return Result(frozenset(members), frozenset(entities))


# --------------------------------------------------------------------------------------------
# Pure helpers: counts, windows, casts and operators
# --------------------------------------------------------------------------------------------


def count_holds(count: Count, n: int) -> bool:
    """SPEC §3 ``count``: ``at_least`` n ⇒ ≥ n, ``exactly`` n ⇒ = n, ``at_most`` n ⇒ ≤ n."""
    if count.kind == "at_least":
        return n >= count.n
    if count.kind == "exactly":
        return n == count.n
    return n <= count.n


def in_window(ts: datetime, window: Window | None, as_of: datetime) -> bool:
    """SPEC §3 ``window``: none ⇒ ts ≤ as_of ("events after as_of never count");
    ``within_last_days`` N ⇒ as_of − N d ≤ ts ≤ as_of; ``between_days_ago`` [N, M] ⇒
    as_of − M d ≤ ts < as_of − N d."""
    ts = as_instant(ts)
    if window is None:
        return ts <= as_of
    if window.within_last_days is not None:
        return as_of - timedelta(days=window.within_last_days) <= ts <= as_of
    assert window.between_days_ago is not None
    n, m = window.between_days_ago
    return as_of - timedelta(days=m) <= ts < as_of - timedelta(days=n)


def as_instant(value: datetime) -> datetime:
    """SPEC §1 "Timestamps are compared in UTC": an aware datetime in UTC (naive ⇒ UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_DECIMAL_DIGITS = frozenset("0123456789")


def _is_decimal_text(text: str) -> bool:
    """docs/semantics.md "Long-layout casts", ``number``: decimal text such as ``12``,
    ``-3.5``, ``1e3`` — an optional sign, digits with an optional fraction (``1.5``, ``.5``,
    ``5.``), an optional exponent. Nothing else: no spaces, ``nan``, ``inf``, ``1,5``, hex."""
    body = text[1:] if text[:1] in ("+", "-") else text
    mantissa, exponent = body, None
    for marker in ("e", "E"):
        if marker in body:
            mantissa, _, exponent = body.partition(marker)
            break
    if exponent is not None:
        digits = exponent[1:] if exponent[:1] in ("+", "-") else exponent
        if not digits or not set(digits) <= _DECIMAL_DIGITS:
            return False
    whole, _, fraction = mantissa.partition(".")
    if not whole and not fraction:
        return False
    return set(whole) <= _DECIMAL_DIGITS and set(fraction) <= _DECIMAL_DIGITS


def _is_iso_date_text(text: str) -> bool:
    """``YYYY-MM-DD`` exactly (ten characters, dashes at 4 and 7, digits elsewhere)."""
    return (
        len(text) == 10
        and text[4] == "-"
        and text[7] == "-"
        and set(text[:4] + text[5:7] + text[8:]) <= _DECIMAL_DIGITS
    )


def _is_iso_time_text(text: str) -> bool:
    """``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.f`` (1–6 fraction digits)."""
    main, dot, fraction = text.partition(".")
    if dot and not (1 <= len(fraction) <= 6 and set(fraction) <= _DECIMAL_DIGITS):
        return False
    if dot and len(main) != 8:
        return False
    if len(main) not in (5, 8):
        return False
    parts = main.split(":")
    return all(len(p) == 2 and set(p) <= _DECIMAL_DIGITS for p in parts)


def cast_long_text(text: str | None, dtype: str) -> Any:
    """docs/semantics.md "Long-layout casts": the text of a ``long`` trait as its declared type.

    ``number``: decimal text, else NULL. ``boolean``: ``true``/``false`` in any case, else NULL.
    ``date``: ``YYYY-MM-DD``, else NULL. ``timestamp``: ISO-8601 (date-only ⇒ midnight UTC,
    no offset ⇒ UTC), else NULL. ``string``: as is. ``time`` (not listed there; decided here):
    ``HH:MM[:SS[.ffffff]]``, else NULL.
    """
    if text is None:
        return None
    if dtype == "string":
        return text
    if dtype == "number":
        if not _is_decimal_text(text):
            return None
        return float(text)
    if dtype == "boolean":
        lowered = text.lower()
        return True if lowered == "true" else False if lowered == "false" else None
    try:
        if dtype == "date":
            return parse_iso_date(text) if _is_iso_date_text(text) else None
        if dtype == "time":
            return parse_iso_time(text) if _is_iso_time_text(text) else None
        if dtype == "timestamp":
            return parse_iso_timestamp(text)
    except (ValueError, OverflowError):
        return None
    raise ValueError(f"unknown data type {dtype!r}")


def typed_literal(value: Any, dtype: str) -> Any:
    """SPEC §3 / docs/semantics.md "Values are typed strictly": a definition's literal as a
    Python value of the column's type. Dates, times and timestamps are written as ISO text;
    lists (``equals_any_of``) are converted item by item."""
    if isinstance(value, list):
        return [typed_literal(item, dtype) for item in value]
    if dtype == "date":
        return parse_iso_date(value)
    if dtype == "time":
        return parse_iso_time(value)
    if dtype == "timestamp":
        return parse_iso_timestamp(value)
    return value


def _date_like_instant(x: Any, dtype: str) -> datetime | None:
    """docs/semantics.md "Date-like comparisons": on a ``timestamp`` column the value as a UTC
    instant; on a ``string`` column the text parsed as ISO-8601 (date-only ⇒ midnight UTC,
    no offset ⇒ UTC), or None when it does not parse ("never matches")."""
    if dtype == "timestamp":
        return as_instant(x)
    if not isinstance(x, str):
        return None
    try:
        return parse_iso_timestamp(x)
    except (ValueError, OverflowError):
        return None


def date_operator_holds(op: str, x: Any, value: str, dtype: str) -> bool:
    """SPEC §3 ``before_date`` / ``after_date``: x < v / x > v, v an ISO date or timestamp.

    docs/semantics.md: on a ``date`` column compare dates, a timestamp value taken at its UTC
    date; on ``timestamp``/``string`` columns compare UTC instants (a date value = midnight
    UTC; unparseable text never matches).
    """
    bound = parse_iso_timestamp(value)
    if dtype == "date":
        left: date | datetime = x
        right: date | datetime = bound.date()
    else:
        instant = _date_like_instant(x, dtype)
        if instant is None:
            return False
        left, right = instant, bound
    return left < right if op == "before_date" else left > right


def day_operator_holds(op: str, x: Any, days: int, dtype: str, as_of: datetime) -> bool:
    """SPEC §3 day operators with N days: ``within_last``: as_of − N d ≤ x ≤ as_of;
    ``within_next``: as_of ≤ x ≤ as_of + N d; ``before_last``: x < as_of − N d;
    ``after_next``: x > as_of + N d.

    docs/semantics.md: on a ``date`` column "as_of" is as_of's UTC date and x a date; on
    ``timestamp``/``string`` columns x is a UTC instant (unparseable text never matches).
    """
    now: date | datetime
    if dtype == "date":
        now, point = as_of.astimezone(UTC).date(), x
    else:
        now, point = as_of, _date_like_instant(x, dtype)
        if point is None:
            return False
    span = timedelta(days=days)
    if op == "within_last":
        return bool(now - span <= point <= now)
    if op == "within_next":
        return bool(now <= point <= now + span)
    if op == "before_last":
        return bool(point < now - span)
    if op == "after_next":
        return bool(point > now + span)
    raise ValueError(f"not a day operator: {op!r}")


def _normalise(x: Any, dtype: str) -> Any:
    """A stored value ready to compare: timestamps as UTC instants (SPEC §1)."""
    if dtype == "timestamp" and isinstance(x, datetime):
        return as_instant(x)
    return x


def operator_holds(
    op: str, x: Any, v: Any, dtype: str, as_of: datetime, *, literal: bool = True
) -> bool:
    """SPEC §3 "Operators": whether ``x <op> v`` holds for a value x of type ``dtype``.

    ``v`` is the definition's literal (``literal=True``: ISO text for dates/times/timestamps)
    or a referenced value (``literal=False``: already a Python value of the same type).
    Every operator except ``not_exists`` is false when x is NULL, and so is a comparison with a
    NULL reference. Strings compare case-sensitively; ``contains``/``starts_with``/
    ``ends_with`` are plain substring tests, so ``%``, ``_`` and ``\\`` are literal characters.
    """
    if op == "not_exists":
        return x is None
    if x is None:
        return False
    if op == "exists":
        return True
    if v is None:
        return False
    if op in DAY_OPERATORS:
        return day_operator_holds(op, x, v, dtype, as_of)
    if op in DATE_OPERATORS:
        return date_operator_holds(op, x, v, dtype)
    x = _normalise(x, dtype)
    if literal:
        v = typed_literal(v, dtype)
    elif not isinstance(v, list):
        v = _normalise(v, dtype)
    if op == "equals":
        return bool(x == v)
    if op == "not_equals":
        return bool(x != v)
    if op == "less_than":
        return bool(x < v)
    if op == "greater_than":
        return bool(x > v)
    if op == "less_than_or_equal":
        return bool(x <= v)
    if op == "greater_than_or_equal":
        return bool(x >= v)
    if op == "equals_any_of":
        return any(x == item for item in v)
    if op == "contains_any_of":
        return any(item in x for item in v)
    if op == "contains":
        return v in x
    if op == "does_not_contain":
        return v not in x
    if op == "starts_with":
        return bool(x.startswith(v))
    if op == "ends_with":
        return bool(x.endswith(v))
    raise ValueError(f"unknown operator {op!r}")


def _same(a: Any, b: Any) -> bool:
    """A join equality: both sides set and equal (NULL joins nothing)."""
    return a is not None and b is not None and a == b


def entity_key(entity: Entity, row: Row) -> tuple[Any, ...] | None:
    """SPEC §2: the primary key's values in declared order; None when one is NULL (such a
    row relates to nothing)."""
    values = tuple(row.get(c) for c in entity.key_columns)
    return None if any(v is None for v in values) else values


def entity_id(entity: Entity, row: Row) -> str:
    """SPEC §2 ``entity_id``: the key as text; a composite key's columns each as text, in
    declared order, joined by ``|``."""
    key = entity_key(entity, row)
    assert key is not None
    return "|".join(str(v) for v in key)


# --------------------------------------------------------------------------------------------
# The evaluator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """Where a node is evaluated: the profile, the entity rows on the current path (top-level
    relationship first, the node's own row last) and, inside an event's ``where``, the event
    row and its source."""

    profile: Any
    path: tuple[tuple[str, Row], ...] = ()
    event: EventSource | None = None
    event_row: Row | None = None
    #: Inside a funnel step's where: the context of the parent event row (SPEC §6).
    parent: _Context | None = None

    def with_entity(self, slug: str, row: Row) -> _Context:
        return _Context(self.profile, (*self.path, (slug, row)), self.event, self.event_row)

    def with_event(self, source: EventSource, row: Row, parent: _Context | None = None) -> _Context:
        return _Context(self.profile, self.path, source, row, parent)

    def row_of(self, slug: str) -> Row:
        """SPEC §3 ``reference`` ``{relationship, column}``: the row of that entity node on the
        current path (the node itself or an ancestor in the same branch)."""
        for path_slug, row in self.path:
            if path_slug == slug:
                return row
        raise KeyError(f"relationship {slug!r} is not on the current path")


class _Evaluator:
    """One evaluation: the data, ``as_of``, the known audiences and a few caches."""

    def __init__(
        self, graph: DataGraph, tables: Tables, as_of: datetime, known: dict[str, Audience]
    ) -> None:
        self.graph = graph
        self.tables = tables
        self.as_of = as_of
        self.known = known
        self._members: dict[str, frozenset[Any]] = {}
        self._in_progress: set[str] = set()
        self._traits: dict[Any, dict[str, Any]] = {}

    # -- tables -----------------------------------------------------------------------------

    def rows(self, table: str) -> list[Row]:
        """The rows of ``table`` (a table absent from ``tables`` is empty)."""
        return self.tables.get(table, [])

    # -- universe and membership ------------------------------------------------------------

    def universe(self, include_anonymous: bool) -> frozenset[Any]:
        """SPEC §3 "Universe": profiles (the profile key of the identifiers table) with at least
        one identifier of type user_id, email, android.idfa or ios.idfa (+ anonymous_id with
        ``include_anonymous``); docs/semantics.md: only rows whose ``value`` is not NULL."""
        types = (*UNIVERSE_TYPES, ANONYMOUS_TYPE) if include_anonymous else UNIVERSE_TYPES
        key = self.graph.profile.key
        profiles = set()
        for row in self.rows(self.graph.profile.identifiers_table):
            if row.get(key) is None or row.get("value") is None:
                continue
            if row.get("type") in types:
                profiles.add(row[key])
        return frozenset(profiles)

    def members(self, audience: Audience) -> frozenset[Any]:
        """SPEC §3: the universe profiles for which the audience's condition holds. An audience
        named by an ``audience`` node is evaluated with its own universe (its own
        ``include_anonymous``) at the same ``as_of`` on the same data."""
        if audience.key in self._members:
            return self._members[audience.key]
        if audience.key in self._in_progress:
            raise ValueError(f"audiences reference each other in a cycle at {audience.key!r}")
        self._in_progress.add(audience.key)
        if audience.level == "account":
            accounts = self.accounts()
            result = frozenset(a for a in accounts if self.account_holds(audience.condition, a))
        else:
            universe = self.universe(audience.include_anonymous)
            result = frozenset(p for p in universe if self.holds(audience.condition, _Context(p)))
        self._in_progress.discard(audience.key)
        self._members[audience.key] = result
        return result

    # -- accounts (SPEC §8) -----------------------------------------------------------------

    def accounts(self) -> dict[Any, Row]:
        """Every account with a row in the account traits table (NULL keys are no account),
        with that row; one row per account, like the wide profile traits table."""
        spec = self.graph.accounts
        assert spec is not None
        rows: dict[Any, Row] = {}
        for row in self.rows(spec.traits_table):
            key = row.get(spec.key)
            if key is None:
                continue
            if key in rows:
                raise ValueError(f"the account traits table holds account {key!r} twice")
            rows[key] = row
        return rows

    def account_members(self, account: Any) -> set[Any]:
        """SPEC §8: the distinct non-NULL profile keys of the account's membership rows."""
        spec = self.graph.accounts
        assert spec is not None
        m = spec.memberships
        return {
            row[m.profile_key]
            for row in self.rows(spec.memberships_table)
            if row.get(m.account_key) == account and row.get(m.profile_key) is not None
        }

    def account_holds(self, node: Condition, account: Any) -> bool:
        """SPEC §8 at account level: groups; ``trait`` on account traits (a ``{"trait"}``
        reference too); ``audience`` naming an account audience; ``users`` any / all / none
        of the members satisfying a profile-level tree, evaluated without the universe rule
        (``all`` is false for an account without members, ``none`` true)."""
        if isinstance(node, GroupCondition):
            results = [self.account_holds(c, account) for c in node.conditions]
            return all(results) if node.operator == "and" else any(results)
        if isinstance(node, TraitCondition):
            spec = self.graph.accounts
            assert spec is not None
            row = self.accounts()[account]
            dtype = spec.traits[node.trait]
            x = row.get(node.trait)
            if node.reference is None:
                holds = operator_holds(node.operator, x, node.value, dtype, self.as_of)
            else:
                assert isinstance(node.reference, TraitReference)
                v = row.get(node.reference.trait)
                holds = operator_holds(node.operator, x, v, dtype, self.as_of, literal=False)
            return holds != node.without
        if isinstance(node, AudienceCondition):
            return (account in self.members(self.known[node.key])) != node.without
        assert isinstance(node, UsersCondition)
        members = self.account_members(account)
        satisfied = [self.holds(node.where, _Context(p)) for p in sorted(members, key=str)]
        if node.quantifier == "any":
            return any(satisfied)
        if node.quantifier == "none":
            return not any(satisfied)
        return bool(satisfied) and all(satisfied)

    # -- traits -----------------------------------------------------------------------------

    def trait(self, profile: Any, name: str) -> Any:
        """The value of trait ``name`` for ``profile`` (SPEC §1–2; docs/data-graph.md).

        ``wide``: the column named like the trait in the profile's one row of the traits table
        (no row ⇒ NULL). ``long``: rows (key, ``name``, ``value``) of the profile and trait;
        the greatest non-NULL text wins (docs/semantics.md), cast to the declared type.
        """
        if name not in self.graph.profile.traits:  # computed and SQL traits
            from tests.reference.computed import derived_trait

            return derived_trait(self, profile, name)
        if profile not in self._traits:
            self._traits[profile] = self._load_traits(profile)
        return self._traits[profile].get(name)

    def _load_traits(self, profile: Any) -> dict[str, Any]:
        """All declared traits of one profile, per the layout (see :meth:`trait`)."""
        spec = self.graph.profile
        mine = [r for r in self.rows(spec.traits_table) if r.get(spec.key) == profile]
        values: dict[str, Any] = {}
        if spec.traits_layout == "wide":
            if len(mine) > 1:
                raise ValueError(
                    f"the wide traits table holds {len(mine)} rows for profile {profile!r}; "
                    "SPEC §1 says one row per profile"
                )
            for name in spec.traits:
                values[name] = mine[0].get(name) if mine else None
            return values
        for name, dtype in spec.traits.items():
            texts = [
                r["value"] for r in mine if r.get("name") == name and r.get("value") is not None
            ]
            values[name] = cast_long_text(max(texts), dtype) if texts else None
        return values

    # -- conditions -------------------------------------------------------------------------

    def holds(self, node: Condition, ctx: _Context) -> bool:
        """Whether ``node`` holds in ``ctx``, dispatched on the node's kind (SPEC §3 table)."""
        if isinstance(node, GroupCondition):
            return self.group_holds(node, ctx)
        if isinstance(node, TraitCondition):
            return self.trait_holds(node, ctx)
        if isinstance(node, AudienceCondition):
            return self.audience_holds(node, ctx)
        if isinstance(node, EventCondition):
            return self.event_holds(node, ctx)
        if isinstance(node, EntityCondition):
            return self.entity_holds(node, ctx)
        if isinstance(node, PropertyCondition):
            return self.property_holds(node, ctx)
        if isinstance(node, ColumnCondition):
            return self.column_holds(node, ctx)
        raise TypeError(f"unknown condition {node!r}")

    def group_holds(self, node: GroupCondition, ctx: _Context) -> bool:
        """SPEC §3 "Universe and groups": ``and`` holds when all conditions hold; ``or`` when
        any holds."""
        results = [self.holds(child, ctx) for child in node.conditions]
        return all(results) if node.operator == "and" else any(results)

    def audience_holds(self, node: AudienceCondition, ctx: _Context) -> bool:
        """SPEC §3: ``audience`` holds when the profile is a member of that audience (same
        ``as_of``, same data); ``without`` ⇒ the complement over this audience's universe."""
        member = ctx.profile in self.members(self.known[node.key])
        return member != node.without

    def trait_holds(self, node: TraitCondition, ctx: _Context) -> bool:
        """SPEC §3 ``trait``: the profile's trait compared with a value or a reference;
        ``without`` ⇒ the complement over the universe."""
        dtype = self.graph.trait_type(node.trait) or "string"
        x = self.trait(ctx.profile, node.trait)
        return self.compare(node, x, dtype, ctx) != node.without

    def property_holds(self, node: PropertyCondition, ctx: _Context) -> bool:
        """SPEC §3 ``property``: a column of the event row (``EventSource.property_column``,
        which also maps ``page_name``/``screen_name`` to ``name``), compared."""
        assert ctx.event is not None and ctx.event_row is not None
        resolved = ctx.event.property_column(node.property)
        assert resolved is not None
        column, dtype = resolved
        return self.compare(node, ctx.event_row.get(column), dtype, ctx)

    def column_holds(self, node: ColumnCondition, ctx: _Context) -> bool:
        """SPEC §3 ``column``: a column of the current entity row (the innermost row on the
        path), compared with a value or a reference."""
        slug, row = ctx.path[-1]
        path = self.graph.relationship(slug)
        assert path is not None
        dtype = path.entity.columns[node.column]
        return self.compare(node, row.get(node.column), dtype, ctx)

    def compare(self, node: Comparison, x: Any, dtype: str, ctx: _Context) -> bool:
        """SPEC §3 "Operators", with ``value`` or ``reference``: ``{"trait": t}`` is the
        profile's trait; ``{"relationship": slug, "column": c}`` the column of that node's row
        on the current path."""
        if node.reference is None:
            return operator_holds(node.operator, x, node.value, dtype, self.as_of)
        ref = node.reference
        return operator_holds(
            node.operator, x, self.referenced(ref, ctx), dtype, self.as_of, literal=False
        )

    def referenced(self, ref: Any, ctx: _Context) -> Any:
        """The value a reference names: the profile's trait, the column of an entity row on
        the path, or (SPEC §6 ``{"parent": p}``) the property of the parent event row."""
        if isinstance(ref, TraitReference):
            return self.trait(ctx.profile, ref.trait)
        if isinstance(ref, ParentReference):
            parent = ctx.parent
            assert parent is not None and parent.event is not None and parent.event_row is not None
            resolved = parent.event.property_column(ref.parent)
            assert resolved is not None
            return parent.event_row.get(resolved[0])
        assert isinstance(ref, ColumnReference)
        return ctx.row_of(ref.relationship).get(ref.column)

    # -- events -----------------------------------------------------------------------------

    def id_graph(self) -> dict[Any, Any]:
        """SPEC §2 ``profile.id_graph_table``: segment_id → canonical profile key. Rows with a
        NULL segment_id are ignored; a NULL canonical key maps to nobody. A segment_id that
        appears twice is rejected: "the canonical profile that the id graph maps it to"."""
        spec = self.graph.profile
        assert spec.id_graph_table is not None
        mapping: dict[Any, Any] = {}
        for row in self.rows(spec.id_graph_table):
            segment = row.get("segment_id")
            if segment is None:
                continue
            if segment in mapping:
                raise ValueError(f"segment_id {segment!r} appears twice in the id graph")
            mapping[segment] = row.get(spec.key)
        return mapping

    def event_profile(self, source: EventSource, row: Row) -> Any:
        """SPEC §2: the profile an event row belongs to — ``row[profile_key]``, or through the
        id graph for ``segment_id`` (an unmapped segment_id belongs to nobody ⇒ None)."""
        if source.profile_key is not None:
            return row.get(source.profile_key)
        assert source.segment_id is not None
        segment = row.get(source.segment_id)
        if segment is None:
            return None
        return self.id_graph().get(segment)

    def event_rows(self, source: EventSource, profile: Any) -> Iterator[Row]:
        """SPEC §2–3: the profile's rows of an event — rows of its table whose
        ``event_column`` (when set) equals the event name and that belong to the profile;
        rows with a NULL timestamp or NULL profile never count."""
        for row in self.rows(source.table):
            if source.event_column is not None and row.get(source.event_column) != source.name:
                continue
            if row.get(source.timestamp) is None:
                continue
            owner = self.event_profile(source, row)
            if owner is None or owner != profile:
                continue
            yield row

    def event_holds(self, node: EventCondition, ctx: _Context) -> bool:
        """SPEC §3 ``event``: the number of the profile's event rows in the window (no window ⇒
        up to ``as_of``) that satisfy ``where`` satisfies ``count`` (duplicates count twice);
        ``without`` ⇒ the complement over the universe. SPEC §7: with ``aggregate`` the
        aggregate over those rows is compared instead.

        SPEC §6, a funnel step (``ctx`` is inside a parent event's ``where``): the rows are the
        same profile's rows with parent.ts < ts ≤ as_of and, with ``within_days_after`` N,
        ts ≤ parent.ts + N days; ``without`` is the complement for that parent row."""
        source = self.graph.event(node.event)
        assert source is not None
        step = ctx.event is not None
        matching: list[Row] = []
        for row in self.event_rows(source, ctx.profile):
            ts = row[source.timestamp]
            if step:
                if not self.follows(ctx, ts, node.window):
                    continue
            elif not in_window(ts, node.window, self.as_of):
                continue
            inner = ctx.with_event(source, row, ctx if step else None)
            if node.where is not None and not self.holds(node.where, inner):
                continue
            matching.append(row)
        if node.aggregate is not None:
            column, dtype = source.property_column(node.aggregate.property or "")  # type: ignore[misc]
            values = [row.get(column) for row in matching]
            # A step's aggregate is compared for the parent row: {"parent": p} reads that row.
            where = _Context(ctx.profile, ctx.path, parent=ctx) if step else ctx
            return self.aggregate_holds(node.aggregate, values, dtype, where) != node.without
        return count_holds(node.count, len(matching)) != node.without

    def follows(self, parent: _Context, ts: datetime, window: Window | None) -> bool:
        """SPEC §6: a child row at ``ts`` follows the parent row strictly after it, never after
        ``as_of``, and within ``within_days_after`` days of it when given."""
        assert parent.event is not None and parent.event_row is not None
        start = as_instant(parent.event_row[parent.event.timestamp])
        ts = as_instant(ts)
        if not start < ts <= self.as_of:
            return False
        if window is None or window.within_days_after is None:
            return True
        try:
            return ts <= start + timedelta(days=window.within_days_after)
        except OverflowError:  # beyond year 9999: bounds nothing
            return True

    def aggregate_holds(
        self, aggregate: Aggregate, values: list[Any], dtype: str, ctx: _Context
    ) -> bool:
        """SPEC §7: ``function`` over the values (NULLs skipped) compared with the value or
        reference; over nothing ``count_distinct`` is 0 and the others are NULL (false)."""
        present = [_normalise(v, dtype) for v in values if v is not None]
        function = aggregate.function
        result: Any
        if function == "count_distinct":
            result = len(set(present))
        elif not present:
            return False
        elif function == "sum":
            result = sum(present)
        elif function == "avg":
            result = sum(present) / len(present)
        elif function == "min":
            result = min(present)
        else:
            result = max(present)
        kind = dtype if function in ("min", "max") else "number"
        if aggregate.reference is None:
            return operator_holds(aggregate.operator, result, aggregate.value, kind, self.as_of)
        reference = self.referenced(aggregate.reference, ctx)
        return operator_holds(
            aggregate.operator, result, reference, kind, self.as_of, literal=False
        )

    # -- entities ---------------------------------------------------------------------------

    def related_rows(self, path: RelationshipPath, ctx: _Context) -> list[Row]:
        """SPEC §2: the entity rows a relationship relates to the profile (top level) or to the
        parent row on the current path (nested). Rows with a NULL primary key relate to nothing
        (docs/semantics.md); every join compares non-NULL values only.

        * ``external_id {type, join_key}``: an identifiers row of the profile with that
          ``type`` and a non-NULL ``value`` equal to ``entity[join_key]``;
        * ``trait {name, join_key}``: the profile's trait equals ``entity[join_key]``;
        * ``join_on``: ``parent[pcol] == child[ccol]`` for every equality (SPEC §2: a list of
          equalities for a composite key);
        * ``junction_table``: a junction row j with ``parent[pcol] == j[left]`` and
          ``j[right] == child[ccol]`` for every pair (the junction's own primary key plays no
          part).
        """
        rel = path.relationship
        entity = path.entity
        candidates = [r for r in self.rows(entity.table) if entity_key(entity, r) is not None]
        related: list[Row] = []
        if path.parent is None:
            if rel.external_id is not None:
                key = self.graph.profile.key
                link = rel.external_id
                values = [
                    ident.get("value")
                    for ident in self.rows(self.graph.profile.identifiers_table)
                    if ident.get(key) == ctx.profile
                    and ident.get("type") == link.type
                    and ident.get("value") is not None
                ]
                for row in candidates:
                    x = row.get(link.join_key)
                    if x is not None and any(x == v for v in values):
                        related.append(row)
            else:
                assert rel.trait is not None
                trait_value = self.trait(ctx.profile, rel.trait.name)
                for row in candidates:
                    x = row.get(rel.trait.join_key)
                    if x is not None and trait_value is not None and x == trait_value:
                        related.append(row)
            return related
        parent_row = ctx.row_of(path.parent.slug)
        if rel.join_on is not None:
            pairs = path.join_pairs()
            for row in candidates:
                if all(_same(parent_row.get(p), row.get(c)) for p, c in pairs):
                    related.append(row)
            return related
        assert rel.junction_table is not None
        lefts, rights = path.junction_pairs()
        links = self.rows(rel.junction_table.table)
        for row in candidates:
            for link_row in links:
                if all(_same(parent_row.get(p), link_row.get(j)) for p, j in lefts) and all(
                    _same(link_row.get(j), row.get(c)) for j, c in rights
                ):
                    related.append(row)
                    break
        return related

    def matching_rows(self, node: EntityCondition, ctx: _Context) -> list[Row]:
        """SPEC §3 ``entity``: the related rows that satisfy the node's ``where`` (no ``where``
        ⇒ every related row), each evaluated with its own row appended to the path."""
        path = self.graph.relationship(node.relationship)
        assert path is not None
        return [
            row
            for row in self.related_rows(path, ctx)
            if node.where is None or self.holds(node.where, ctx.with_entity(path.slug, row))
        ]

    def entity_holds(self, node: EntityCondition, ctx: _Context) -> bool:
        """SPEC §3 ``entity``: the number of DISTINCT primary keys among the matching related
        rows satisfies ``count``; ``without`` ⇒ the complement (over the universe at audience
        level, over the parent row when nested)."""
        path = self.graph.relationship(node.relationship)
        assert path is not None
        distinct = {entity_key(path.entity, row): row for row in self.matching_rows(node, ctx)}
        if node.aggregate is not None:
            column = node.aggregate.column or ""
            values = [row.get(column) for row in distinct.values()]
            dtype = path.entity.columns[column]
            return self.aggregate_holds(node.aggregate, values, dtype, ctx) != node.without
        return count_holds(node.count, len(distinct)) != node.without

    # -- matched entities -------------------------------------------------------------------

    def collect_matched(
        self, node: Condition, ctx: _Context, out: set[tuple[Any, str, str]]
    ) -> None:
        """SPEC §3 "Matched entities", for a node that *contributes* (it holds, and so does
        every ancestor on its path): an ``and`` group makes all its children contribute, an
        ``or`` group only the children that hold; an ``entity`` node with ``without: false``
        adds ``(profile, slug, str(pk))`` for every related row under the current parent row
        that satisfies its ``where``, then its ``where`` contributes under that row. A
        ``without: true`` node and everything under it, ``audience`` nodes (docs/semantics.md)
        and comparisons add nothing."""
        if isinstance(node, GroupCondition):
            for child in node.conditions:
                if node.operator == "and" or self.holds(child, ctx):
                    self.collect_matched(child, ctx, out)
        elif isinstance(node, EntityCondition) and not node.without:
            path = self.graph.relationship(node.relationship)
            assert path is not None
            for row in self.matching_rows(node, ctx):
                out.add((ctx.profile, path.slug, entity_id(path.entity, row)))
                if node.where is not None:
                    self.collect_matched(node.where, ctx.with_entity(path.slug, row), out)


__all__ = [
    "ANONYMOUS_TYPE",
    "UNIVERSE_TYPES",
    "Result",
    "Row",
    "Tables",
    "cast_long_text",
    "count_holds",
    "date_operator_holds",
    "day_operator_holds",
    "evaluate",
    "in_window",
    "operator_holds",
    "typed_literal",
]
