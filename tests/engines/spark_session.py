"""A local Spark session (pyspark, ``local[2]``): the Databricks SQL stand-in.

Tables are plain parquet tables in a temporary warehouse folder (Delta needs jars from the
network). Databricks has no TIME type, so time values are stored as ISO text. Rows go in
through DataFrames with an explicit schema, never as SQL text; every SQL statement also
parses as Databricks SQL.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time
from typing import Any

from sqlglot import exp

from tests.reference.evaluator import Tables

from .standins import check_tables, create_table_sql, reparse, table_expr

#: SPEC §1 data type → Databricks column type.
SPARK_TYPES = {
    "string": "STRING",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time": "STRING",
    "timestamp": "TIMESTAMP",
}


@contextmanager
def spark_session() -> Iterator[Any]:
    """Start one local Spark session (about 10 s); stop it on exit."""
    from pyspark.sql import SparkSession

    folder = tempfile.mkdtemp(prefix="la_spark_")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("linked-audiences-tests")
        .config("spark.sql.warehouse.dir", f"{folder}/warehouse")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={folder}")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def sql(spark: Any, statement: str) -> Any:
    """Run one statement after checking that it parses as Databricks SQL."""
    reparse(statement, "databricks")
    return spark.sql(statement)


def _value(value: Any, dtype: str) -> Any:
    if isinstance(value, time):
        return value.isoformat()
    if dtype == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # DOUBLE columns take only floats from Python
    return value


def databases(default: str, column_types: dict[str, dict[str, str]]) -> list[str]:
    """The example's default database and the graph's schemas (Spark databases)."""
    return sorted({default} | {t.split(".")[-2] for t in column_types if "." in t})


def load_tables(
    spark: Any, default: str, tables: Tables, column_types: dict[str, dict[str, str]]
) -> None:
    """Create the :func:`databases`, the tables, and insert the rows."""
    check_tables(tables, column_types)
    for database in databases(default, column_types):
        name = exp.to_identifier(database, quoted=True).sql("databricks")
        sql(spark, f"CREATE DATABASE IF NOT EXISTS {name}")
    sql(spark, f"USE {exp.to_identifier(default, quoted=True).sql('databricks')}")
    parquet = [exp.FileFormatProperty(this=exp.var("PARQUET"))]
    for table, columns in column_types.items():
        sql(spark, create_table_sql(table, columns, SPARK_TYPES, "databricks", parquet))
        rows = tables.get(table, [])
        if not rows:
            continue
        schema = ", ".join(
            f"{exp.to_identifier(c, quoted=True).sql('databricks')} {SPARK_TYPES[t]}"
            for c, t in columns.items()
        )
        frame = spark.createDataFrame(
            [tuple(_value(row.get(c), t) for c, t in columns.items()) for row in rows],
            schema=schema,
        )
        frame.write.insertInto(table_expr(table).sql("databricks"))


def drop_databases(spark: Any, databases: list[str]) -> None:
    sql(spark, "USE default")
    for database in databases:
        name = exp.to_identifier(database, quoted=True).sql("databricks")
        sql(spark, f"DROP DATABASE IF EXISTS {name} CASCADE")
