"""Composite keys (SPEC §2): list-valued primary keys and join_on, for entities and junction
tables; a composite key counts as one entity, its entity_id is its columns joined by ``|``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import linked_audiences as la
from linked_audiences.demo import load_examples
from linked_audiences.examples.generator import DEMO_AS_OF, build_demo_warehouse
from linked_audiences.loading import validate_data

from .conftest import EXAMPLES

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


def test_a_composite_junction_pairs_its_equalities() -> None:
    data = _graph()
    junction = data["relationships"][1]["relationships"][0]["junction_table"]
    junction["left_join_on"] = ["cart.id = cart_id", "cart.user_id = user_id"]
    problems = _problems(data)
    assert [p.path for p in problems] == ["$.relationships[1].relationships[0].junction_table"]
    assert "come in pairs" in problems[0].rule
    junction["right_join_on"] = ["product_sku = product.sku", "user_id = product.name"]
    validate_data(la.DataGraph, data)  # two pairs: fine


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
