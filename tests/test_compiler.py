"""Compiler behaviour that goldens do not show: values stay values, API contracts, errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlglot
from sqlglot import exp

import linked_audiences as la
from linked_audiences.dialects import DIALECTS
from linked_audiences.loading import validate_data

HOSTILE = [
    "x' OR '1'='1",
    "\\';--",
    "'; DROP TABLE prod.account; --",
    "100%_off\\",
    "Zoë 李 \u202e",
    '"quoted" `tick` $$dollar$$',
    "",
]
AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _audience(value: str) -> la.Audience:
    """Every string operator, at audience level, in an event's where and in an entity's where."""
    return validate_data(
        la.Audience,
        {
            "key": "k",
            "name": "n",
            "condition": {
                "type": "group",
                "operator": "or",
                "conditions": [
                    {"type": "trait", "trait": "first_name", "operator": op, "value": value}
                    for op in (
                        "equals",
                        "not_equals",
                        "contains",
                        "does_not_contain",
                        "starts_with",
                        "ends_with",
                    )
                ]
                + [
                    {
                        "type": "trait",
                        "trait": "country",
                        "operator": "equals_any_of",
                        "value": [value, "DE"],
                    },
                    {
                        "type": "trait",
                        "trait": "country",
                        "operator": "contains_any_of",
                        "value": [value],
                    },
                    {
                        "type": "event",
                        "event": "Order Completed",
                        "where": {
                            "type": "property",
                            "property": "coupon",
                            "operator": "starts_with",
                            "value": value,
                        },
                    },
                    {
                        "type": "entity",
                        "relationship": "user-accounts",
                        "where": {
                            "type": "column",
                            "column": "plan",
                            "operator": "ends_with",
                            "value": value,
                        },
                    },
                ],
            },
        },
    )


def _shape(sql: str, dialect: str) -> str:
    """The statement with every string literal blanked: what the query *does*."""
    tree = sqlglot.parse_one(sql, read=dialect)
    for literal in tree.find_all(exp.Literal):
        if literal.is_string:
            literal.replace(exp.Literal.string("?"))
        else:
            literal.replace(exp.Literal.number(0))
    return tree.sql(dialect=dialect)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_change_no_query_structure(
    dialect: str, value: str, demo_graph: la.DataGraph
) -> None:
    benign = la.compile(_audience("benign"), demo_graph, dialect=dialect, as_of=AS_OF)
    hostile = la.compile(_audience(value), demo_graph, dialect=dialect, as_of=AS_OF)
    sqlglot_dialect = hostile.dialect.sqlglot_dialect
    for good, bad in (
        (benign.profiles_sql, hostile.profiles_sql),
        (benign.entities_sql, hostile.entities_sql),
    ):
        assert _shape(bad, sqlglot_dialect) == _shape(good, sqlglot_dialect)
        literals = {
            lit.this
            for lit in sqlglot.parse_one(bad, read=sqlglot_dialect).find_all(exp.Literal)
            if lit.is_string
        }
        assert value in literals  # the value survives the round trip exactly


def test_hostile_identifiers_are_quoted() -> None:
    graph = la.DataGraph.model_validate(
        {
            "profile": {
                "traits_table": 'we"ird.tr aits',
                "key": "Profile Key",
                "identifiers_table": "ids; DROP",
                "traits": {"x'); --": "string"},
            },
        }
    )
    audience = validate_data(
        la.Audience,
        {
            "key": "k",
            "name": "n",
            "condition": {"type": "trait", "trait": "x'); --", "operator": "exists"},
        },
    )
    for dialect in DIALECTS:
        compiled = la.compile(audience, graph, dialect=dialect, as_of=AS_OF)
        tree = sqlglot.parse_one(compiled.profiles_sql, read=compiled.dialect.sqlglot_dialect)
        names = {t.name for t in tree.find_all(exp.Table)}
        assert {"tr aits", "ids; DROP"} <= names
        assert "x'); --" in {c.name for c in tree.find_all(exp.Column)}


def test_dates_come_from_the_one_as_of() -> None:
    graph = la.DataGraph.model_validate(
        {
            "profile": {
                "traits_table": "t",
                "identifiers_table": "i",
                "traits": {"seen": "timestamp", "born": "date"},
            }
        }
    )
    audience = validate_data(
        la.Audience,
        {
            "key": "k",
            "name": "n",
            "condition": {
                "type": "group",
                "operator": "and",
                "conditions": [
                    {"type": "trait", "trait": "seen", "operator": "within_last", "value": 7},
                    {"type": "trait", "trait": "born", "operator": "before_last", "value": 3},
                ],
            },
        },
    )
    as_of = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    sql = la.compile(audience, graph, as_of=as_of).profiles_sql
    assert "'2026-03-21 23:30:00.000000+00:00'" in sql  # as_of − 7 days, in UTC
    assert "'2026-03-28 23:30:00.000000+00:00'" in sql  # as_of itself, in UTC
    assert "CAST('2026-03-25' AS DATE)" in sql  # UTC date of as_of − 3 days
    assert la.compile(audience, graph, as_of="2026-03-28T23:30:00Z").profiles_sql == sql


def test_as_of_must_be_aware(
    demo_graph: la.DataGraph, example_audiences: list[la.Audience]
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        la.compile(
            example_audiences[0],
            demo_graph,
            as_of=datetime(2026, 1, 1),
            audiences=example_audiences,
        )


def test_unknown_dialect(demo_graph: la.DataGraph, example_audiences: list[la.Audience]) -> None:
    with pytest.raises(ValueError, match="unknown dialect 'oracle'; expected one of bigquery"):
        la.compile(example_audiences[0], demo_graph, dialect="oracle", audiences=example_audiences)
    assert (
        la.compile(
            example_audiences[0], demo_graph, dialect="postgresql", audiences=example_audiences
        ).dialect.name
        == "postgres"
    )


def test_definition_errors_come_before_sql(demo_graph: la.DataGraph) -> None:
    audience = validate_data(
        la.Audience,
        {
            "key": "k",
            "name": "n",
            "condition": {"type": "trait", "trait": "nope", "operator": "exists"},
        },
    )
    with pytest.raises(la.DefinitionError, match=r"\$\.condition\.trait: unknown trait"):
        la.compile(audience, demo_graph)


def test_time_on_databricks_is_canonical_text() -> None:
    """Databricks has no TIME type: stored times are text, compared as ``HH:MM:SS.ffffff``."""
    graph = la.DataGraph.model_validate(
        {"profile": {"traits_table": "t", "identifiers_table": "i", "traits": {"opens": "time"}}}
    )
    audience = validate_data(
        la.Audience,
        {
            "key": "k",
            "name": "n",
            "condition": {
                "type": "trait",
                "trait": "opens",
                "operator": "less_than",
                "value": "09:00",
            },
        },
    )
    assert "CAST('09:00:00' AS TIME)" in la.compile(audience, graph).profiles_sql
    databricks = la.compile(audience, graph, dialect="databricks").profiles_sql
    assert "TIME" not in databricks.replace("TIMEZONE", "")
    assert "< '09:00:00.000000'" in databricks


def test_audience_named_twice_is_compiled_once(
    demo_graph: la.DataGraph, example_audiences: list[la.Audience]
) -> None:
    twice = validate_data(
        la.Audience,
        {
            "key": "twice",
            "name": "n",
            "condition": {
                "type": "group",
                "operator": "or",
                "conditions": [
                    {"type": "audience", "key": "high_value_loyalty"},
                    {
                        "type": "group",
                        "operator": "and",
                        "conditions": [
                            {"type": "audience", "key": "high_value_loyalty", "without": True},
                            {"type": "audience", "key": "upsell_premium"},
                        ],
                    },
                ],
            },
        },
    )
    compiled = la.compile(twice, demo_graph, audiences=example_audiences)
    ctes = [c.alias for c in compiled.expression.find_all(exp.CTE)]
    # high_value_loyalty once, upsell_premium once, and inside it premium_cardholders once
    # (upsell_premium names high_value_loyalty again: still one CTE for it).
    assert sum(1 for c in ctes if c.startswith("la_aud")) == 3


def test_expression_is_inspectable(
    demo_graph: la.DataGraph, example_audiences: list[la.Audience]
) -> None:
    compiled = la.compile(example_audiences[0], demo_graph, audiences=example_audiences)
    assert isinstance(compiled.expression, exp.Query)
    assert compiled.sql(pretty=True).count("\n") > 5
    projections = [s.alias_or_name for s in compiled.entities_expression.selects]
    assert projections == ["profile_id", "relationship", "entity_id"]
    assert [s.alias_or_name for s in compiled.expression.selects] == ["profile_id"]


def test_page_name_reads_the_name_column_also_when_declared() -> None:
    """Segment's pages/screens tables hold the page's name in `name`; a graph that declares
    `page_name` (or `screen_name`) without a column still means that column."""
    events = [
        {"name": "Page Viewed", "table": "segment.pages", "profile_key": "pid",
         "properties": {"page_name": "string"}},
        {"name": "Screen Viewed", "table": "segment.screens", "profile_key": "pid",
         "properties": {"screen_name": "string"}},
    ]  # fmt: skip
    graph = la.DataGraph.model_validate(
        {"profile": {"traits_table": "t", "key": "pid", "identifiers_table": "i"},
         "events": events}
    )  # fmt: skip
    for event, prop in (("Page Viewed", "page_name"), ("Screen Viewed", "screen_name")):
        where = {"type": "property", "property": prop, "operator": "equals", "value": "Home"}
        condition = {"type": "event", "event": event, "where": where}
        audience = la.Audience.model_validate({"key": "p", "name": "p", "condition": condition})
        sql = la.compile(audience, graph, as_of="2026-11-01T00:00:00Z").profiles_sql
        assert '"ev"."name" = \'Home\'' in sql
        assert prop not in sql


def test_same_row_reference_in_a_nested_node_keeps_the_cheap_shape(
    example_audiences: list[la.Audience],
) -> None:
    """Only a trait or a strict ancestor's column forces keying by the whole key path."""
    from linked_audiences.compiler.membership import needs_path

    by_key = {a.key: a for a in example_audiences}
    node = by_key["cards_at_limit"].condition.conditions[0]  # type: ignore[union-attr]
    assert isinstance(node, la.EntityCondition)
    assert not needs_path(node)
    card = node.where
    assert isinstance(card, la.EntityCondition) and isinstance(card.where, la.ColumnCondition)
    upward = card.where.model_copy(
        update={"reference": la.ColumnReference(relationship="user-accounts", column="balance")}
    )
    nested = node.model_copy(update={"where": card.model_copy(update={"where": upward})})
    assert needs_path(nested)
