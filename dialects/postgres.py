"""PostgreSQL: no TRY_CAST (sqlglot would silently write CAST), so casts are regex-guarded."""

from __future__ import annotations

from typing import Any, ClassVar

from .base import ClientUnavailable, WarehouseDialect


class Postgres(WarehouseDialect):
    name = "postgres"
    sqlglot_dialect = "postgres"
    SUPPORTS_TRY_CAST = False
    TEXT_TYPE = "TEXT"
    URL_SCHEMES: ClassVar[tuple[str, ...]] = ("postgresql", "postgres")

    def connect(self, url: str) -> Any:
        try:
            import psycopg  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise ClientUnavailable(
                'PostgreSQL needs its client: pip install "linked-audiences[postgres]"'
            ) from exc
        connection = psycopg.connect(
            url.replace("postgres://", "postgresql://", 1), autocommit=True
        )
        connection.execute("SET TIME ZONE 'UTC'")
        return connection
