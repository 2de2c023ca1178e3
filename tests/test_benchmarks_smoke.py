"""The benchmark harness keeps working: at a tiny scale, hand-written SQL agrees with compiled.

``benchmarks/run.py`` times the compiled members query against an expert's hand-written query
per audience; if either drifts (a compiler change, a new example audience, a renamed column)
the comparison is meaningless, so this runs the harness on a 2,000-profile demo warehouse and,
when ``tpchgen-cli`` is installed, TPC-H at scale factor 0.01. No timings are asserted.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.duckdb

ROOT = Path(__file__).resolve().parent.parent


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_tpchgen() -> bool:
    return (Path(sys.executable).parent / "tpchgen-cli").exists() or bool(
        shutil.which("tpchgen-cli")
    )


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    return _load_runner()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


def test_hand_written_and_naive_agree_with_compiled(runner: ModuleType, workdir: Path) -> None:
    import duckdb
    from bench.timing import check
    from bench.workloads import build_queries, demo_workload, tpch_workload

    workloads = [demo_workload(runner.demo_warehouse(workdir, 2000), 2000)]
    if _has_tpchgen():
        workloads.append(tpch_workload(runner.tpch_warehouse(workdir, 0.01), 0.01))
    for workload in workloads:
        with duckdb.connect(str(workload.path), read_only=True) as con:
            build_queries(workload, con)
            assert len(workload.queries) == len(workload.audiences) >= 10
            for queries in workload.queries:
                members, wrong = check(con, queries)
                assert members >= 0
                assert wrong == [], (workload.label, queries.key)
                assert queries.floor, queries.key
    naive = [q.key for q in workloads[0].queries if q.naive is not None]
    assert "premium_cardholders" in naive and "upsell_premium" not in naive
    # A join says "at least one row": no naive form for sums or for accounts as members.
    assert not {"indebted_cardholders", "buying_business_accounts"} & set(naive)


def test_funnel_aggregate_and_account_audiences_are_compared_on_members(
    runner: ModuleType, workdir: Path
) -> None:
    """The new shapes have members at the smallest size, so agreeing is not vacuous; the
    account audience is compared on its one column, account_id."""
    import duckdb
    from bench.timing import check
    from bench.workloads import build_queries, demo_workload, tpch_workload

    keys = {"checkout_not_completed", "big_spenders_90d", "indebted_cardholders"}
    keys |= {"buying_business_accounts"}
    workloads = [demo_workload(runner.demo_warehouse(workdir, 2000), 2000)]
    if _has_tpchgen():
        workloads.append(tpch_workload(runner.tpch_warehouse(workdir, 0.01), 0.01))
        keys.add("t12_large_quantity_order")
    checked = {}
    for workload in workloads:
        workload.selected = keys & {a.key for a in workload.audiences}
        with duckdb.connect(str(workload.path), read_only=True) as con:
            build_queries(workload, con)
            for queries in workload.queries:
                checked[queries.key] = check(con, queries)
            for account in (q for q in workload.queries if q.key == "buying_business_accounts"):
                columns = con.execute(f"SELECT * FROM ({account.hand}) AS q LIMIT 0").description
                assert [c[0] for c in columns] == ["account_id"]
    assert set(checked) == keys
    assert all(members > 0 and wrong == [] for members, wrong in checked.values()), checked


def test_the_command_writes_tables_and_json(
    runner: ModuleType, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--workdir", str(workdir), "--demo", "2000", "--repeat", "1", "--warmup", "0"]
    args += ["--compile-repeat", "1", "--preview-repeat", "1", "--no-runs"]
    args += ["--tpch", *(["0.01"] if _has_tpchgen() else []), "--postgres"]
    args += ["--only", "premium_cardholders", "upsell_premium", "t06_home_nation_supplier"]
    assert runner.main(args) == 0
    out = capsys.readouterr().out
    assert "| premium_cardholders |" in out and "compiled/hand: median" in out
    results = json.loads((workdir / "results.json").read_text())
    rows = [r for w in results["workloads"] for r in w["rows"]]
    assert {r["audience"] for r in rows} >= {"premium_cardholders", "upsell_premium"}
    assert all(r["agree"] and r["compiled_s"] > 0 and r["hand_s"] > 0 for r in rows)


@pytest.mark.postgres
def test_the_postgres_comparison_loads_the_demo_and_agrees(
    runner: ModuleType, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo copied into PostgreSQL (the SQL trait's ml schema too); compiled (postgres
    dialect) and the hand-written queries (PostgreSQL versions where DuckDB's use TRY_CAST)
    return the same profiles, and the same accounts for an account audience."""
    from tests.engines.postgres_server import find_bin_dir

    if find_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    args = ["--workdir", str(workdir), "--demo", "--tpch", "--postgres", "2000"]
    args += ["--repeat", "1", "--warmup", "0", "--no-runs", "--no-preview", "--out", "pg"]
    keys = ["premium_cardholders", "lapsed_vips", "upsell_premium", "churn_risk_vips"]
    keys += ["checkout_not_completed", "indebted_cardholders", "buying_business_accounts"]
    args += ["--only", *keys]
    assert runner.main(args) == 0
    assert "### PostgreSQL, demo 2,000 profiles" in capsys.readouterr().out
    results = json.loads((workdir / "pg.json").read_text())
    rows = [r for w in results["workloads"] if w["family"] == "postgres" for r in w["rows"]]
    assert {r["audience"] for r in rows} == set(keys)
    assert all(r["agree"] and r["members"] > 0 for r in rows)


def test_sizes_beyond_the_defaults_need_large(
    runner: ModuleType, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert runner.main(["--workdir", str(workdir), "--demo", "10000000", "--tpch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--large" in err


@pytest.mark.postgres
def test_explain_prints_postgres_plans_of_both_queries(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``explain.py postgres`` loads the demo once and prints both plans per audience."""
    from tests.engines.postgres_server import find_bin_dir

    if find_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    spec = importlib.util.spec_from_file_location(
        "bench_explain", ROOT / "benchmarks" / "explain.py"
    )
    assert spec is not None and spec.loader is not None
    explain = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(explain)
    args = ["--workdir", str(workdir), "postgres", "2000"]
    assert explain.main([*args, "buying_business_accounts", "big_spenders_90d"]) == 0
    out = capsys.readouterr().out
    assert out.count("===== compiled:") == 2 and out.count("===== hand:") == 2
    assert out.count("Execution Time") == 4
    assert explain.main([*args, "no_such_audience"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_stale_cached_demo_is_rebuilt(runner: ModuleType, tmp_path: Path) -> None:
    """A demo file cached before the demo gained a table (accounts, ml) is rebuilt, instead of
    failing in the middle of a run."""
    import duckdb
    from bench.warehouses import demo_tables

    path = runner.demo_warehouse(tmp_path, 300)
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE ps_materialize.account_users")
    assert runner.demo_warehouse(tmp_path, 300) == path
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables")
        assert demo_tables() <= {f"{s}.{t}" for s, t in rows.fetchall()}
