"""Redshift: PostgreSQL's rules, Redshift's spelling (sqlglot's redshift dialect)."""

from __future__ import annotations

from .postgres import Postgres


class Redshift(Postgres):
    name = "redshift"
    sqlglot_dialect = "redshift"
    URL_SCHEMES = ("redshift",)
    TEXT_TYPE = "VARCHAR"
    SUPPORTS_RUNS = False  # no JSON_BUILD_OBJECT; SUPER-based payloads come with its adapter
