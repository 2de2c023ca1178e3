"""Definitions survive dump → load unchanged, for every node kind, in JSON and in YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import linked_audiences as la
from linked_audiences.loading import validate_data

HOSTILE = "x' OR '1'='1 \\';-- 100% _a_ Zoë 李"

NODES: list[dict] = [
    {
        "type": "group",
        "operator": "or",
        "conditions": [
            {"type": "trait", "trait": "loyalty_tier", "operator": "equals", "value": "gold"}
        ],
    },
    {
        "type": "trait",
        "trait": "lifetime_value",
        "operator": "greater_than",
        "value": 10.5,
        "without": True,
    },
    {"type": "trait", "trait": "first_name", "operator": "starts_with", "value": HOSTILE},
    {
        "type": "trait",
        "trait": "country",
        "operator": "equals",
        "reference": {"trait": "preferred_category"},
    },
    {"type": "trait", "trait": "is_vip", "operator": "exists"},
    {"type": "audience", "key": "other", "without": True},
    {
        "type": "event",
        "event": "Order Completed",
        "count": {"exactly": 2},
        "window": {"between_days_ago": [7, 30]},
        "where": {
            "type": "group",
            "operator": "and",
            "conditions": [
                {
                    "type": "property",
                    "property": "revenue",
                    "operator": "greater_than_or_equal",
                    "value": 3,
                },
                {
                    "type": "property",
                    "property": "currency",
                    "operator": "equals_any_of",
                    "value": ["EUR", "GBP"],
                },
            ],
        },
    },
    {
        "type": "event",
        "event": "Page Viewed",
        "count": {"at_most": 0},
        "window": {"within_last_days": 3},
    },
    {
        "type": "entity",
        "relationship": "user-accounts",
        "count": {"at_least": 2},
        "where": {
            "type": "entity",
            "relationship": "account-cards",
            "without": True,
            "where": {
                "type": "column",
                "column": "credit_limit",
                "operator": "less_than",
                "reference": {"relationship": "user-accounts", "column": "balance"},
            },
        },
    },
    {"type": "entity", "relationship": "user-carts", "count": {"exactly": 0}},
]


def _audience(node: dict) -> dict:
    return {"key": "k", "name": "N", "include_anonymous": True, "condition": node}


@pytest.mark.parametrize("node", NODES, ids=lambda n: n["type"])
def test_every_node_kind_round_trips_through_json(node: dict) -> None:
    audience = validate_data(la.Audience, _audience(node))
    again = la.Audience.model_validate_json(audience.model_dump_json())
    assert again == audience
    # What a user wrote is what is kept: no field is renamed or dropped on the way out.
    dumped = audience.model_dump(mode="json", exclude_defaults=True)
    assert (
        dumped["condition"]
        == validate_data(la.Audience, dumped).model_dump(mode="json", exclude_defaults=True)[
            "condition"
        ]
    )


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_load_reads_every_format(tmp_path: Path, suffix: str) -> None:
    definition = _audience({"type": "group", "operator": "and", "conditions": NODES[1:]})
    file = tmp_path / f"a{suffix}"
    text = json.dumps(definition) if suffix == ".json" else yaml.safe_dump(definition)
    file.write_text(text, encoding="utf-8")
    loaded = la.Audience.load(file)
    assert loaded == la.Audience.model_validate(definition)
    assert loaded.condition.conditions[1].value == HOSTILE  # type: ignore[union-attr]


def test_json_types_are_kept_exact() -> None:
    audience = validate_data(
        la.Audience,
        _audience(
            {"type": "trait", "trait": "t", "operator": "equals_any_of", "value": [1, 2.5, "3"]}
        ),
    )
    assert audience.condition.value == [1, 2.5, "3"]  # type: ignore[union-attr]
    assert [type(v) for v in audience.condition.value] == [int, float, str]  # type: ignore
    flag = validate_data(
        la.Audience, _audience({"type": "trait", "trait": "t", "operator": "equals", "value": True})
    )
    assert flag.condition.value is True  # type: ignore[union-attr]


def test_defaults_follow_spec() -> None:
    audience = validate_data(
        la.Audience, _audience({"type": "entity", "relationship": "user-accounts"})
    )
    node = audience.condition
    assert isinstance(node, la.EntityCondition)
    assert node.count == la.Count(at_least=1) and node.without is False and node.where is None
    assert (
        validate_data(
            la.Audience, {"key": "k", "name": "n", "condition": node.model_dump()}
        ).include_anonymous
        is False
    )


def test_graph_round_trips_and_keeps_layout_fields(
    demo_graph: la.DataGraph, tmp_path: Path
) -> None:
    again = la.DataGraph.model_validate_json(demo_graph.model_dump_json())
    assert again == demo_graph
    file = tmp_path / "g.yaml"
    file.write_text(yaml.safe_dump(demo_graph.model_dump(mode="json")), encoding="utf-8")
    assert la.DataGraph.load(file) == demo_graph
    assert demo_graph.profile.traits_layout == "long"
    assert demo_graph.profile.id_graph_table == "ps_materialize.id_graph"


def test_graph_paths_and_depth(demo_graph: la.DataGraph) -> None:
    category = demo_graph.relationship("merchant-category")
    assert category is not None and category.depth == 6
    assert [p.slug for p in category.ancestors()] == [
        "merchant-category",
        "transaction-merchant",
        "card-transactions",
        "account-cards",
        "user-accounts",
    ]
    assert demo_graph.relationship("card-transactions").join_pairs() == [("id", "card_id")]  # type: ignore[union-attr]
    assert demo_graph.relationship("transaction-merchant").join_pairs() == [  # type: ignore[union-attr]
        ("merchant_id", "id")
    ]
    assert demo_graph.relationship("cart-products").junction_pairs() == (  # type: ignore[union-attr]
        [("id", "cart_id")],
        [("product_sku", "sku")],
    )
    assert demo_graph.relationship("nope") is None


def test_page_and_screen_names_are_implicit_properties(demo_graph: la.DataGraph) -> None:
    pages = demo_graph.event("Page Viewed")
    assert pages is not None
    assert pages.property_column("page_name") == ("name", "string")
    assert pages.property_column("path") == ("path", "string")
    assert pages.property_column("screen_name") is None
    renamed = la.DataGraph.model_validate(
        {
            "profile": {"traits_table": "t", "identifiers_table": "i"},
            "events": [
                {
                    "name": "Screen Viewed",
                    "table": "screens",
                    "profile_key": "p",
                    "properties": {"shown": {"type": "boolean", "column": "is_shown"}},
                }
            ],
        }
    )
    screens = renamed.event("Screen Viewed")
    assert screens is not None
    assert screens.property_column("screen_name") == ("name", "string")
    assert screens.property_column("shown") == ("is_shown", "boolean")


def test_spec_example_graph_is_valid() -> None:
    """The canonical JSON of SPEC §2, with the columns its join_on uses declared."""
    graph = la.DataGraph.model_validate(
        {
            "profile": {
                "traits_table": "ps_materialize.profile_traits",
                "key": "canonical_segment_id",
                "identifiers_table": "ps_materialize.user_identifiers",
                "traits": {"loyalty_tier": "string", "lifetime_value": "number"},
            },
            "entities": [
                {
                    "slug": "account",
                    "table": "prod.customer.account",
                    "primary_key": "id",
                    "columns": {"id": "string", "plan": "string", "min_balance": "number"},
                },
                {"slug": "credit-card", "table": "prod.customer.credit_card", "primary_key": "id"},
            ],
            "relationships": [
                {
                    "slug": "user-accounts",
                    "related_entity": "account",
                    "external_id": {"type": "email", "join_key": "email"},
                    "relationships": [
                        {
                            "slug": "account-cards",
                            "related_entity": "credit-card",
                            "join_on": "account.id = credit-card.account_id",
                        }
                    ],
                }
            ],
            "events": [
                {
                    "name": "Order Completed",
                    "table": "segment.order_completed",
                    "profile_key": "canonical_segment_id",
                    "timestamp": "timestamp",
                    "properties": {"price": "number", "product_id": "string"},
                }
            ],
        }
    )
    assert graph.relationship("account-cards").depth == 3  # type: ignore[union-attr]
