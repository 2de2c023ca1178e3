"""Load reference-evaluator tables into bqemulator through google-cloud-bigquery.

Each graph schema is a dataset and bare table names go to the example's default dataset.
Values are typed query parameters (``@p0``), identifiers are quoted by sqlglot, and every
statement also parses as BigQuery SQL.
"""

from __future__ import annotations

from typing import Any

from tests.reference.evaluator import Tables

from .standins import check_tables, create_table_sql, reparse, table_expr

#: SPEC §1 data type → BigQuery column type (and query-parameter type).
BIGQUERY_TYPES = {
    "string": "STRING",
    "number": "FLOAT64",
    "integer": "INT64",
    "boolean": "BOOL",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
}


def query(client: Any, statement: str, dataset: str, params: list[Any] | None = None) -> Any:
    """Run one statement (after checking that it parses as BigQuery SQL); its rows."""
    from google.api_core.retry import Retry
    from google.cloud import bigquery

    reparse(statement, "bigquery")
    config = bigquery.QueryJobConfig(
        default_dataset=f"{client.project}.{dataset}", query_parameters=params or []
    )
    job = client.query(statement, job_config=config, retry=Retry(timeout=30), job_retry=None)
    return list(job.result(timeout=60))


def qualify(table: str, default: str) -> str:
    """``table`` with the example's default dataset when it names none."""
    return table if "." in table else f"{default}.{table}"


def datasets(column_types: dict[str, dict[str, str]], default: str) -> set[str]:
    return {default} | {qualify(t, default).split(".")[-2] for t in column_types}


def load_tables(
    client: Any, default: str, tables: Tables, column_types: dict[str, dict[str, str]]
) -> None:
    """Create the datasets and tables and insert the rows as typed parameters."""
    from google.cloud import bigquery

    check_tables(tables, column_types)
    for dataset in sorted(datasets(column_types, default)):
        client.create_dataset(f"{client.project}.{dataset}", exists_ok=True)
    for table, columns in column_types.items():
        name = qualify(table, default)
        query(client, create_table_sql(name, columns, BIGQUERY_TYPES, "bigquery"), default)
        rows = tables.get(table, [])
        if not rows:
            continue
        params, values = [], []
        for row in rows:
            marks = []
            for column, dtype in columns.items():
                marks.append(f"@p{len(params)}")
                params.append(
                    bigquery.ScalarQueryParameter(
                        f"p{len(params)}", BIGQUERY_TYPES[dtype], row.get(column)
                    )
                )
            values.append("(" + ", ".join(marks) + ")")
        target = table_expr(name).sql("bigquery")
        query(client, f"INSERT INTO {target} VALUES " + ", ".join(values), default, params)


def drop_datasets(client: Any, default: str, column_types: dict[str, dict[str, str]]) -> None:
    for dataset in datasets(column_types, default):
        client.delete_dataset(
            f"{client.project}.{dataset}", delete_contents=True, not_found_ok=True
        )
