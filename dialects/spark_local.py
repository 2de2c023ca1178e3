"""A local Spark session behind the small DB-API surface the library uses
(``databricks://local?spark=local[2]``).

Databricks SQL is Spark SQL; a local session is how a data engineer tries an audience on
their laptop, and how the tests run the Databricks SQL on a real engine (the
databricks-sql-connector cannot talk to local Spark). The session in use is taken when there
is one, and a session this adapter did not start is never stopped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from sqlglot import exp

_groups = itertools.count()


class SparkConnection:
    def __init__(self, spark: Any, *, owned: bool) -> None:
        self.spark, self.owned = spark, owned
        #: Shown with every job in the Spark UI (the run's query tags).
        self.description = "linked-audiences query"

    def cursor(self) -> SparkCursor:
        return SparkCursor(self)

    def commit(self) -> None:
        """Every statement commits by itself."""

    def close(self) -> None:
        if self.owned:
            self.spark.stop()

    def columns(self, database: str, table: str) -> list[tuple[str, str]]:
        """(name, type) of a table's columns: local Spark has no information_schema."""
        name = exp.Table(
            this=exp.to_identifier(table, quoted=True), db=exp.to_identifier(database, quoted=True)
        )
        rows = self.spark.sql(exp.Describe(this=name).sql("databricks")).collect()
        found = []
        for row in rows:
            name = row[0]
            if not name or name.startswith("#"):
                break  # partition details follow the columns
            found.append((name, row[1]))
        return found


class SparkCursor:
    def __init__(self, connection: SparkConnection) -> None:
        self.connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self._rows: Iterator[Any] = iter(())
        self._group = f"linked-audiences-{next(_groups)}"

    def execute(self, sql: str) -> SparkCursor:
        context = self.connection.spark.sparkContext
        # set here, on the thread that runs the query: Spark keeps job groups per thread
        context.setJobGroup(self._group, self.connection.description, interruptOnCancel=True)
        frame = self.connection.spark.sql(sql)
        self.description = [
            (f.name, f.dataType.simpleString(), None, None, None, None, None)
            for f in frame.schema.fields
        ]
        self._rows = frame.toLocalIterator() if frame.schema.fields else iter(())
        return self

    def fetchmany(self, size: int = 1000) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in itertools.islice(self._rows, size)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._rows]

    def interrupt(self) -> None:
        self.connection.spark.sparkContext.cancelJobGroup(self._group)

    def close(self) -> None:
        self._rows = iter(())


def local_spark(master: str) -> SparkConnection:
    """The active Spark session, else a new one on ``master`` (stopped on close)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return SparkConnection(active, owned=False)
    spark = (
        SparkSession.builder.master(master)
        .appName("linked-audiences")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return SparkConnection(spark, owned=True)
