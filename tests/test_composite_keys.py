"""Composite keys (SPEC §2): list-valued primary keys and join_on, for entities and junction
tables; a composite key counts as one entity, its entity_id is its columns joined by ``|``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import DEMO_AS_OF, build_demo_warehouse
from linked_audiences.loading import validate_data

from .conftest import EXAMPLES
from .reference.duckdb_loader import load_tables
from .reference.evaluator import evaluate

CART = ["relationships", 1]


def _graph() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "graph.yaml").read_text(encoding="utf-8"))


def _lines(data: dict[str, Any]) -> dict[str, Any]:
    rel = data["relationships"][1]["relationships"]
    return next(r for r in rel if r["slug"] == "cart-lines")


def _problems(data: dict[str, Any]) -> list[la.errors.Problem]:
    with pytest.raises(la.DefinitionError) as caught:
        validate_data(la.DataGraph, data)
    return list(caught.value.problems)


def test_the_demo_graph_declares_composite_keys() -> None:
    graph = la.DataGraph.load(EXAMPLES / "graph.yaml")
    line = graph.entity("cart-line")
    assert line is not None and line.key_columns == ["cart_id", "line_no"]
    discounts = graph.relationship("line-discounts")
    assert discounts is not None
    assert discounts.join_pairs() == [("cart_id", "cart_id"), ("line_no", "line_no")]
    assert discounts.parent_key_columns() == ["cart_id", "line_no"]


def test_an_equality_naming_another_entity_is_reported_at_its_index() -> None:
    data = _graph()
    discounts = _lines(data)["relationships"][0]
    discounts["join_on"][1] = "cart.id = line-discount.line_no"
    problems = _problems(data)
    assert [p.path for p in problems] == [
        "$.relationships[1].relationships[1].relationships[0].join_on[1]"
    ]
    assert "join_on must join 'cart-line' and 'line-discount'" in problems[0].rule


def test_a_repeated_equality_and_a_repeated_key_column_are_errors() -> None:
    data = _graph()
    discounts = _lines(data)["relationships"][0]
    discounts["join_on"].append(discounts["join_on"][0])
    entity = next(e for e in data["entities"] if e["slug"] == "cart-line")
    entity["primary_key"] = ["cart_id", "cart_id"]
    rules = {p.path: p.rule for p in _problems(data)}
    assert "repeats" in rules["$.relationships[1].relationships[1].relationships[0].join_on[2]"]
    assert (
        "names 'cart_id' twice"
        in rules[f"$.entities[{data['entities'].index(entity)}].primary_key"]
    )


def test_an_empty_key_is_an_error() -> None:
    data = _graph()
    entity = next(e for e in data["entities"] if e["slug"] == "cart-line")
    entity["primary_key"] = []
    with pytest.raises((la.DefinitionError, ValueError)):
        validate_data(la.DataGraph, data)


#: Orders keyed by (region, order number), reached from the profile by user id, and
#: products through a junction table joined to the order on both key columns.
JUNCTION_GRAPH = {
    "profile": {"traits_table": "ps.traits", "identifiers_table": "ps.ids", "key": "pid"},
    "entities": [
        {
            "slug": "order",
            "table": "shop.orders",
            "primary_key": ["region", "order_no"],
            "columns": {"region": "string", "order_no": "number", "user_id": "string"},
        },
        {
            "slug": "product",
            "table": "shop.products",
            "primary_key": "sku",
            "columns": {"sku": "string", "color": "string"},
        },
    ],
    "relationships": [
        {
            "slug": "user-orders",
            "related_entity": "order",
            "external_id": {"type": "user_id", "join_key": "user_id"},
            "relationships": [
                {
                    "slug": "order-products",
                    "related_entity": "product",
                    "junction_table": {
                        "table": "shop.items",
                        "primary_key": ["region", "order_no", "sku"],
                        "left_join_on": ["order.region = region", "order.order_no = order_no"],
                        "right_join_on": "sku = product.sku",
                    },
                }
            ],
        }
    ],
}
JUNCTION_ROWS: dict[str, list[dict[str, Any]]] = {
    "ps.ids": [
        {"pid": "p1", "type": "user_id", "value": "u1"},
        {"pid": "p2", "type": "user_id", "value": "u2"},
    ],
    # order 1 exists in two regions: only the items of the same (region, number) belong to it
    "shop.orders": [
        {"region": "eu", "order_no": 1, "user_id": "u1"},
        {"region": "us", "order_no": 1, "user_id": "u2"},
        {"region": "us", "order_no": 2, "user_id": "u2"},
    ],
    "shop.items": [
        {"region": "eu", "order_no": 1, "sku": "red-1"},
        {"region": "us", "order_no": 1, "sku": "blue-1"},
        {"region": "us", "order_no": 2, "sku": "red-2"},
        {"region": "us", "order_no": 2, "sku": "red-2"},  # a repeated link: one product
    ],
    "shop.products": [
        {"sku": "red-1", "color": "red"},
        {"sku": "blue-1", "color": "blue"},
        {"sku": "red-2", "color": "red"},
    ],
}
JUNCTION_TYPES = {
    "ps.traits": {"pid": "string"},
    "ps.ids": {"pid": "string", "type": "string", "value": "string"},
    "shop.orders": {"region": "string", "order_no": "integer", "user_id": "string"},
    "shop.items": {"region": "string", "order_no": "integer", "sku": "string"},
    "shop.products": {"sku": "string", "color": "string"},
}


@pytest.mark.parametrize(
    ("where", "members", "entities"),
    [
        # p1's order eu|1 holds red-1; p2's us|1 holds blue-1 (not eu's red-1), us|2 red-2
        (
            {"type": "column", "column": "color", "operator": "equals", "value": "red"},
            {"p1", "p2"},
            {
                ("p1", "user-orders", "eu|1"),
                ("p1", "order-products", "red-1"),
                ("p2", "user-orders", "us|2"),
                ("p2", "order-products", "red-2"),
            },
        ),
        (
            {"type": "column", "column": "color", "operator": "equals", "value": "blue"},
            {"p2"},
            {("p2", "user-orders", "us|1"), ("p2", "order-products", "blue-1")},
        ),
    ],
)
def test_a_junction_joined_on_a_composite_key(
    where: dict[str, Any], members: set[str], entities: set[tuple[str, str, str]]
) -> None:
    graph = validate_data(la.DataGraph, JUNCTION_GRAPH)
    audience = validate_data(
        la.Audience,
        {
            "key": "k",
            "name": "k",
            "condition": {
                "type": "entity",
                "relationship": "user-orders",
                "where": {"type": "entity", "relationship": "order-products", "where": where},
            },
        },
    )
    result = evaluate(audience, graph, JUNCTION_ROWS, DEMO_AS_OF)
    assert (set(result.members), set(result.entities)) == (members, entities)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    load_tables(con, graph, JUNCTION_ROWS, JUNCTION_TYPES)
    compiled = la.compile(audience, graph, as_of=DEMO_AS_OF)
    assert {r[0] for r in con.execute(compiled.profiles_sql).fetchall()} == members
    assert set(con.execute(compiled.entities_sql).fetchall()) == entities


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("composite") / "demo.duckdb"
    build_demo_warehouse(path, profiles=300, seed=3)
    return path


def test_entity_ids_join_the_key_columns(demo: Path) -> None:
    graph, examples = load_examples()
    audience = next(a for a in examples if a.key == "discounted_bulk_carts")
    with la.connect(f"duckdb:///{demo}") as warehouse:
        compiled = la.compile(audience, graph, as_of=DEMO_AS_OF, audiences=examples)
        rows = warehouse.fetchall(compiled.entities_sql)
        lines = {e for _, rel, e in rows if rel == "cart-lines"}
        discounts = {e for _, rel, e in rows if rel == "line-discounts"}
        assert lines and discounts
        stored = {
            f"{c}|{n}" for c, n in warehouse.fetchall("SELECT cart_id, line_no FROM prod.cart_line")
        }
        assert lines <= stored
        assert all(d.count("|") == 2 and d.rsplit("|", 1)[0] in lines for d in discounts)


def test_runs_send_composite_entities_with_their_columns(demo: Path, tmp_path: Path) -> None:
    graph, examples = load_examples()
    audience = next(a for a in examples if a.key == "discounted_bulk_carts")
    db = tmp_path / "w.duckdb"
    db.write_bytes(demo.read_bytes())
    activations = [
        la.Activation(
            trigger="entity_added", relationship="cart-lines", entity_columns=["quantity"]
        )
    ]
    with la.connect(f"duckdb:///{db}") as warehouse:
        result = la.run(audience, graph, warehouse, as_of=DEMO_AS_OF, activations=activations)
        events = list(result.events)
        quantities = {
            f"{c}|{n}": q
            for c, n, q in warehouse.fetchall(
                "SELECT cart_id, line_no, quantity FROM prod.cart_line"
            )
        }
    assert events
    for event in events:
        props = event["properties"]
        assert props["relationship"] == "cart-lines"
        assert props["cart-lines__quantity"] == quantities[props["entity_id"]] >= 3
    assert len({e["messageId"] for e in events}) == len(events)
