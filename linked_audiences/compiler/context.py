"""State shared while compiling one audience: the CTE list, names, and the graph's sources.

Everything here builds sqlglot nodes from typed pieces: identifiers are quoted identifiers,
values are literals; no user string is ever parsed as SQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlglot import exp

from linked_audiences.conditions import Audience
from linked_audiences.datatypes import (
    ISO_DATE_PATTERN,
    ISO_TIME_PATTERN,
    ISO_TIMESTAMP_PATTERN,
    NUMBER_PATTERN,
    DataType,
)
from linked_audiences.dialects import WarehouseDialect
from linked_audiences.graph import DataGraph, EventSource
from linked_audiences.graph_traits import COUNTING
from linked_audiences.sql import (
    MAX_MOMENT,
    MIN_MOMENT,
    Storage,
    and_all,
    cast_to,
    col,
    cte_ref,
    ident,
    instant_literal,
    named,
    storage_of,
    string,
    table,
)
from linked_audiences.validation import ANONYMOUS_IDENTIFIER_TYPE, UNIVERSE_IDENTIFIER_TYPES

PROFILE_ID = "profile_id"

#: SQL type each data type is cast to when parsed from text.
SQL_TYPES: dict[str, str] = {
    "number": "DOUBLE",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMPTZ",
}
_TEXT_PATTERNS = {
    "number": NUMBER_PATTERN,
    "date": ISO_DATE_PATTERN,
    "time": ISO_TIME_PATTERN,
    "timestamp": ISO_TIMESTAMP_PATTERN,
}


@dataclass
class CompileContext:
    """One compilation: the graph, dialect, ``as_of`` and the CTEs built so far (in order)."""

    graph: DataGraph
    dialect: WarehouseDialect
    as_of: datetime
    audiences: dict[str, Audience]
    #: Warehouse column types, graph table name → column → SQL type (from the catalog); used
    #: only to give date-like comparisons literals of the column's own kind.
    column_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    ctes: list[tuple[str, exp.Query]] = field(default_factory=list)
    traits_used: set[str] = field(default_factory=set)
    _names: Counter[str] = field(default_factory=Counter)
    _universes: dict[bool, str] = field(default_factory=dict)
    audience_ctes: dict[str, str] = field(default_factory=dict)

    # -- naming ----------------------------------------------------------------------------

    def add_cte(self, prefix: str, select: exp.Query) -> str:
        """Register ``select`` as a CTE after every CTE it uses; returns its unique name."""
        self._names[prefix] += 1
        name = f"la_{prefix}{self._names[prefix]}"
        self.ctes.append((name, select))
        return name

    # -- time ------------------------------------------------------------------------------

    def timestamp(self, moment: datetime, storage: Storage = "aware") -> exp.Expr:
        """A literal for the UTC instant ``moment``, of the kind the column is stored as.

        An instant carries its ``+00:00`` offset; for zone-less and DATE columns the literal
        is the zone-less UTC wall-clock time, so no engine converts through the session zone.
        """
        return instant_literal(moment, storage)

    def date(self, day: date) -> exp.Expr:
        return cast_to(string(day.isoformat()), "DATE")

    def days_from_as_of(self, days: int, dtype: DataType, storage: Storage = "aware") -> exp.Expr:
        """``as_of + days`` as a literal of the column's kind (dates count whole days).

        A bound beyond the years 1–9999 is clamped to the first or last representable
        moment: every stored value lies inside that range, so the answer is the same.
        """
        if dtype == "date":
            try:
                return self.date(self.as_of.date() + timedelta(days=days))
            except OverflowError:
                return self.date(date.min if days < 0 else date.max)
        try:
            moment = self.as_of + timedelta(days=days)
        except OverflowError:
            moment = MIN_MOMENT if days < 0 else MAX_MOMENT
        return self.timestamp(moment, storage)

    def storage(self, table_name: str, column: str, declared: DataType) -> Storage:
        """How ``table_name.column`` is stored, when the catalog was read; else as declared
        (a ``date`` is a DATE, a ``timestamp`` an instant)."""
        columns = self.column_types.get(table_name, {})
        return storage_of(columns.get(column), declared)

    def trait_storage(self, name: str) -> Storage:
        """Wide traits are stored columns; long-layout traits are parsed from text into an
        instant (timestamps) or a DATE. A computed trait keeps its source column's kind; an
        SQL trait is taken to be what its declared type says."""
        profile = self.graph.profile
        if name not in profile.traits:
            return self._derived_storage(name)
        if profile.traits_layout == "wide":
            return self.storage(profile.traits_table, name, profile.traits[name])
        return "date" if profile.traits.get(name) == "date" else "aware"

    def _derived_storage(self, name: str) -> Storage:
        dtype = self.graph.trait_type(name)
        computed = self.graph.computed_traits.get(name)
        if dtype == "timestamp" and computed is not None and computed.field is not None:
            if computed.event is not None:
                source = self.graph.event(computed.event)
                assert source is not None
                column, _ = source.property_column(computed.field)  # type: ignore[misc]
                return self.storage(source.table, column, dtype)
            path = self.graph.trait_path(computed)
            assert path is not None
            return self.storage(path.entity.table, computed.field, dtype)
        return storage_of(None, dtype or "string")

    def as_declared(self, x: exp.Expr, dtype: DataType, storage: Storage) -> exp.Expr:
        """A date-like column as its declared type sees it: a timestamp declared ``date``
        compares by its UTC date, whatever the session zone. On a warehouse without a TIME
        type a ``time`` value is text (see :meth:`from_text`), read here, where it is
        compared, as the dialect's canonical time text (NULL when it is no time)."""
        if dtype == "time" and not self.dialect.SUPPORTS_TIME:
            return self._parse(x, "time")
        if dtype != "date" or storage == "date":
            return x
        if storage == "aware":
            x = self.dialect.utc_wall_clock(x)
        return cast_to(x, "DATE")

    def same_kind(
        self, x: exp.Expr, storage: Storage, other: exp.Expr, other_storage: Storage
    ) -> tuple[exp.Expr, Storage, exp.Expr]:
        """Two timestamps compared with each other, of one kind: an instant against a
        zone-less value compares both as UTC wall-clock time, never through the session's
        zone. Returns ``x``, its storage now, and ``other``."""
        if (storage == "aware") == (other_storage == "aware"):
            return x, storage, other
        if storage == "aware":
            return self.dialect.utc_wall_clock(x), "naive", other
        return x, storage, self.dialect.utc_wall_clock(other)

    # -- sources ---------------------------------------------------------------------------

    def universe(self, include_anonymous: bool) -> str:
        """CTE of profiles with at least one identifier of a required type."""
        if include_anonymous in self._universes:
            return self._universes[include_anonymous]
        key = self.graph.profile.key
        types = [*UNIVERSE_IDENTIFIER_TYPES]
        if include_anonymous:
            types.append(ANONYMOUS_IDENTIFIER_TYPE)
        select = (
            exp.select(exp.alias_(col("i", key), PROFILE_ID, quoted=True, copy=False))
            .distinct()
            .from_(table(self.graph.profile.identifiers_table, "i"))
            .where(
                and_all(
                    [
                        exp.In(this=col("i", "type"), expressions=[string(t) for t in types]),
                        exp.Not(this=exp.Is(this=col("i", "value"), expression=exp.null())),
                        exp.Not(this=exp.Is(this=col("i", key), expression=exp.null())),
                    ]
                )
            )
        )
        name = self.add_cte("universe", select)
        self._universes[include_anonymous] = name
        return name

    def in_universe(self, profile: exp.Expr, include_anonymous: bool) -> exp.Expr:
        """``profile`` has an identifier of a universe type: a semi-join, no DISTINCT."""
        key = self.graph.profile.key
        types = [*UNIVERSE_IDENTIFIER_TYPES]
        if include_anonymous:
            types.append(ANONYMOUS_IDENTIFIER_TYPE)
        probe = (
            exp.select(exp.Literal.number(1))
            .from_(table(self.graph.profile.identifiers_table, "iu"))
            .where(
                and_all(
                    [
                        exp.EQ(this=col("iu", key), expression=profile.copy()),
                        exp.In(this=col("iu", "type"), expressions=[string(t) for t in types]),
                        exp.Not(this=exp.Is(this=col("iu", "value"), expression=exp.null())),
                    ]
                )
            )
        )
        return exp.Exists(this=probe)

    TRAITS = "la_traits"

    def trait(self, alias: str, name: str) -> exp.Expr:
        """The typed value of a trait in the traits CTE joined as ``alias``.

        A count (computed trait) is 0, not NULL, for a profile without a row anywhere."""
        self.traits_used.add(name)
        computed = self.graph.computed_traits.get(name)
        if computed is not None and computed.function in COUNTING:
            return exp.Coalesce(this=col(alias, name), expressions=[exp.Literal.number(0)])
        return col(alias, name)

    def traits_ctes(self) -> list[tuple[str, exp.Query]]:
        """The traits CTE(s), built last but placed first: one row per profile, typed.

        Computed and SQL traits get CTEs of their own, which the traits CTE joins next to
        the stored traits (compiler/computed.py)."""
        if not self.traits_used:
            return []
        derived = sorted(n for n in self.traits_used if n not in self.graph.profile.traits)
        if derived:
            from linked_audiences.compiler.computed import derived_traits_ctes

            return derived_traits_ctes(self, derived)
        return self.stored_traits_ctes(sorted(self.traits_used), self.TRAITS)

    def stored_traits_ctes(self, names: list[str], name: str) -> list[tuple[str, exp.Query]]:
        """The stored traits ``names`` as the CTE ``name``: one row per profile, typed."""
        profile = self.graph.profile
        if profile.traits_layout == "wide":
            select = exp.select(
                exp.alias_(col("t", profile.key), PROFILE_ID, quoted=True, copy=False),
                *(exp.alias_(col("t", n), n, quoted=True, copy=False) for n in names),
            ).from_(table(profile.traits_table, "t"))
            return [(name, select)]
        text_cte = f"{name}_text"
        pivot = (
            exp.select(
                exp.alias_(col("t", profile.key), PROFILE_ID, quoted=True, copy=False),
                *(
                    exp.alias_(
                        exp.Max(
                            this=exp.Case(
                                ifs=[
                                    exp.If(
                                        this=exp.EQ(this=col("t", "name"), expression=string(n)),
                                        true=col("t", "value"),
                                    )
                                ]
                            )
                        ),
                        n,
                        quoted=True,
                        copy=False,
                    )
                    for n in names
                ),
            )
            .from_(table(profile.traits_table, "t"))
            .where(exp.In(this=col("t", "name"), expressions=[string(n) for n in names]))
            .group_by(col("t", profile.key))
        )
        typed = exp.select(
            col("x", PROFILE_ID),
            *(
                exp.alias_(
                    self.from_text(col("x", n), profile.traits[n]), n, quoted=True, copy=False
                )
                for n in names
            ),
        ).from_(cte_ref(text_cte, "x"))
        return [(text_cte, pivot), (name, typed)]

    def from_text(self, text: exp.Expr, dtype: DataType) -> exp.Expr:
        """Parse text as ``dtype`` (long-layout traits, ISO strings); bad text is NULL."""
        if dtype == "string":
            return text
        if dtype == "boolean":
            lowered = exp.Lower(this=text)
            return exp.Case(
                ifs=[
                    exp.If(this=exp.EQ(this=lowered, expression=string("true")), true=exp.true()),
                    exp.If(
                        this=exp.EQ(this=lowered.copy(), expression=string("false")),
                        true=exp.false(),
                    ),
                ]
            )
        if dtype == "time" and not self.dialect.SUPPORTS_TIME:
            return text  # stays text, like a stored time column there; parsed where compared
        return self._parse(text, dtype)

    def _parse(self, text: exp.Expr, dtype: DataType) -> exp.Expr:
        cast_text = _with_utc_offset(text) if dtype == "timestamp" else None
        return self.dialect.parse_text(text, SQL_TYPES[dtype], _TEXT_PATTERNS[dtype], cast_text)

    def time_literal(self, iso: str) -> exp.Expr:
        """A time value (``HH:MM:SS[.ffffff]``) as a TIME literal, or, on a warehouse without
        a TIME type, as the same canonical text its stored time values are read as."""
        if self.dialect.SUPPORTS_TIME:
            return cast_to(string(iso), "TIME")
        return self._parse(string(iso), "time")

    def event_profile(
        self, source: EventSource, event_alias: str, graph_alias: str
    ) -> tuple[exp.Expr, list[exp.Join]]:
        """The profile key of an event row, and the join through the id graph if needed."""
        if source.profile_key is not None:
            return col(event_alias, source.profile_key), []
        assert source.segment_id is not None and self.graph.profile.id_graph_table
        join = exp.Join(
            this=table(self.graph.profile.id_graph_table, graph_alias),
            on=exp.EQ(
                this=col(graph_alias, "segment_id"), expression=col(event_alias, source.segment_id)
            ),
            kind="INNER",
        )
        return col(graph_alias, self.graph.profile.key), [join]


def _with_utc_offset(text: exp.Expr) -> exp.Expr:
    """ISO text with its offset written out: a date-only text is midnight UTC and a text
    without an offset is UTC. Cast as written, both would be read in the session's zone."""
    date_only = exp.RegexpLike(this=text.copy(), expression=string(ISO_DATE_PATTERN))
    has_offset = exp.RegexpLike(this=text.copy(), expression=string(_OFFSET_AT_END))
    return exp.Case(
        ifs=[
            exp.If(
                this=date_only,
                true=exp.Concat(expressions=[text.copy(), string(" 00:00:00+00:00")]),
            ),
            exp.If(this=has_offset, true=text.copy()),
        ],
        default=exp.Concat(expressions=[text.copy(), string("+00:00")]),
    )


_OFFSET_AT_END = "(Z|[+-][0-9]{2}:[0-9]{2})$"


__all__ = [
    "PROFILE_ID",
    "CompileContext",
    "Storage",
    "and_all",
    "col",
    "cte_ref",
    "ident",
    "named",
    "storage_of",
    "string",
    "table",
]
