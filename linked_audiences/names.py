"""Graph names as the warehouse stores them.

The SQL quotes every identifier, so it names exactly what it says; but a warehouse may store
a name in another case than the graph writes it (Snowflake keeps unquoted names upper-case:
a graph's ``prod.orders`` is ``PROD.ORDERS`` there). The catalog check resolves each graph
name (an exact match first, then a unique case-insensitive one); :class:`StoredNames` then
rewrites the built SQL so it names the stored spelling. Only references to graph tables
change: the library's own tables, aliases and output columns keep their names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp


@dataclass(frozen=True)
class StoredNames:
    #: Graph table name → the stored spelling of each of its parts (same number of parts).
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Graph table name → graph column name → stored column name.
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tables or self.columns)

    def apply(self, expression: exp.Expr) -> exp.Expr:
        """``expression`` (changed in place) naming graph tables and their columns as stored.

        A column ``alias.name`` is a graph table's when ``alias`` is bound to that table in
        the FROM or a JOIN of the nearest enclosing SELECT that binds it."""
        if not self:
            return expression
        graph_tables = {
            id(node): name
            for node in expression.find_all(exp.Table)
            if (name := ".".join(part.name for part in node.parts)) in self._known
        }
        if not graph_tables:
            return expression
        for column in list(expression.find_all(exp.Column)):
            if not column.table:
                continue
            source = _source(column)
            graph = graph_tables.get(id(source)) if source is not None else None
            stored = self.columns.get(graph or "", {}).get(column.name)
            if stored is not None:
                column.set("this", exp.to_identifier(stored, quoted=True))
        for node in expression.find_all(exp.Table):
            graph = graph_tables.get(id(node))
            if graph is None or graph not in self.tables:
                continue
            parts = self.tables[graph]
            keys = ("catalog", "db", "this")[-len(parts) :]
            for key, part in zip(keys, parts, strict=True):
                node.set(key, exp.to_identifier(part, quoted=True))
        return expression

    @property
    def _known(self) -> set[str]:
        return set(self.tables) | set(self.columns)


def _source(column: exp.Column) -> exp.Table | None:
    """The table ``column``'s qualifier names, in the nearest enclosing SELECT binding it."""
    alias = column.table
    node = column.parent
    while node is not None:
        if isinstance(node, exp.Select):
            for bound in _bound(node):
                if bound.alias_or_name == alias:  # a subquery or CTE of that name: not ours
                    return bound if isinstance(bound, exp.Table) else None
        node = node.parent
    return None


def _bound(select: exp.Select) -> list[exp.Expr]:
    """What a SELECT's FROM and JOINs bind (tables, subqueries)."""
    found: list[exp.Expr] = []
    source = select.args.get("from") or select.args.get("from_")
    if source is not None:
        found.append(source.this)
    found += [join.this for join in select.args.get("joins") or []]
    return found
