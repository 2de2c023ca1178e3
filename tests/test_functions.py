"""Every SQL function the compiler emits exists on the warehouse it is emitted for.

The stand-ins cannot prove this: PostgreSQL runs the Redshift SQL and accepts MAKE_DATE, which
Redshift does not have. So each warehouse's documented function names are kept as data in
``tests/functions/<dialect>.txt`` (one upper-case name a line, ``#`` comments naming the
documentation page), and every function call in the golden SQL (and in SQL compiled from
generated scenarios) must be one of them.

What counts as a function call, in a statement parsed with sqlglot in the warehouse's dialect:

* every ``exp.Anonymous`` node (a call sqlglot does not know): its own name;
* every other ``exp.Func`` node whose SQL, rendered alone in that dialect, starts with
  ``NAME(``: that NAME, which is exactly how the warehouse receives it (the golden test asserts
  that re-rendering a parsed golden statement gives it back unchanged);
* not a ``Func`` that renders without a call of its own: operators and predicates (``AND``,
  ``~``, ``||``, ``IS NULL``), ``CASE`` and its ``WHEN … THEN`` branches (``exp.If`` under
  ``exp.Case``, which would render alone as ``IF(…)``/``IFF(…)``), ``INTERVAL``; the calls
  inside them are visited on their own;
* not ``CAST(x AS type)`` nor ``EXISTS(subquery)``: standard syntax on every warehouse
  (whether the type exists is the stand-in tests' business). ``TRY_CAST``/``SAFE_CAST`` and
  ``EXTRACT`` *are* checked: they exist on some warehouses only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

import linked_audiences as la
from linked_audiences.dialects import DIALECTS, get_dialect

from .conftest import ROOT
from .reference.strategies import Scenario, scenarios

FUNCTIONS = ROOT / "tests" / "functions"
GOLDEN = ROOT / "tests" / "golden"
#: Call syntax every warehouse shares; see the module docstring.
NOT_CHECKED = frozenset({"CAST", "EXISTS"})
_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@cache
def documented(dialect: str) -> frozenset[str]:
    """The function names listed in ``tests/functions/<dialect>.txt``."""
    lines = (FUNCTIONS / f"{dialect}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(s for s in (line.strip() for line in lines) if s and not s.startswith("#"))


def called_functions(sql: str, sqlglot_dialect: str) -> Iterator[str]:
    """The upper-case name of every function call in ``sql`` (rules: module docstring)."""
    for statement in sqlglot.parse(sql, read=sqlglot_dialect):
        if statement is None:
            continue
        for node in statement.find_all(exp.Func):
            if isinstance(node, exp.Anonymous):
                yield node.name.upper()
                continue
            if isinstance(node, exp.If) and isinstance(node.parent, exp.Case):
                continue
            match = _CALL.match(node.sql(dialect=sqlglot_dialect))
            if match and match.group(1).upper() not in NOT_CHECKED:
                yield match.group(1).upper()


def missing_functions(sql: str, dialect: str) -> set[str]:
    """Functions ``sql`` calls that ``dialect``'s list does not have."""
    sqlglot_dialect = get_dialect(dialect).sqlglot_dialect
    return set(called_functions(sql, sqlglot_dialect)) - documented(dialect)


def golden_files() -> list[Path]:
    """tests/golden/<dialect>/*.sql and any deeper …/<dialect>/*.sql (tests/golden/runs/…)."""
    return sorted(p for p in GOLDEN.rglob("*.sql") if p.parent.name in DIALECTS)


def test_every_dialect_has_a_function_list() -> None:
    for dialect in DIALECTS:
        path = FUNCTIONS / f"{dialect}.txt"
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("#"), f"{path.name}: first line names the documentation"
        names = [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]
        assert names, path.name
        bad = [n for n in names if not _NAME.match(n)]
        assert not bad, f"{path.name}: not upper-case function names: {bad}"
        repeated = sorted({n for n in names if names.count(n) > 1})
        assert not repeated, f"{path.name}: listed twice: {repeated}"


def test_golden_files_exist_for_every_dialect() -> None:
    assert {p.parent.name for p in golden_files()} == set(DIALECTS)


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: str(p.relative_to(GOLDEN)))
def test_golden_sql_calls_only_documented_functions(path: Path) -> None:
    dialect = path.parent.name
    missing = missing_functions(path.read_text(encoding="utf-8"), dialect)
    assert not missing, (
        f"{path.relative_to(ROOT)} calls {', '.join(sorted(missing))}, which {dialect} does "
        f"not have (not in tests/functions/{dialect}.txt)"
    )


def test_the_check_catches_a_missing_function() -> None:
    """MAKE_DATE is a PostgreSQL function and not a Redshift one: the check must tell."""
    sql = "SELECT MAKE_DATE(2024, 1, 1), CAST('1' AS INT), CASE WHEN 1 = 1 THEN 1 END"
    assert missing_functions(sql, "postgres") == set()
    assert missing_functions(sql, "redshift") == {"MAKE_DATE"}
    assert missing_functions("SELECT TRY_CAST('1' AS INT)", "redshift") == {"TRY_CAST"}
    assert missing_functions("SELECT IF(x > 1, 1, 2) FROM t", "snowflake") == set()  # IFF
    assert missing_functions("SELECT REGEXP_LIKE(x, 'a') FROM t", "bigquery") == set()


# -- SQL compiled from generated scenarios: operators the example audiences do not use --------

_TIMESTAMP_KINDS = st.sampled_from([None, "TIMESTAMP", "TIMESTAMPTZ"])


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios(), timestamp_kind=_TIMESTAMP_KINDS)
def test_compiled_sql_calls_only_documented_functions(
    scenario: Scenario, timestamp_kind: str | None
) -> None:
    """Every operator and type the generator draws, in every dialect; the catalog sometimes
    reports date columns as instants and timestamps as zone-less, which takes the compiler
    through each dialect's UTC wall-clock spelling."""
    column_types = None
    if timestamp_kind is not None:
        column_types = {
            table: {
                c: {"date": "TIMESTAMPTZ", "timestamp": timestamp_kind}.get(t, t.upper())
                for c, t in columns.items()
            }
            for table, columns in scenario.column_types.items()
        }
    for dialect in DIALECTS:
        compiled = la.compile(
            scenario.audience,
            scenario.graph,
            dialect=dialect,
            as_of=scenario.as_of,
            audiences=scenario.audiences,
            column_types=column_types,
        )
        for sql in (compiled.profiles_sql, compiled.entities_sql):
            missing = missing_functions(sql, dialect)
            assert not missing, f"{dialect} has no {', '.join(sorted(missing))}:\n{sql}"


# -- Every operator on every type, deterministic -----------------------------------------------

_VALUES: dict[str, object] = {
    "string": "a",
    "number": 1,
    "boolean": True,
    "date": "2024-01-31",
    "time": "12:30:00",
    "timestamp": "2024-01-31T12:00:00Z",
}


def _value(operator: str, dtype: str) -> object:
    if operator in ("within_last", "within_next", "before_last", "after_next"):
        return 7
    if operator in ("before_date", "after_date"):
        return "2024-01-31"
    if operator == "equals_any_of":
        return [_VALUES[dtype], _VALUES[dtype]]
    if operator == "contains_any_of":
        return ["a", "b"]
    return _VALUES[dtype]


def _graph(layout: str) -> la.DataGraph:
    """One trait of every type (``t_<type>``) in a ``layout`` traits table."""
    return la.DataGraph.model_validate(
        {
            "profile": {
                "traits_table": "s.traits",
                "traits_layout": layout,
                "key": "pid",
                "identifiers_table": "s.identifiers",
                "traits": {f"t_{dtype}": dtype for dtype in _VALUES},
            }
        }
    )


def _every_condition() -> list[tuple[str, str, dict[str, object]]]:
    """(operator, type, condition) for every operator and every type it applies to, with a
    value, and with a reference to another trait where the operator takes one."""
    from linked_audiences.validation import OPERATOR_TYPES, REFERENCE_OPERATORS

    out = []
    for operator, types in sorted(OPERATOR_TYPES.items()):
        for dtype in sorted(types):
            node: dict[str, object] = {"type": "trait", "trait": f"t_{dtype}", "operator": operator}
            if operator not in ("exists", "not_exists"):
                node["value"] = _value(operator, dtype)
            out.append((operator, dtype, node))
            if operator in REFERENCE_OPERATORS.get(dtype, ()):
                ref = {"type": "trait", "trait": f"t_{dtype}", "operator": operator}
                out.append((operator, dtype, ref | {"reference": {"trait": f"t_{dtype}"}}))
    return out


@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_operator_calls_only_documented_functions(layout: str, dialect: str) -> None:
    """Each operator on each type, on long (parsed from text) and wide
    (typed columns) traits; wide traits also as zone-less timestamps and date-declared
    instants, which takes each dialect through its UTC wall-clock spelling."""
    graph = _graph(layout)
    catalogs: list[dict[str, dict[str, str]] | None] = [None]
    if layout == "wide":
        catalogs.append({"s.traits": {"t_date": "TIMESTAMPTZ", "t_timestamp": "TIMESTAMP"}})
    for operator, dtype, node in _every_condition():
        audience = la.Audience.model_validate({"key": "a", "name": "a", "condition": node})
        for column_types in catalogs:
            compiled = la.compile(
                audience,
                graph,
                dialect=dialect,
                as_of="2024-02-01T00:00:00Z",
                column_types=column_types,
            )
            for sql in (compiled.profiles_sql, compiled.entities_sql):
                missing = missing_functions(sql, dialect)
                assert not missing, (
                    f"{operator} on a {layout} {dtype} trait: {dialect} has no "
                    f"{', '.join(sorted(missing))}:\n{sql}"
                )


# -- The SQL a dialect builds for runs ------------------------------------------------------------


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_run_sql_calls_only_documented_functions(dialect: str) -> None:
    """The run lock, the database-file lookup and the JSON payload builders of every
    dialect (every warehouse runs audiences)."""
    warehouse = get_dialect(dialect)
    value, order = exp.column("v", "t"), exp.column("k", "t")
    payload = warehouse.json_object([("a", value), ("b", order.copy())])
    pieces: list[exp.Expr | None] = [
        warehouse.run_lock("key"),
        warehouse.run_unlock("key"),
        warehouse.database_file(),
        exp.select(warehouse.json_text(payload)).from_("t"),
        exp.select(warehouse.json_text(warehouse.json_array_agg(payload, order))).from_("t"),
        exp.select(warehouse.empty_json_array()),
        exp.select(warehouse.payload_value(value.copy(), "timestamp")).from_("t"),
    ]
    for piece in pieces:
        if piece is None:
            continue
        sql = warehouse.render(piece)
        missing = missing_functions(sql, dialect)
        assert not missing, f"{dialect} has no {', '.join(sorted(missing))}:\n{sql}"
