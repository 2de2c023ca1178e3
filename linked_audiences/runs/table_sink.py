"""A sink that appends events to a warehouse table — for tools that sync from a table
(Segment's own Snowflake writeback keeps each payload as one JSON string column)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlglot import exp

from linked_audiences.runs.state import DEFAULT_SCHEMA, TableSpec
from linked_audiences.sql import col, ident, select, string
from linked_audiences.warehouse import Warehouse

OUTBOX = TableSpec(
    "la_outbox",
    (
        ("message_id", "TEXT"),
        ("type", "TEXT"),
        ("event", "TEXT"),
        ("user_id", "TEXT"),
        ("anonymous_id", "TEXT"),
        ("payload", "TEXT"),
        ("written_at", "TIMESTAMPTZ"),
    ),
)


class WarehouseTableSink:
    """Appends each event as a row; idempotent by ``messageId``: a batch sent again after a
    crash adds nothing, so the table holds every event exactly once."""

    def __init__(
        self, warehouse: Warehouse, table: str = OUTBOX.name, schema: str = DEFAULT_SCHEMA
    ) -> None:
        self.warehouse = warehouse
        self.target = exp.Table(this=ident(table), db=ident(schema))
        self.schema = schema
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        self.warehouse.execute(
            exp.Create(this=exp.Table(this=ident(self.schema)), kind="SCHEMA", exists=True)
        )
        columns = [
            exp.ColumnDef(this=ident(n), kind=exp.DataType.build(t)) for n, t in OUTBOX.columns
        ]
        self.warehouse.execute(
            exp.Create(
                this=exp.Schema(this=self.target.copy(), expressions=columns),
                kind="TABLE",
                exists=True,
            )
        )
        self._ready = True

    def send(self, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        self._ensure()
        now = datetime.now(timezone.utc).isoformat()
        rows = []
        for event in events:
            values = [
                event["messageId"],
                event.get("type"),
                event.get("event"),
                event.get("userId"),
                event.get("anonymousId"),
                json.dumps(event, ensure_ascii=False, sort_keys=True),
            ]
            rows.append(
                exp.Tuple(
                    expressions=[
                        *(
                            string(v) if v is not None else exp.cast(exp.null(), "TEXT")
                            for v in values
                        ),
                        exp.cast(string(now), "TIMESTAMPTZ"),
                    ]
                )
            )
        names = [n for n, _ in OUTBOX.columns]
        incoming = exp.Values(
            expressions=rows,
            alias=exp.TableAlias(this=ident("v"), columns=[ident(n) for n in names]),
        )
        existing = self.target.copy()
        existing.set("alias", exp.TableAlias(this=ident("o")))
        fresh = exp.Not(
            this=exp.Exists(
                this=select(
                    [exp.Literal.number(1)],
                    existing,
                    where=[exp.EQ(this=col("o", "message_id"), expression=col("v", "message_id"))],
                )
            )
        )
        query = select([col("v", n) for n in names], incoming, where=[fresh])
        self.warehouse.execute(
            exp.Insert(
                this=exp.Schema(this=self.target.copy(), expressions=[ident(n) for n in names]),
                expression=query,
            )
        )

    def close(self) -> None:
        """The warehouse belongs to the caller; nothing to release."""
