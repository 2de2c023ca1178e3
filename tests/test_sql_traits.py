"""SQL traits (parsed per dialect, embedded as a subquery), and the compute-traits command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

import linked_audiences as la
from linked_audiences.cli import main
from linked_audiences.dialects import get_dialect

from .reference.duckdb_loader import load_tables
from .reference.evaluator import Tables, evaluate
from .test_computed_traits import AS_OF, COLUMN_TYPES, audience, graph_dict

SCORES = "SELECT uid AS profile_id, score AS churn, flag AS risky FROM ml.scores"
SQL_TRAITS = [
    {"sql": SCORES, "key": "profile_id", "traits": {"churn": "number", "risky": "boolean"}}
]
TYPES = {**COLUMN_TYPES, "ml.scores": {"uid": "string", "score": "number", "flag": "boolean"}}


def sql_graph(sql: str = SCORES, **spec: Any) -> la.DataGraph:
    traits = [{**SQL_TRAITS[0], "sql": sql, **spec}]
    return la.DataGraph.model_validate(graph_dict(sql_traits=traits))


def tables() -> Tables:
    data: Tables = {k: [] for k in TYPES}
    data["main.ids"] = [{"pid": p, "type": "user_id", "value": p} for p in ("p0", "p1", "p2")]
    data["main.traits"] = [{"pid": "p2", "tier": "gold"}]
    data["ml.scores"] = [
        {"uid": "p0", "score": 0.9, "flag": True},
        {"uid": "p1", "score": 0.2, "flag": False},
        {"uid": "p1", "score": 0.4, "flag": None},  # two rows: the greatest value wins
        {"uid": None, "score": 1.0, "flag": True},
        {"uid": "nobody", "score": 1.0, "flag": True},
    ]
    return data


@pytest.fixture
def duck(tmp_path: Path) -> Any:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    load_tables(con, sql_graph(), tables(), TYPES)
    con.close()
    return path


def test_values_per_profile(duck: Path) -> None:
    with la.connect(f"duckdb:///{duck}") as warehouse:
        rows = list(la.compute_traits(sql_graph(), warehouse, ["churn", "risky", "tier"], AS_OF))
    assert rows == [
        {"profile_id": "p0", "churn": 0.9, "risky": True, "tier": None},
        {"profile_id": "p1", "churn": 0.4, "risky": False, "tier": None},
        {"profile_id": "p2", "churn": None, "risky": None, "tier": "gold"},
    ]


@pytest.mark.parametrize(
    ("condition", "members"),
    [
        (
            {"type": "trait", "trait": "churn", "operator": "greater_than", "value": 0.3},
            {"p0", "p1"},
        ),
        ({"type": "trait", "trait": "risky", "operator": "equals", "value": True}, {"p0"}),
        ({"type": "trait", "trait": "churn", "operator": "not_exists"}, {"p2"}),
        (
            {
                "type": "trait",
                "trait": "churn",
                "operator": "greater_than",
                "value": 0.5,
                "without": True,
            },
            {"p1", "p2"},
        ),
    ],
)
def test_sql_trait_in_audiences(duck: Path, condition: dict[str, Any], members: set[str]) -> None:
    graph = sql_graph()
    definition = audience(condition)
    with la.connect(f"duckdb:///{duck}") as warehouse:
        compiled = la.compile(definition, graph, "duckdb", as_of=AS_OF)
        got = {str(r[0]) for r in warehouse.fetchall(compiled.profiles_sql)}
    assert got == members
    reference_tables = tables()
    reference_tables["sql_traits[0]"] = [
        {"profile_id": r["uid"], "churn": r["score"], "risky": r["flag"]}
        for r in reference_tables["ml.scores"]
    ]
    assert set(evaluate(definition, graph, reference_tables, AS_OF).members) == members


def sql_problem(sql: str, dialect: str = "duckdb") -> str:
    definition = audience({"type": "trait", "trait": "churn", "operator": "exists"})
    with pytest.raises(la.DefinitionError) as info:
        la.compile(definition, sql_graph(sql), dialect, as_of=AS_OF)
    (problem,) = info.value.problems
    assert problem.path == "$.sql_traits[0].sql"
    return problem.rule


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        (SCORES + "; DROP TABLE main.traits", "exactly one SELECT"),
        (SCORES + " UNION SELECT 'x', 1, TRUE", "exactly one SELECT"),
        ("INSERT INTO ml.scores VALUES ('a', 1, TRUE)", "exactly one SELECT"),
        ("SELECT uid AS profile_id, score AS churn FROM", "does not parse"),
        ("SELECT * FROM ml.scores", "* projection"),
        ("SELECT s.* FROM ml.scores AS s", "* projection"),
        ("SELECT uid AS profile_id, score AS churn FROM ml.scores", "no output column 'risky'"),
        ("SELECT uid, score AS churn, flag AS risky FROM ml.scores", "'profile_id'"),
        ("", "exactly one SELECT"),
    ],
)
def test_bad_queries_are_graph_errors(sql: str, words: str) -> None:
    assert words in sql_problem(sql)


def test_parsed_in_the_dialect_compiled_for() -> None:
    backticks = "SELECT `uid` AS profile_id, score AS churn, flag AS risky FROM `ml`.`scores`"
    assert "does not parse" in sql_problem(backticks, "postgres")
    definition = audience({"type": "trait", "trait": "churn", "operator": "exists"})
    la.compile(definition, sql_graph(backticks), "bigquery", as_of=AS_OF)


def test_hostile_strings_stay_literals(duck: Path) -> None:
    """A quote-breaking string in the user's SQL stays one literal after re-rendering."""
    hostile = "x'); DROP TABLE main.traits; --"
    quoted = hostile.replace("'", "''")
    sql = f"{SCORES} WHERE uid <> '{quoted}'"
    definition = audience({"type": "trait", "trait": "churn", "operator": "exists"})
    graph = sql_graph(sql)
    with la.connect(f"duckdb:///{duck}") as warehouse:
        compiled = la.compile(definition, graph, "duckdb", as_of=AS_OF)
        assert {str(r[0]) for r in warehouse.fetchall(compiled.profiles_sql)} == {"p0", "p1"}
        assert warehouse.fetchall("SELECT COUNT(*) FROM main.traits") == [(1,)]
    literals = [
        lit.this
        for lit in sqlglot.parse_one(compiled.profiles_sql, read="duckdb").find_all(
            sqlglot.exp.Literal
        )
    ]
    assert hostile in literals


@pytest.mark.parametrize(
    "dialect", ["duckdb", "postgres", "snowflake", "bigquery", "redshift", "databricks"]
)
def test_renders_for_every_dialect(dialect: str) -> None:
    definition = audience({"type": "trait", "trait": "risky", "operator": "equals", "value": True})
    compiled = la.compile(definition, sql_graph(), dialect, as_of=AS_OF)
    sqlglot.parse_one(compiled.profiles_sql, read=get_dialect(dialect).sqlglot_dialect)


def test_snowflake_reads_unquoted_names_as_stored() -> None:
    """The compiled SQL quotes every identifier: unquoted names of the user's query are
    spelled as Snowflake stores them (upper case) first."""
    definition = audience({"type": "trait", "trait": "churn", "operator": "exists"})
    sql = la.compile(definition, sql_graph(), "snowflake", as_of=AS_OF).profiles_sql
    assert '"ML"."SCORES"' in sql and '"UID" AS "k0"' in sql


def test_graph_rules_for_sql_traits() -> None:
    from linked_audiences.loading import validate_data

    with pytest.raises(la.DefinitionError) as info:
        validate_data(
            la.DataGraph,
            graph_dict(
                sql_traits=[
                    {"sql": SCORES, "key": "profile_id", "traits": {"profile_id": "string"}},
                    {"sql": SCORES, "key": "k", "traits": {"tier": "string", "orders": "number"}},
                    {"sql": SCORES, "key": "k", "traits": {}},
                ]
            ),
        )
    paths = {p.path: p.rule for p in info.value.problems}
    assert "key column" in paths["$.sql_traits[0].traits.profile_id"]
    assert "already defined" in paths["$.sql_traits[1].traits.tier"]
    assert "already defined" in paths["$.sql_traits[1].traits.orders"]
    assert "at least one" in paths["$.sql_traits[2].traits"]


# -- the command ----------------------------------------------------------------------------------


@pytest.fixture
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(graph_dict(sql_traits=SQL_TRAITS)), encoding="utf-8")
    return path


def test_command_csv(duck: Path, graph_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "compute-traits",
            str(graph_file),
            "--warehouse",
            f"duckdb:///{duck}",
            "--traits",
            "orders,churn,cat_list",
            "--as-of",
            AS_OF.isoformat(),
        ]
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [
        ["profile_id", "orders", "churn", "cat_list"],
        ["p0", "0", "0.9", ""],
        ["p1", "0", "0.4", ""],
        ["p2", "0", "", ""],
    ]


def test_command_json_to_file(duck: Path, graph_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "values.json"
    code = main(
        [
            "compute-traits",
            str(graph_file),
            "--warehouse",
            f"duckdb:///{duck}",
            "--traits",
            "risky",
            "--format",
            "json",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == [
        {"profile_id": "p0", "risky": True},
        {"profile_id": "p1", "risky": False},
        {"profile_id": "p2", "risky": None},
    ]


@pytest.mark.parametrize(
    ("traits", "message"),
    [
        ("nope", "error: $.traits[0]: unknown trait 'nope'"),
        ("orders,orders", "error: $.traits[1]: trait 'orders' is named twice"),
        ("orders,,x", "expected trait names separated by commas"),
    ],
)
def test_command_mistakes_are_one_line(
    duck: Path, graph_file: Path, capsys: pytest.CaptureFixture[str], traits: str, message: str
) -> None:
    argv = ["compute-traits", str(graph_file), "--warehouse", f"duckdb:///{duck}"]
    try:
        code = main([*argv, "--traits", traits])
    except SystemExit as exc:  # argparse's own one-line usage error
        code = int(str(exc.code))
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err


def test_command_bad_sql_is_one_line(
    duck: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "graph.json"
    bad = [{**SQL_TRAITS[0], "sql": SCORES + "; DROP TABLE main.traits"}]
    path.write_text(json.dumps(graph_dict(sql_traits=bad)), encoding="utf-8")
    code = main(
        ["compute-traits", str(path), "--warehouse", f"duckdb:///{duck}", "--traits", "churn"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: $.sql_traits[0].sql: the query must be exactly one SELECT")
    assert len(err.strip().splitlines()) == 1


def test_run_enrichment_carries_computed_and_sql_traits(duck: Path) -> None:
    graph = sql_graph()
    definition = audience({"type": "trait", "trait": "orders", "operator": "equals", "value": 0})
    activations = [
        la.Activation(trigger="audience_entered", traits=["orders", "churn", "risky", "tier"])
    ]
    with la.connect(f"duckdb:///{duck}") as warehouse:
        result = la.run(definition, graph, warehouse, as_of=AS_OF, activations=activations)
        events = sorted(result.events, key=lambda e: str(e["userId"]))
    props = [{k: e["properties"][k] for k in ("orders", "churn", "risky", "tier")} for e in events]
    assert props == [
        {"orders": 0, "churn": 0.9, "risky": True, "tier": None},
        {"orders": 0, "churn": 0.4, "risky": False, "tier": None},
        {"orders": 0, "churn": None, "risky": None, "tier": "gold"},
    ]


def test_activation_may_name_derived_traits_but_not_unknown_ones(duck: Path) -> None:
    definition = audience({"type": "trait", "trait": "orders", "operator": "equals", "value": 0})
    with la.connect(f"duckdb:///{duck}") as warehouse, pytest.raises(la.DefinitionError) as info:
        la.run(
            definition,
            sql_graph(),
            warehouse,
            as_of=AS_OF,
            activations=[la.Activation(trigger="audience_entered", traits=["churn", "nope"])],
        )
    assert [p.rule for p in info.value.problems] == ["unknown trait 'nope'"]
