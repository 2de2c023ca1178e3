"""The benchmark warehouses: the demo (Segment Profiles Sync layout) and TPC-H, built once.

Both are DuckDB files in the work dir. A file is reused when its meta table says it was
built for the same size, so a second run of the benchmark starts timing at once.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from linked_audiences.demo import ensure_demo_warehouse

_TPCH_TABLES = ("customer", "orders", "lineitem", "supplier", "nation", "region", "part")
_TPCH_META = "tpch.bench_meta"


def log(message: str) -> None:
    """Progress goes to stderr, so stdout stays the Markdown report."""
    print(message, file=sys.stderr, flush=True)


def demo_warehouse(workdir: Path, profiles: int) -> Path:
    """The cached demo of this size, rebuilt when it predates a table the demo now writes
    (the demo's own check is only its size and seed, and a stale cache fails mid-run)."""
    path = workdir / f"demo_{profiles}.duckdb"
    built = ensure_demo_warehouse(path, profiles=profiles, seed=42)
    if not built:
        missing = sorted(demo_tables() - _tables_in(path))
        if missing:
            log(f"The cached demo lacks {', '.join(missing)}: rebuilding it.")
            ensure_demo_warehouse(path, profiles=profiles, seed=42, rebuild=True)
    return path


def demo_tables() -> set[str]:
    """``schema.table`` of every table the demo generator writes."""
    from linked_audiences.examples.generator import _TABLES

    return set(_TABLES) | {"ml.churn_scores"}


def _tables_in(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT table_schema, table_name FROM information_schema.tables")
        return {f"{schema}.{name}" for schema, name in rows.fetchall()}


def _tpch_built(path: Path, scale: float) -> bool:
    if not path.exists():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(f"SELECT scale FROM {_TPCH_META}").fetchone()
    except duckdb.Error:
        return False
    return row is not None and float(row[0]) == scale


def tpchgen() -> str:
    """Path of ``tpchgen-cli`` (next to this Python first, so the venv's copy wins)."""
    beside = Path(sys.executable).parent / "tpchgen-cli"
    if beside.exists():
        return str(beside)
    found = shutil.which("tpchgen-cli")
    if found is None:
        raise FileNotFoundError(
            "tpchgen-cli is not installed: pip install -e '.[bench]' (or pip install tpchgen-cli)"
        )
    return found


def tpch_warehouse(workdir: Path, scale: float) -> Path:
    """Generate TPC-H at ``scale`` as parquet with tpchgen-cli and load it into DuckDB.

    Adds what the data graph needs: ``lineitem.l_id`` (a one-column primary key) and
    ``customer_identifiers`` (one ``user_id`` per customer, so every customer is a profile).
    """
    path = workdir / f"tpch_sf{scale:g}.duckdb"
    if _tpch_built(path, scale):
        log(f"Using the TPC-H warehouse at {path} (SF {scale:g}).")
        return path
    parquet = workdir / f"tpch_sf{scale:g}_parquet"
    parquet.mkdir(parents=True, exist_ok=True)
    log(f"Generating TPC-H SF {scale:g} as parquet in {parquet} …")
    started = time.perf_counter()
    subprocess.run(
        [tpchgen(), "parquet", "-s", f"{scale:g}", "-o", str(parquet), "--overwrite"],
        check=True,
    )
    log(f"  generated in {time.perf_counter() - started:.1f} s; loading into {path} …")
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA tpch")
        for table in _TPCH_TABLES:
            begun = time.perf_counter()
            source = str(parquet / f"{table}.parquet")
            if table == "lineitem":
                select = "SELECT l_orderkey * 8 + l_linenumber AS l_id, * FROM read_parquet(?)"
            else:
                select = "SELECT * FROM read_parquet(?)"
            con.execute(f"CREATE TABLE tpch.{table} AS {select}", [source])
            rows = con.execute(f"SELECT count(*) FROM tpch.{table}").fetchone()
            log(
                f"  tpch.{table}: {rows[0] if rows else 0:,} rows in "
                f"{time.perf_counter() - begun:.1f} s"
            )
        con.execute(
            "CREATE TABLE tpch.customer_identifiers AS SELECT c_custkey, 'user_id' AS type, "
            "CAST(c_custkey AS VARCHAR) AS value FROM tpch.customer"
        )
        con.execute(f"CREATE TABLE {_TPCH_META} (scale DOUBLE)")
        con.execute(f"INSERT INTO {_TPCH_META} VALUES (?)", [scale])
    shutil.rmtree(parquet)
    log(f"Built in {time.perf_counter() - started:.1f} s.")
    return path
