"""``la.impact``: what an edit would do, before it is saved or run.

Against the last committed run of the audience's key, who would enter and who would exit if
the (edited) definition ran now. Nothing is stored and no event is made: the snapshot of
the last run is only read. With no committed run (or no run state at all) every member
would enter, as a first run's backfill does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from linked_audiences.compiler.many import MEMBER
from linked_audiences.conditions import Audience
from linked_audiences.graph import DataGraph
from linked_audiences.insights.sets import member_sets
from linked_audiences.runs.ledger import Committed, Ledger
from linked_audiences.runs.state import DEFAULT_SCHEMA, MEMBERS, RUNS, State
from linked_audiences.sql import cast_to, col, named, select, string
from linked_audiences.warehouse import Warehouse

#: Ids listed per side (the counts are exact).
SAMPLE = 100


@dataclass(frozen=True)
class Impact:
    audience_key: str
    as_of: datetime
    #: The run compared with; None when the key has no committed run.
    baseline_run_id: str | None
    baseline_as_of: datetime | None
    members: int
    entered: int
    exited: int
    #: The first :data:`SAMPLE` ids of each side, lowest first.
    entering: tuple[str, ...]
    exiting: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "audience_key": self.audience_key,
            "as_of": self.as_of.isoformat(),
            "baseline_run_id": self.baseline_run_id,
            "baseline_as_of": self.baseline_as_of.isoformat() if self.baseline_as_of else None,
            "members": self.members,
            "entered": self.entered,
            "exited": self.exited,
            "entering": list(self.entering),
            "exiting": list(self.exiting),
        }


def impact(
    new: Audience,
    graph: DataGraph,
    warehouse: Warehouse,
    as_of: datetime | str | None = None,
    audiences: Sequence[Audience] = (),
    *,
    state_schema: str = DEFAULT_SCHEMA,
    sample: int = SAMPLE,
) -> Impact:
    """Who would enter and exit if ``new`` ran now, against its key's last committed run."""
    sets = member_sets({"new": new}, graph, warehouse, as_of=as_of, audiences=audiences)
    baseline = _baseline(warehouse, new.key, state_schema)
    text = sets.dialect.TEXT_TYPE, sets.dialect.sqlglot_dialect
    now = select([named(cast_to(col("n", MEMBER), *text), "id")], sets.members("new", "n"))
    if baseline is not None:
        state = State(warehouse, state_schema)
        then: exp.Select = select(
            [named(col("o", "profile_id"), "id")],
            state.table(MEMBERS, "o"),
            where=[
                exp.EQ(this=col("o", "audience_key"), expression=string(new.key)),
                exp.EQ(this=col("o", "run_id"), expression=string(baseline.run_id)),
            ],
        )
    else:  # no run to compare with: an empty baseline of the right type
        then = select(
            [named(cast_to(exp.null(), *text), "id")], sets.members("new", "z"), where=[exp.false()]
        )
    side = exp.Case(
        ifs=[
            exp.If(this=exp.Is(this=col("b", "id"), expression=exp.null()), true=string("enter")),
            exp.If(this=exp.Is(this=col("a", "id"), expression=exp.null()), true=string("exit")),
        ],
        default=string("stay"),
    )
    diff = select(
        [
            named(exp.Coalesce(this=col("a", "id"), expressions=[col("b", "id")]), "id"),
            named(side, "side"),
        ],
        now.subquery("a"),
        joins=[
            exp.Join(
                this=then.subquery("b"),
                on=exp.EQ(this=col("a", "id"), expression=col("b", "id")),
                side="FULL",
            )
        ],
    ).subquery("d")
    ranked = select(
        [
            col("d", "id"),
            col("d", "side"),
            named(
                exp.Window(this=exp.Count(this=exp.Star()), partition_by=[col("d", "side")]),
                "total",
            ),
            named(
                exp.Window(
                    this=exp.RowNumber(),
                    partition_by=[col("d", "side")],
                    order=exp.Order(expressions=[exp.Ordered(this=col("d", "id"))]),
                ),
                "rn",
            ),
        ],
        diff,
    ).subquery("r")
    query = select(
        [col("r", "side"), col("r", "id"), col("r", "total")],
        ranked,
        where=[exp.LTE(this=col("r", "rn"), expression=exp.Literal.number(max(sample, 1)))],
    )
    totals: dict[str, int] = {}
    ids: dict[str, list[str]] = {"enter": [], "exit": [], "stay": []}
    for side_name, pid, total in warehouse.fetchall(sets.query(query)):
        totals[str(side_name)] = int(total)
        if len(ids[str(side_name)]) < sample:
            ids[str(side_name)].append(str(pid))
    entered, exited = totals.get("enter", 0), totals.get("exit", 0)
    return Impact(
        new.key,
        sets.as_of,
        baseline.run_id if baseline else None,
        baseline.as_of if baseline else None,
        entered + totals.get("stay", 0),
        entered,
        exited,
        tuple(sorted(ids["enter"])),
        tuple(sorted(ids["exit"])),
    )


def _baseline(warehouse: Warehouse, key: str, state_schema: str) -> Committed | None:
    """The key's last committed run, read without creating anything: no run state at all
    means no run to compare with. The catalog is asked first rather than the query tried: a
    failed query would abort the caller's transaction on PostgreSQL."""
    found, _ = warehouse.catalog({f"{state_schema}.{RUNS.name}"})
    if not any(
        str(schema).lower() == state_schema.lower() and str(table).lower() == RUNS.name
        for _, schema, table, *_ in found
    ):
        return None
    history = Ledger(State(warehouse, state_schema), key).committed()
    return history[-1] if history else None
