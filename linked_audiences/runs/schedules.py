"""When an audience runs by itself: Segment's schedule options as data, and pure time arithmetic.

Three kinds, as in Segment (SEGMENT-NOTES §3 "Runs: Schedules"):

- ``manual`` — never due by itself; a person or a job starts it.
- ``interval`` — every 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h or 1d, at UTC boundaries aligned like
  cron (``2h`` runs at 00:00, 02:00, … UTC; ``1d`` at 00:00 UTC), whatever time zone the caller
  lives in.
- ``day_time`` — on the named weekdays at a local wall time in an IANA time zone.

The functions never read the clock: the caller passes ``after`` / ``now``, so every answer is
reproducible. Segment schedules the next run only when the current one ends; pass the time the
previous run *started* to catch up on a slot missed while it ran, or the time it *finished* to
skip such slots as Segment does.

>>> from datetime import datetime, timezone
>>> next_run_at(IntervalSchedule(every="2h"), datetime(2026, 5, 6, 3, 0, tzinfo=timezone.utc))
datetime.datetime(2026, 5, 6, 4, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from datetime import time as dt_time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "INTERVALS",
    "WEEKDAYS",
    "DayTimeSchedule",
    "Interval",
    "IntervalSchedule",
    "ManualSchedule",
    "Schedule",
    "Weekday",
    "is_due",
    "next_run_at",
]

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)

Interval = Literal["15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d"]
#: Each interval divides a day, so alignment to the Unix epoch is alignment to UTC midnight.
INTERVALS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "2h": timedelta(hours=2),
    "4h": timedelta(hours=4),
    "6h": timedelta(hours=6),
    "8h": timedelta(hours=8),
    "12h": timedelta(hours=12),
    "1d": timedelta(days=1),
}

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
#: In ``date.weekday()`` order: Monday is 0.
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class _ScheduleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManualSchedule(_ScheduleBase):
    """Runs only when started by hand (Segment's "Run Now") or by the caller's own job."""

    type: Literal["manual"] = "manual"


class IntervalSchedule(_ScheduleBase):
    """Runs at every multiple of ``every`` since 00:00 UTC (cron-aligned, in UTC)."""

    type: Literal["interval"] = "interval"
    every: Interval


class DayTimeSchedule(_ScheduleBase):
    """Runs at local wall time ``time`` ("HH:MM", 24-hour) on ``days`` in ``timezone`` (IANA)."""

    type: Literal["day_time"] = "day_time"
    # Emptiness is checked in the validator, so a misspelt day is not also reported as "too
    # short"; the schema still says minItems 1.
    days: tuple[Weekday, ...] = Field(json_schema_extra={"minItems": 1})
    time: str
    timezone: str

    @field_validator("days")
    @classmethod
    def _days_unique(cls, days: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        if not days:
            raise ValueError("days must name at least one weekday")
        repeated = sorted({day for day in days if days.count(day) > 1}, key=WEEKDAYS.index)
        if repeated:
            raise ValueError(f"days must not repeat: {', '.join(repeated)}")
        return days

    @field_validator("time")
    @classmethod
    def _time_hh_mm(cls, value: str) -> str:
        if not _HH_MM.fullmatch(value):
            raise ValueError(f"time must be HH:MM on a 24-hour clock (00:00–23:59), got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(
                f"timezone must be an IANA time zone name such as 'America/New_York' or "
                f"'UTC', got {value!r}"
            ) from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_time(self) -> dt_time:
        hours, minutes = self.time.split(":")
        return dt_time(int(hours), int(minutes))


Schedule = Annotated[
    ManualSchedule | IntervalSchedule | DayTimeSchedule,
    Field(discriminator="type"),
]


def next_run_at(schedule: Schedule, after: datetime) -> datetime | None:
    """The first scheduled run time strictly after ``after``, as an aware UTC ``datetime``.

    ``after`` must be timezone-aware (any zone); a naive one raises ``ValueError``. A manual
    schedule has no run times: ``None``.

    Interval schedules count in UTC from midnight, so they are unaffected by daylight saving:
    a ``1h`` schedule runs 24 times on every day, including the days clocks change.

    Day-and-time schedules run at a local wall time, and daylight saving makes some wall
    times special:

    - **Spring forward (gap).** A wall time that does not exist that day runs at the first
      instant after the gap. In America/New_York on 2026-03-08 clocks jump from 02:00 EST to
      03:00 EDT, so 02:30 runs at 03:00 EDT = 07:00 UTC. (A whole skipped day, as in
      Pacific/Apia on 2011-12-30, runs at 00:00 of the next local day.)
    - **Fall back (overlap).** A wall time that occurs twice runs once, at its first
      occurrence (``fold=0``). In America/New_York on 2026-11-01, 01:30 happens at 05:30 UTC
      (EDT) and again at 06:30 UTC (EST); the schedule runs at 05:30 UTC only, and the run
      after that is the next scheduled day.
    """
    _require_aware(after, "after")
    if isinstance(schedule, ManualSchedule):
        return None
    if isinstance(schedule, IntervalSchedule):
        step = INTERVALS[schedule.every]
        # timedelta // timedelta is an exact integer: no float rounding at boundaries.
        return EPOCH + ((after - EPOCH) // step + 1) * step
    return _next_day_time(schedule, after)


def is_due(schedule: Schedule, last_run_at: datetime | None, now: datetime) -> bool:
    """Whether a scheduled time ``t`` exists with ``last_run_at < t <= now``.

    An audience that never ran (``last_run_at`` is ``None``) is due at once unless its
    schedule is manual; a manual schedule is never due. Several missed times make one due
    run, not several. Both datetimes must be timezone-aware.
    """
    _require_aware(now, "now")
    if last_run_at is not None:
        _require_aware(last_run_at, "last_run_at")
    if isinstance(schedule, ManualSchedule):
        return False
    if last_run_at is None:
        return True
    upcoming = next_run_at(schedule, last_run_at)
    return upcoming is not None and upcoming <= now


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware (e.g. datetime.now(timezone.utc)), got naive {value}"
        )


def _next_day_time(schedule: DayTimeSchedule, after: datetime) -> datetime:
    zone = schedule.zone
    at = schedule.local_time
    wanted = {WEEKDAYS.index(day) for day in schedule.days}
    local_day = after.astimezone(zone).date()
    # The run of local day d happens during day d (a gap moves it later, never earlier), and
    # local_to_utc is monotonic, so the first candidate after `after` in date order is the
    # answer. Starting one day early is a guard for gaps that end past midnight; every weekday
    # occurs within local_day + 1 … local_day + 7.
    for shift in range(-1, 9):
        day: date = local_day + timedelta(days=shift)
        if day.weekday() not in wanted:
            continue
        instant = local_to_utc(datetime.combine(day, at), zone)
        if instant > after:
            return instant
    raise AssertionError("unreachable: every weekday occurs within eight days")  # pragma: no cover


def local_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of naive local ``wall`` in ``zone``, resolving DST as `next_run_at` says.

    Existing times map directly; ambiguous ones take the first occurrence (``fold=0``); times
    in a gap map to the transition instant, which is the first instant after the gap.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap: one fold reads the wall time with the offset before the transition, the other
    # with the offset after; the transition lies between the two readings. Transitions fall
    # on whole seconds (TZif), so a binary search over seconds finds it exactly.
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    early, late = sorted((first, second))
    offset_after = late.astimezone(zone).utcoffset()
    low = (early - EPOCH) // ONE_SECOND  # offset before the transition
    high = (late - EPOCH) // ONE_SECOND  # offset after it
    while high - low > 1:
        middle = (low + high) // 2
        if (EPOCH + middle * ONE_SECOND).astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return EPOCH + high * ONE_SECOND
