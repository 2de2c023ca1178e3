"""The data graph: where profiles, entities and events live, and how they relate.

A graph is validated as a whole when it is built: slugs are unique, every name it uses
resolves, every ``join_on`` names the two entities it joins, and no chain of relationships
goes deeper than six levels (the profile is level 1). After that, the compiler can trust it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from linked_audiences import documents
from linked_audiences.accounts import Accounts
from linked_audiences.datatypes import DataType
from linked_audiences.errors import DefinitionError, Problem, json_path, path_part
from linked_audiences.graph_traits import ComputedTrait, SqlTrait, derived_type

MAX_DEPTH = 6
"""Deepest level a relationship may reach; the profile is level 1 (Segment's limit)."""

_SLUG = r"^[A-Za-z0-9_-]+$"
_QUALIFIED = re.compile(r"^\s*([A-Za-z0-9_-]+)\.([^\s=]+)\s*$")

#: Page and Screen calls carry their name in a `name` column; Segment exposes it as a property.
IMPLICIT_EVENT_PROPERTIES: dict[str, tuple[str, str]] = {
    "Page Viewed": ("page_name", "name"),
    "Screen Viewed": ("screen_name", "name"),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Profile(_Model):
    """Where profiles live: Segment's Profiles Sync tables or the user's own equivalents."""

    traits_table: str = Field(description="Table with the profile traits.")
    key: str = Field("canonical_segment_id", description="Profile key column in every table.")
    identifiers_table: str = Field(description="Table of (key, type, value) external ids.")
    identifiers_timestamp: str | None = Field(
        None, description="Column of the identifiers table that orders ids (most recent wins)."
    )
    traits: dict[str, DataType] = Field(default_factory=dict, description="Trait name → type.")
    traits_layout: Literal["wide", "long"] = Field(
        "wide",
        description="`wide`: one column per trait. `long`: Segment's `user_traits` with "
        "`name` and `value` text columns; values are cast to the declared trait type.",
    )
    id_graph_table: str | None = Field(
        None,
        description="Table (segment_id, canonical_segment_id) through which event rows that "
        "carry a `segment_id` reach their canonical profile.",
    )


Columns = Annotated[list[str], Field(min_length=1)]
"""A composite key or a list of equalities: one or more, in declared order."""


def as_list(value: str | list[str]) -> list[str]:
    """A one-column key (or one equality) as the one-item list a composite one is."""
    return [value] if isinstance(value, str) else list(value)


class Entity(_Model):
    """Any warehouse table a condition can filter on: accounts, cards, carts, …"""

    slug: str = Field(pattern=_SLUG)
    table: str
    primary_key: str | Columns = Field(
        description="The key column, or the key's columns in order (a composite key)."
    )
    name: str | None = None
    description: str | None = None
    columns: dict[str, DataType] = Field(
        default_factory=dict,
        description="Column name → type, for every column a condition may use.",
    )

    @property
    def key_columns(self) -> list[str]:
        """The primary key's columns, in declared order (one for a one-column key)."""
        return as_list(self.primary_key)


class ExternalIdLink(_Model):
    """Profile → entity through identifiers of ``type`` whose value equals ``join_key``."""

    type: str
    join_key: str


class TraitLink(_Model):
    """Profile → entity through the trait ``name`` equal to the entity column ``join_key``."""

    name: str
    join_key: str


class JunctionTable(_Model):
    """A many-to-many link table; its columns are join keys, never filters (as in Segment)."""

    table: str
    primary_key: str | Columns
    left_join_on: str | Columns = Field(
        description='"<left slug>.<column> = <junction column>" (a list for a composite key)'
    )
    right_join_on: str | Columns = Field(
        description='"<junction column> = <right slug>.<column>" (a list for a composite key)'
    )


class Relationship(_Model):
    """An edge of the graph. Its slug is unique, so it names one path from the profile."""

    slug: str = Field(pattern=_SLUG)
    related_entity: str
    name: str | None = None
    description: str | None = None
    external_id: ExternalIdLink | None = None
    trait: TraitLink | None = None
    join_on: str | Columns | None = Field(
        None,
        description='"<left slug>.<column> = <right slug>.<column>", or a list of such '
        "equalities (all must hold: a composite key)",
    )
    junction_table: JunctionTable | None = None
    relationships: list[Relationship] = Field(default_factory=list)


class EventProperty(_Model):
    """A property whose column has another name than the property."""

    type: DataType
    column: str


class EventSource(_Model):
    """One kind of event, read from its own table (or filtered out of a shared one)."""

    name: str
    table: str
    profile_key: str | None = Field(None, description="Column holding the profile key.")
    segment_id: str | None = Field(
        None, description="Column holding a segment_id, mapped through profile.id_graph_table."
    )
    timestamp: str = "timestamp"
    event_column: str | None = Field(
        None,
        description="For shared tables such as `tracks`: only rows whose column equals the "
        "event name belong to this event.",
    )
    properties: dict[str, DataType | EventProperty] = Field(default_factory=dict)

    def property_column(self, prop: str) -> tuple[str, DataType] | None:
        """The (column, type) behind a property name, or None when the event has no such."""
        declared = self.properties.get(prop)
        if isinstance(declared, EventProperty):
            return declared.column, declared.type
        implicit = IMPLICIT_EVENT_PROPERTIES.get(self.name)
        is_implicit = implicit is not None and implicit[0] == prop
        if declared is not None:
            # Declared as a plain type, page_name / screen_name still read the `name` column.
            return (implicit[1] if implicit and is_implicit else prop), declared
        if implicit and is_implicit:
            return implicit[1], "string"
        return None


@dataclass(frozen=True)
class ColumnRef:
    """``slug.column`` as written in ``join_on``."""

    slug: str
    column: str


@dataclass(frozen=True)
class RelationshipPath:
    """A relationship with everything the compiler needs to join it to its parent."""

    relationship: Relationship
    entity: Entity
    parent: RelationshipPath | None
    json_path: str

    @property
    def slug(self) -> str:
        return self.relationship.slug

    @property
    def depth(self) -> int:
        """Level of the related entity: a top-level relationship reaches level 2."""
        return 2 if self.parent is None else self.parent.depth + 1

    def ancestors(self) -> Iterator[RelationshipPath]:
        """This node, then its parent, up to the top-level relationship."""
        node: RelationshipPath | None = self
        while node is not None:
            yield node
            node = node.parent

    def join_pairs(self) -> list[tuple[str, str]]:
        """(parent column, child column) per equality of a ``join_on`` relationship."""
        assert self.relationship.join_on is not None and self.parent is not None
        pairs = []
        for text in as_list(self.relationship.join_on):
            left, right = parse_join_on(text)
            if left.slug == self.parent.entity.slug and right.slug == self.entity.slug:
                pairs.append((left.column, right.column))
            else:
                pairs.append((right.column, left.column))
        return pairs

    def junction_pairs(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """([(parent column, junction column)], [(junction column, child column)])."""
        junction = self.relationship.junction_table
        assert junction is not None
        left = [parse_junction_left(t) for t in as_list(junction.left_join_on)]
        right = [parse_junction_right(t) for t in as_list(junction.right_join_on)]
        return [(ref.column, j) for ref, j in left], [(j, ref.column) for j, ref in right]

    def parent_key_columns(self) -> list[str]:
        """The parent entity's columns this relationship joins on (a nested relationship)."""
        if self.relationship.junction_table is not None:
            return [p for p, _ in self.junction_pairs()[0]]
        return [p for p, _ in self.join_pairs()]


def parse_join_on(text: str) -> tuple[ColumnRef, ColumnRef]:
    """Split ``"a.col = b.col"``; raises ValueError on any other shape."""
    left, sep, right = text.partition("=")
    lm, rm = _QUALIFIED.match(left), _QUALIFIED.match(right)
    if not sep or lm is None or rm is None:
        raise ValueError(f"expected '<left slug>.<column> = <right slug>.<column>', got {text!r}")
    return ColumnRef(lm[1], lm[2]), ColumnRef(rm[1], rm[2])


def parse_junction_left(text: str) -> tuple[ColumnRef, str]:
    """Split a junction's ``left_join_on``: ``"<left slug>.<column> = <junction column>"``."""
    left, sep, right = (part.strip() for part in text.partition("="))
    match = _QUALIFIED.match(left)
    if not sep or match is None or not _is_bare(right):
        raise ValueError(f"expected '<left slug>.<column> = <junction column>', got {text!r}")
    return ColumnRef(match[1], match[2]), right


def parse_junction_right(text: str) -> tuple[str, ColumnRef]:
    """Split a junction's ``right_join_on``: ``"<junction column> = <right slug>.<column>"``."""
    left, sep, right = (part.strip() for part in text.partition("="))
    match = _QUALIFIED.match(right)
    if not sep or match is None or not _is_bare(left):
        raise ValueError(f"expected '<junction column> = <right slug>.<column>', got {text!r}")
    return left, ColumnRef(match[1], match[2])


def _is_bare(column: str) -> bool:
    return bool(column) and "." not in column and not any(c.isspace() for c in column)


class DataGraph(_Model):
    """The whole data graph. Building one validates it (see the module docstring)."""

    profile: Profile
    entities: list[Entity] = Field(default_factory=list)
    relationships: list[Relationship] = Field(default_factory=list)
    events: list[EventSource] = Field(default_factory=list)
    accounts: Accounts | None = Field(
        None, description="Accounts (groups) and their member profiles, for account audiences."
    )
    computed_traits: dict[str, ComputedTrait] = Field(
        default_factory=dict,
        description="Trait name → how it is aggregated from events or related entities.",
    )
    sql_traits: list[SqlTrait] = Field(
        default_factory=list, description="Queries whose output columns become traits."
    )

    _paths: dict[str, RelationshipPath] = PrivateAttr(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> DataGraph:
        """Read and validate a graph from ``.json``, ``.yaml`` or ``.yml``."""
        from linked_audiences.loading import load_model

        return load_model(cls, path)

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any, info: ValidationInfo) -> Any:
        """Plain JSON data (no NUL, no non-string keys), unless read from a file, which was."""
        if not (info.context or {}).get(documents.CHECKED):
            documents.check(data)
        return data

    @model_validator(mode="after")
    def _check(self) -> DataGraph:
        from linked_audiences.graph_validation import derived_trait_problems, graph_problems

        problems = [*name_problems(self), *graph_problems(self)]
        if problems:
            raise DefinitionError(problems)
        self._paths = dict(_walk(self))
        # Computed traits name relationship paths and are checked like conditions: after
        # the relationships themselves are known to be sound.
        problems = derived_trait_problems(self)
        if problems:
            raise DefinitionError(problems)
        return self

    # -- lookups the validator and compiler share -------------------------------------------

    def entity(self, slug: str) -> Entity | None:
        return next((e for e in self.entities if e.slug == slug), None)

    def event(self, name: str) -> EventSource | None:
        return next((e for e in self.events if e.name == name), None)

    def relationship(self, slug: str) -> RelationshipPath | None:
        """The path that a relationship slug names, or None when unknown."""
        return self._paths.get(slug)

    def relationship_paths(self) -> list[RelationshipPath]:
        return list(self._paths.values())

    def sql_trait(self, name: str) -> SqlTrait | None:
        """The SQL trait whose query outputs trait ``name``, or None."""
        return next((s for s in self.sql_traits if name in s.traits), None)

    def trait_path(self, trait: ComputedTrait) -> RelationshipPath | None:
        """The last level of a relationship trait's dotted path, when the path is sound."""
        node: RelationshipPath | None = None
        for slug in trait.slugs:
            child = self._paths.get(slug)
            if child is None or child.parent is not node:
                return None
            node = child
        return node

    def trait_type(self, name: str) -> DataType | None:
        """The type of a stored, computed or SQL trait; None when no trait has the name."""
        if name in self.profile.traits:
            return self.profile.traits[name]
        computed = self.computed_traits.get(name)
        if computed is not None:
            return derived_type(computed, self._field_type(computed))
        sql = self.sql_trait(name)
        return sql.traits[name] if sql is not None else None

    def trait_names(self) -> list[str]:
        """Every trait a condition may read: stored, computed, then SQL traits."""
        return [
            *self.profile.traits,
            *self.computed_traits,
            *(n for s in self.sql_traits for n in s.traits),
        ]

    def _field_type(self, trait: ComputedTrait) -> DataType | None:
        if trait.field is None:
            return None
        if trait.event is not None:
            source = self.event(trait.event)
            resolved = source.property_column(trait.field) if source else None
            return resolved[1] if resolved else None
        path = self.trait_path(trait)
        return path.entity.columns.get(trait.field) if path else None


def _walk(graph: DataGraph) -> Iterator[tuple[str, RelationshipPath]]:
    """Every relationship of a *valid* graph with its parent chain, depth-first."""

    def visit(
        rels: list[Relationship], parent: RelationshipPath | None, base: str
    ) -> Iterator[tuple[str, RelationshipPath]]:
        for i, rel in enumerate(rels):
            entity = graph.entity(rel.related_entity)
            assert entity is not None
            node = RelationshipPath(rel, entity, parent, f"{base}.relationships[{i}]")
            yield rel.slug, node
            yield from visit(rel.relationships, node, node.json_path)

    yield from visit(graph.relationships, None, "$")


#: Characters no table or column name may hold: controls (NUL, newline, tab, …), line
#: separators and lone surrogates. Any other character is fine inside a quoted identifier.
_BAD_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def name_rule(name: str) -> str | None:
    """Why ``name`` cannot be a column (or a table part, trait or property), or None."""
    if not name.strip():
        return "a name cannot be empty or only whitespace"
    if name != name.strip():
        return f"{name!r} starts or ends with whitespace"
    if _BAD_NAME.search(name):
        return f"{name!r} holds a control character"
    return None


def table_rule(name: str) -> str | None:
    """Why ``name`` is not ``table``, ``schema.table`` or ``catalog.schema.table``, or None."""
    parts = name.split(".")
    if len(parts) > 3:
        return f"{name!r} has {len(parts)} parts; a table is table, schema.table or db.schema.table"
    for part in parts:
        rule = name_rule(part)
        if rule:
            return f"table {name!r}: {rule}" if len(parts) > 1 else rule
    return None


def name_problems(graph: DataGraph) -> Iterator[Problem]:
    """Table, column, trait and property names the compiler can quote, each with its path."""
    checks: list[tuple[str, str | None, bool]] = []  # (path, name, is a table)
    p = graph.profile
    checks += [("$.profile.traits_table", p.traits_table, True)]
    checks += [("$.profile.identifiers_table", p.identifiers_table, True)]
    checks += [("$.profile.id_graph_table", p.id_graph_table, True)]
    checks += [("$.profile.key", p.key, False)]
    checks += [("$.profile.identifiers_timestamp", p.identifiers_timestamp, False)]
    checks += [(f"$.profile.traits{path_part(t)}", t, False) for t in p.traits]
    checks += [(f"$.computed_traits{path_part(t)}", t, False) for t in graph.computed_traits]
    for i, sql in enumerate(graph.sql_traits):
        checks += [(f"$.sql_traits[{i}].key", sql.key, False)]
        checks += [(f"$.sql_traits[{i}].traits{path_part(t)}", t, False) for t in sql.traits]
    for i, e in enumerate(graph.entities):
        base = f"$.entities[{i}]"
        checks += [(f"{base}.table", e.table, True)]
        checks += [(f"{base}.primary_key", c, False) for c in e.key_columns]
        checks += [(f"{base}.columns{path_part(c)}", c, False) for c in e.columns]
    for path, _, rel, _ in relationship_json_paths(graph.relationships):
        link = rel.external_id or rel.trait
        if link is not None:
            checks.append(
                (
                    f"{path}.{'external_id' if rel.external_id else 'trait'}.join_key",
                    link.join_key,
                    False,
                )
            )
        if rel.junction_table is not None:
            j = rel.junction_table
            checks += [(f"{path}.junction_table.table", j.table, True)]
            checks += [
                (f"{path}.junction_table.primary_key", c, False) for c in as_list(j.primary_key)
            ]
    for i, ev in enumerate(graph.events):
        base = f"$.events[{i}]"
        checks += [(f"{base}.table", ev.table, True), (f"{base}.timestamp", ev.timestamp, False)]
        for field in ("profile_key", "segment_id", "event_column"):
            checks.append((f"{base}.{field}", getattr(ev, field), False))
        for prop, declared in ev.properties.items():
            where = f"{base}.properties{path_part(prop)}"
            checks.append((where, prop, False))
            if isinstance(declared, EventProperty):
                checks.append((f"{where}.column", declared.column, False))
    if graph.accounts is not None:
        a = graph.accounts
        checks += [("$.accounts.traits_table", a.traits_table, True)]
        checks += [("$.accounts.memberships_table", a.memberships_table, True)]
        checks += [("$.accounts.key", a.key, False)]
        checks += [(f"$.accounts.traits{path_part(t)}", t, False) for t in a.traits]
        for field in ("account_key", "profile_key"):
            checks.append((f"$.accounts.memberships.{field}", getattr(a.memberships, field), False))
    for path, text, is_table in checks:
        rule = None if text is None else (table_rule(text) if is_table else name_rule(text))
        if rule:
            yield Problem(path, rule)


def relationship_json_paths(
    rels: list[Relationship], base: str = "$", depth: int = 2
) -> Iterator[tuple[str, int, Relationship, Relationship | None]]:
    """(json path, level, relationship, parent) for every relationship, even in an invalid graph."""

    def visit(
        items: list[Relationship], prefix: str, level: int, parent: Relationship | None
    ) -> Iterator[tuple[str, int, Relationship, Relationship | None]]:
        for i, rel in enumerate(items):
            path = f"{prefix}.relationships[{i}]"
            yield path, level, rel, parent
            yield from visit(rel.relationships, path, level + 1, rel)

    yield from visit(rels, base, depth, None)


__all__ = [
    "MAX_DEPTH",
    "ColumnRef",
    "ComputedTrait",
    "DataGraph",
    "Entity",
    "EventProperty",
    "EventSource",
    "ExternalIdLink",
    "JunctionTable",
    "Profile",
    "Relationship",
    "RelationshipPath",
    "SqlTrait",
    "TraitLink",
    "as_list",
    "json_path",
    "parse_join_on",
    "parse_junction_left",
    "parse_junction_right",
]
