"""Does the data graph match the warehouse? (``linked-audiences check``)

A graph names tables and columns and declares each column's type. When the warehouse
disagrees — a table was renamed, a column dropped, ``balance`` became a BOOLEAN — a query
either fails deep inside a run or, worse, a warehouse casts silently and answers wrongly.
:func:`check_graph` reads the warehouse's catalog (``information_schema.columns``) once and
reports every such mismatch with the graph's JSON path, before any audience runs.

Names are resolved the way the warehouse stores them: an exact match first, then a unique
case-insensitive one; two case-insensitive candidates are ambiguous and reported.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.expressions.datatypes import DType

from linked_audiences.compiler import CompiledAudience, compile
from linked_audiences.conditions import Audience
from linked_audiences.errors import DefinitionError, Problem
from linked_audiences.graph import (
    DataGraph,
    EventProperty,
    Relationship,
    as_list,
    parse_join_on,
    parse_junction_left,
    parse_junction_right,
)
from linked_audiences.names import StoredNames
from linked_audiences.warehouse import Warehouse

__all__ = ["CatalogMismatch", "GraphCatalog", "check_graph", "inspect_graph"]

T = DType
_Col = tuple[str, str, "str | None"]  # (JSON path, column, declared type or None)
#: The warehouse types each declared type accepts. ``timestamp`` accepts a DATE column (a date
#: is its midnight, UTC); ``date`` does not accept a timestamp column, because a date compares
#: with date values (``equals`` would silently miss every row that is not at midnight).
_ACCEPTS: dict[str, frozenset[DType]] = {
    "string": frozenset(exp.DataType.TEXT_TYPES | {T.UUID, T.ENUM, T.NAME}),
    "number": frozenset(exp.DataType.NUMERIC_TYPES - {T.BOOLEAN, T.BIT}),
    "boolean": frozenset({T.BOOLEAN}),
    "date": frozenset({T.DATE, T.DATE32}),
    "time": frozenset({T.TIME, T.TIMETZ}),
    "timestamp": frozenset(
        {
            T.TIMESTAMP,
            T.TIMESTAMPTZ,
            T.TIMESTAMPLTZ,
            T.TIMESTAMPNTZ,
            T.TIMESTAMP_S,
            T.TIMESTAMP_MS,
            T.TIMESTAMP_NS,
            T.DATETIME,
            T.DATE,
            T.DATE32,
        }
    ),
}


class CatalogMismatch(DefinitionError):
    """The data graph names tables, columns or types the warehouse does not have."""


@dataclass(frozen=True)
class _Table:
    catalog: str
    schema: str
    name: str
    columns: dict[str, str]  # column name → the warehouse's type text


@dataclass(frozen=True)
class GraphCatalog:
    """What one read of the warehouse's catalog says about a graph."""

    #: One per mismatch between the graph and the warehouse (empty when they match).
    problems: list[Problem]
    #: Graph table name → column → the warehouse's type text, for every table found: the
    #: compiler picks literals of each date-like column's stored kind from it.
    column_types: dict[str, dict[str, str]]
    #: Graph names the warehouse stores in another case, as it stores them (the compiler
    #: rewrites its SQL with them).
    names: StoredNames = field(default_factory=StoredNames)

    def compile(
        self,
        audience: Audience,
        graph: DataGraph,
        dialect: str,
        *,
        as_of: datetime | str | None,
        audiences: Sequence[Audience],
    ) -> CompiledAudience:
        """``audience`` compiled with what this read of the catalog says: each date-like
        column's stored kind, each graph name's stored spelling."""
        return compile(
            audience,
            graph,
            dialect=dialect,
            as_of=as_of,
            audiences=audiences,
            column_types=self.column_types,
            names=self.names,
        )


def inspect_graph(graph: DataGraph, warehouse: Warehouse) -> GraphCatalog:
    """Every table and column the graph uses, and each declared type, against the warehouse's
    catalog (one query), plus the column types found."""
    catalog = _Catalog(warehouse, _table_names(graph))
    problems: list[Problem] = []
    column_types: dict[str, dict[str, str]] = {}
    names = StoredNames()
    for path, table_name, columns in _uses(graph):
        found = catalog.table(table_name)
        if isinstance(found, str):
            problems.append(Problem(path, found))
            continue
        parts = table_name.split(".")
        stored = (found.catalog, found.schema, found.name)[-len(parts) :]
        if list(stored) != parts:
            names.tables[table_name] = stored
        types = column_types.setdefault(table_name, {})
        for column_path, column, declared in columns:
            problems.extend(_check_column(found, column_path, column, declared, catalog.dialect))
            name = _resolve(column, list(found.columns))
            if isinstance(name, str):
                types[column] = found.columns[name]
                if name != column:
                    names.columns.setdefault(table_name, {})[column] = name
    return GraphCatalog(problems, column_types, names)


def check_graph(graph: DataGraph, warehouse: Warehouse) -> list[Problem]:
    """One :class:`Problem` per mismatch between the graph and the warehouse's catalog."""
    return inspect_graph(graph, warehouse).problems


def _check_column(
    table: _Table, path: str, column: str, declared: str | None, dialect: str
) -> Iterator[Problem]:
    where = f"{table.schema}.{table.name}"
    name = _resolve(column, list(table.columns))
    if name is None:
        yield Problem(path, f"no column {column!r} in {where}")
        return
    if isinstance(name, list):
        yield Problem(path, f"column {column!r} is ambiguous in {where}: {', '.join(name)}")
        return
    if declared is None:
        return
    actual = table.columns[name]
    kind = _type_of(actual, dialect)
    if kind is not None and kind not in _ACCEPTS[declared]:
        yield Problem(path, f"declared {declared}, but {where}.{name} is {actual}")


def _type_of(text: str, dialect: str) -> DType | None:
    """The sqlglot type of a catalog type text; None when unknown (then nothing is claimed)."""
    try:
        built = exp.DataType.build(text, dialect=dialect)
    except (ParseError, ValueError):
        return None
    return None if built.this in (T.USERDEFINED, T.UNKNOWN) else built.this


def _resolve(name: str, candidates: list[str]) -> str | list[str] | None:
    """Exact match, else the unique case-insensitive one; a list when that is ambiguous."""
    if name in candidates:
        return name
    folded = [c for c in candidates if c.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    return folded or None


# --- what the graph uses ------------------------------------------------------------------------

_Use = tuple[str, str, list[_Col]]  # (path, table, [(path, column, type)])


def _uses(graph: DataGraph) -> Iterator[_Use]:
    profile = graph.profile
    key = profile.key
    if profile.traits_layout == "long":
        traits: list[_Col] = [
            ("$.profile.key", key, None),
            ("$.profile.traits_layout", "name", "string"),
            ("$.profile.traits_layout", "value", "string"),
        ]
    else:
        traits = [("$.profile.key", key, None)] + [
            (f"$.profile.traits.{name}", name, kind) for name, kind in profile.traits.items()
        ]
    yield "$.profile.traits_table", profile.traits_table, traits
    ids: list[_Col] = [
        ("$.profile.key", key, None),
        ("$.profile.identifiers_table", "type", None),
        ("$.profile.identifiers_table", "value", None),
    ]
    if profile.identifiers_timestamp:
        ids.append(("$.profile.identifiers_timestamp", profile.identifiers_timestamp, None))
    yield "$.profile.identifiers_table", profile.identifiers_table, ids
    if profile.id_graph_table and any(e.segment_id for e in graph.events):
        yield (
            "$.profile.id_graph_table",
            profile.id_graph_table,
            [("$.profile.id_graph_table", "segment_id", None), ("$.profile.key", key, None)],
        )
    entity_cols: dict[str, list[_Col]] = {}
    for i, entity in enumerate(graph.entities):
        base = f"$.entities[{i}]"
        cols: list[_Col] = [(f"{base}.primary_key", c, None) for c in entity.key_columns]
        cols += [(f"{base}.columns.{c}", c, kind) for c, kind in entity.columns.items()]
        entity_cols[entity.slug] = cols
    slugs = {e.slug: i for i, e in enumerate(graph.entities)}
    for rel_path, rel in _relationships(graph.relationships, "$.relationships"):
        yield from _relationship_uses(graph, rel_path, rel, entity_cols, slugs)
    for i, entity in enumerate(graph.entities):
        yield f"$.entities[{i}].table", entity.table, entity_cols[entity.slug]
    for i, event in enumerate(graph.events):
        base = f"$.events[{i}]"
        cols = [(f"{base}.timestamp", event.timestamp, "timestamp")]
        for attribute in ("profile_key", "segment_id", "event_column"):
            value = getattr(event, attribute)
            if value:
                cols.append((f"{base}.{attribute}", value, None))
        for prop, declared in event.properties.items():
            if isinstance(declared, EventProperty):
                cols.append((f"{base}.properties.{prop}", declared.column, declared.type))
            else:
                cols.append((f"{base}.properties.{prop}", prop, declared))
        yield f"{base}.table", event.table, cols


def _relationships(rels: list[Relationship], path: str) -> Iterator[tuple[str, Relationship]]:
    for i, rel in enumerate(rels):
        yield f"{path}[{i}]", rel
        yield from _relationships(rel.relationships, f"{path}[{i}].relationships")


def _relationship_uses(
    graph: DataGraph,
    path: str,
    rel: Relationship,
    entity_cols: dict[str, list[_Col]],
    slugs: dict[str, int],
) -> Iterator[_Use]:
    """Columns a relationship joins on: added to its entities' lists (checked with their
    tables); a junction table is a table of its own."""

    def add(slug: str, where: str, column: str) -> None:
        if slug in entity_cols:
            entity_cols[slug].append((where, column, None))

    if rel.external_id is not None:
        add(rel.related_entity, f"{path}.external_id.join_key", rel.external_id.join_key)
    if rel.trait is not None:
        add(rel.related_entity, f"{path}.trait.join_key", rel.trait.join_key)
    if rel.join_on is not None:
        for text in as_list(rel.join_on):
            for ref in parse_join_on(text):
                add(ref.slug, f"{path}.join_on", ref.column)
    junction = rel.junction_table
    if junction is not None:
        own: list[_Col] = []
        for text in as_list(junction.left_join_on):
            left_ref, left = parse_junction_left(text)
            add(left_ref.slug, f"{path}.junction_table.left_join_on", left_ref.column)
            own.append((f"{path}.junction_table.left_join_on", left, None))
        for text in as_list(junction.right_join_on):
            right, right_ref = parse_junction_right(text)
            add(right_ref.slug, f"{path}.junction_table.right_join_on", right_ref.column)
            own.append((f"{path}.junction_table.right_join_on", right, None))
        yield f"{path}.junction_table.table", junction.table, own


def _table_names(graph: DataGraph) -> set[str]:
    return {table for _, table, _ in _uses(graph)}


# --- the warehouse's catalog --------------------------------------------------------------------


class _Catalog:
    """``information_schema.columns`` of the tables a graph names (one query)."""

    def __init__(self, warehouse: Warehouse, names: set[str]) -> None:
        self.dialect = warehouse.dialect.sqlglot_dialect
        rows, self.current_schema = warehouse.catalog(names)
        self.tables: dict[tuple[str, str, str], _Table] = {}
        for cat, schema, table, column, data_type in rows:
            entry = self.tables.setdefault(
                (str(cat), str(schema), str(table)), _Table(str(cat), str(schema), str(table), {})
            )
            entry.columns[str(column)] = str(data_type)

    def table(self, name: str) -> _Table | str:
        """The table a graph name means, or a message saying why there is none."""
        parts = name.split(".")
        named = list(zip((2, 1, 0), reversed(parts), strict=False))
        # Only tables the whole name can mean (every part, case aside): an exact ``account``
        # in another schema must not hide ``APP.ACCOUNT`` from ``app.account``.
        keys = [k for k in self.tables if all(k[i].lower() == p.lower() for i, p in named)]
        for index, part in named:
            narrowed = self._narrow(keys, index, part)
            if isinstance(narrowed, str):
                return narrowed.format(name=name)
            keys = narrowed
        if len(parts) == 1:
            keys = [k for k in keys if k[1] == self.current_schema] or keys
        if not keys:
            return f"no table {name!r} in the warehouse"
        if len(keys) > 1:
            choices = ", ".join(".".join(k[1:]) for k in keys)
            return f"table {name!r} is ambiguous in the warehouse: {choices}"
        return self.tables[keys[0]]

    @staticmethod
    def _narrow(
        keys: list[tuple[str, str, str]], index: int, part: str
    ) -> list[tuple[str, str, str]] | str:
        exact = [k for k in keys if k[index] == part]
        if exact:
            return exact
        folded = [k for k in keys if k[index].lower() == part.lower()]
        if len({k[index] for k in folded}) > 1:
            spellings = ", ".join(sorted({k[index] for k in folded}))
            return f"{{name!r}}: {part!r} is ambiguous in the warehouse: {spellings}"
        return folded


def raise_on_mismatch(
    graph: DataGraph, warehouse: Warehouse, source: str | None = None
) -> GraphCatalog:
    """Raise :class:`CatalogMismatch` (every problem) unless the graph matches the warehouse;
    else return what the catalog says (column types, stored names)."""
    found = inspect_graph(graph, warehouse)
    if found.problems:
        raise CatalogMismatch([Problem(p.path, p.rule, source) for p in found.problems])
    return found
