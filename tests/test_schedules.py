"""Schedules: interval boundaries in UTC, day-and-time in local wall time, DST, `is_due`.

Every expected instant below is worked out by hand (UTC offsets and DST dates are noted next to
the cases), never by calling the function under test a second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from linked_audiences.runs.schedules import (
    DayTimeSchedule,
    IntervalSchedule,
    ManualSchedule,
    Schedule,
    is_due,
    next_run_at,
)

UTC = timezone.utc
SCHEDULE: TypeAdapter[Schedule] = TypeAdapter(Schedule)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def every(interval: str) -> IntervalSchedule:
    return IntervalSchedule.model_validate({"every": interval})


def day_time(days: list[str], time: str, zone: str) -> DayTimeSchedule:
    return DayTimeSchedule.model_validate({"days": days, "time": time, "timezone": zone})


ALL_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

# 2026-05-06 is a Wednesday in the middle of a month: no calendar edge involved.
INTERVAL_CASES = [
    # 15m: :00, :15, :30, :45
    ("15m", utc(2026, 5, 6, 10, 14, 59, 999_999), utc(2026, 5, 6, 10, 15)),
    ("15m", utc(2026, 5, 6, 10, 15), utc(2026, 5, 6, 10, 30)),
    ("15m", utc(2026, 5, 6, 10, 15, 0, 1), utc(2026, 5, 6, 10, 30)),
    ("15m", utc(2026, 5, 6, 10, 45), utc(2026, 5, 6, 11, 0)),
    ("15m", utc(2026, 5, 6, 23, 50), utc(2026, 5, 7, 0, 0)),
    # 30m: :00, :30
    ("30m", utc(2026, 5, 6, 10, 29, 59), utc(2026, 5, 6, 10, 30)),
    ("30m", utc(2026, 5, 6, 10, 30), utc(2026, 5, 6, 11, 0)),
    ("30m", utc(2026, 5, 6, 10, 0), utc(2026, 5, 6, 10, 30)),
    ("30m", utc(2026, 5, 6, 23, 30), utc(2026, 5, 7, 0, 0)),
    # 1h
    ("1h", utc(2026, 5, 6, 10, 0), utc(2026, 5, 6, 11, 0)),
    ("1h", utc(2026, 5, 6, 10, 59, 59, 999_999), utc(2026, 5, 6, 11, 0)),
    ("1h", utc(2026, 5, 6, 10, 0, 0, 1), utc(2026, 5, 6, 11, 0)),
    ("1h", utc(2026, 5, 6, 23, 0), utc(2026, 5, 7, 0, 0)),
    # 2h: even hours
    ("2h", utc(2026, 5, 6, 1, 0), utc(2026, 5, 6, 2, 0)),
    ("2h", utc(2026, 5, 6, 2, 0), utc(2026, 5, 6, 4, 0)),
    ("2h", utc(2026, 5, 6, 1, 59, 59), utc(2026, 5, 6, 2, 0)),
    ("2h", utc(2026, 5, 6, 23, 0), utc(2026, 5, 7, 0, 0)),
    # 4h: 00, 04, 08, 12, 16, 20
    ("4h", utc(2026, 5, 6, 3, 59), utc(2026, 5, 6, 4, 0)),
    ("4h", utc(2026, 5, 6, 4, 0), utc(2026, 5, 6, 8, 0)),
    ("4h", utc(2026, 5, 6, 21, 0), utc(2026, 5, 7, 0, 0)),
    # 6h: 00, 06, 12, 18
    ("6h", utc(2026, 5, 6, 5, 0), utc(2026, 5, 6, 6, 0)),
    ("6h", utc(2026, 5, 6, 6, 0), utc(2026, 5, 6, 12, 0)),
    ("6h", utc(2026, 5, 6, 18, 0), utc(2026, 5, 7, 0, 0)),
    # 8h: 00, 08, 16
    ("8h", utc(2026, 5, 6, 7, 59), utc(2026, 5, 6, 8, 0)),
    ("8h", utc(2026, 5, 6, 8, 0), utc(2026, 5, 6, 16, 0)),
    ("8h", utc(2026, 5, 6, 16, 0), utc(2026, 5, 7, 0, 0)),
    # 12h: 00, 12
    ("12h", utc(2026, 5, 6, 0, 0), utc(2026, 5, 6, 12, 0)),
    ("12h", utc(2026, 5, 6, 11, 59), utc(2026, 5, 6, 12, 0)),
    ("12h", utc(2026, 5, 6, 12, 0), utc(2026, 5, 7, 0, 0)),
    # 1d: 00:00 UTC
    ("1d", utc(2026, 5, 6, 0, 0), utc(2026, 5, 7, 0, 0)),
    ("1d", utc(2026, 5, 6, 12, 0), utc(2026, 5, 7, 0, 0)),
    ("1d", utc(2026, 5, 6, 23, 59, 59, 999_999), utc(2026, 5, 7, 0, 0)),
    ("1d", utc(2026, 5, 5, 23, 59, 59, 999_999), utc(2026, 5, 6, 0, 0)),
    # Month and year ends, leap day.
    ("1d", utc(2026, 1, 31, 0, 0), utc(2026, 2, 1, 0, 0)),
    ("1d", utc(2026, 1, 31, 18, 30), utc(2026, 2, 1, 0, 0)),
    ("6h", utc(2026, 4, 30, 18, 0), utc(2026, 5, 1, 0, 0)),
    ("1d", utc(2027, 2, 28, 0, 0), utc(2027, 3, 1, 0, 0)),  # 2027 is not a leap year
    ("1d", utc(2028, 2, 28, 0, 0), utc(2028, 2, 29, 0, 0)),  # 2028 is
    ("1d", utc(2028, 2, 29, 0, 0), utc(2028, 3, 1, 0, 0)),
    ("8h", utc(2028, 2, 29, 16, 0), utc(2028, 3, 1, 0, 0)),
    ("1d", utc(2026, 12, 31, 0, 0), utc(2027, 1, 1, 0, 0)),
    ("12h", utc(2026, 12, 31, 12, 0), utc(2027, 1, 1, 0, 0)),
    ("15m", utc(2026, 12, 31, 23, 45), utc(2027, 1, 1, 0, 0)),
    ("30m", utc(2026, 12, 31, 23, 59, 59, 999_999), utc(2027, 1, 1, 0, 0)),
]


@pytest.mark.parametrize(("interval", "after", "expected"), INTERVAL_CASES)
def test_interval_next_run(interval: str, after: datetime, expected: datetime) -> None:
    result = next_run_at(every(interval), after)
    assert result == expected
    assert result is not None and result.tzinfo is UTC


def test_every_interval_is_covered() -> None:
    assert {case[0] for case in INTERVAL_CASES} == {
        "15m",
        "30m",
        "1h",
        "2h",
        "4h",
        "6h",
        "8h",
        "12h",
        "1d",
    }


IST = timezone(timedelta(hours=5, minutes=30))
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("interval", "after", "expected"),
    [
        # 2026-01-01 00:10 +05:30 is 2025-12-31 18:40 UTC; boundaries stay UTC-aligned.
        ("15m", datetime(2026, 1, 1, 0, 10, tzinfo=IST), utc(2025, 12, 31, 18, 45)),
        ("1h", datetime(2026, 1, 1, 0, 10, tzinfo=IST), utc(2025, 12, 31, 19, 0)),
        ("1d", datetime(2026, 1, 1, 0, 10, tzinfo=IST), utc(2026, 1, 1, 0, 0)),
        # 01:59 EST (UTC-5) on the New York spring-forward day is 06:59 UTC; DST is irrelevant.
        ("1h", datetime(2026, 3, 8, 1, 59, tzinfo=NEW_YORK), utc(2026, 3, 8, 7, 0)),
        # 01:30 EDT, the first of the two 01:30s on the fall-back day, is 05:30 UTC.
        ("1h", datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK), utc(2026, 11, 1, 6, 0)),
        # ... the second (fold=1, EST) is 06:30 UTC.
        ("1h", datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK), utc(2026, 11, 1, 7, 0)),
    ],
)
def test_interval_with_non_utc_after(interval: str, after: datetime, expected: datetime) -> None:
    assert next_run_at(every(interval), after) == expected


def test_interval_ignores_dst_and_runs_24_times_a_day() -> None:
    # Walk the New York spring-forward day (a 23-hour local day) hour by hour in UTC.
    schedule = every("1h")
    moment = utc(2026, 3, 8, 0, 0)
    runs = []
    while moment < utc(2026, 3, 9, 0, 0):
        result = next_run_at(schedule, moment)
        assert result is not None
        runs.append(result)
        moment = result
    assert len(runs) == 24
    assert runs[-1] == utc(2026, 3, 9, 0, 0)


# --- day and time -------------------------------------------------------------------------------

# Calendar facts used below (2026): Jan 1 is a Thursday, so Jan 2 is a Friday and Jan 5 a Monday;
# Mar 1 is a Sunday; Mar 8 (second Sunday) New York springs forward at 02:00 EST -> 03:00 EDT
# (07:00 UTC); Mar 29 (last Sunday) Berlin springs forward at 02:00 CET -> 03:00 CEST
# (01:00 UTC); Oct 25 (last Sunday) Berlin falls back at 03:00 CEST -> 02:00 CET (01:00 UTC);
# Nov 1 (first Sunday) New York falls back at 02:00 EDT -> 01:00 EST (06:00 UTC).
DAY_TIME_CASES = [
    # Plain winter time in Berlin (CET, UTC+1): Friday and Monday at 18:00 = 17:00 UTC,
    # wrapping over the weekend.
    pytest.param(
        ["friday", "monday"],
        "18:00",
        "Europe/Berlin",
        utc(2026, 1, 2, 16, 59),
        utc(2026, 1, 2, 17),
        id="berlin-friday-before",
    ),
    pytest.param(
        ["friday", "monday"],
        "18:00",
        "Europe/Berlin",
        utc(2026, 1, 2, 17),
        utc(2026, 1, 5, 17),
        id="berlin-friday-exactly-then-monday",
    ),
    pytest.param(
        ["friday", "monday"],
        "18:00",
        "Europe/Berlin",
        utc(2026, 1, 3, 12),
        utc(2026, 1, 5, 17),
        id="berlin-saturday-to-monday",
    ),
    pytest.param(
        ["friday", "monday"],
        "18:00",
        "Europe/Berlin",
        utc(2026, 1, 4, 22, 30),
        utc(2026, 1, 5, 17),
        id="berlin-sunday-night-local-to-monday",
    ),
    pytest.param(
        ["monday", "friday"],
        "18:00",
        "Europe/Berlin",
        utc(2026, 1, 5, 17, 0, 0, 1),
        utc(2026, 1, 9, 17),
        id="berlin-monday-to-friday",
    ),
    pytest.param(
        ["saturday", "sunday"],
        "23:30",
        "UTC",
        utc(2026, 1, 4, 23, 30),
        utc(2026, 1, 10, 23, 30),
        id="weekend-only-wraps-a-week",
    ),
    pytest.param(
        ["wednesday"],
        "09:00",
        "UTC",
        utc(2026, 1, 7, 9),
        utc(2026, 1, 14, 9),
        id="single-day-exactly-then-next-week",
    ),
    # Year end: 2026-12-31 is a Thursday, 2027-01-01 a Friday.
    pytest.param(
        ["friday"],
        "00:00",
        "UTC",
        utc(2026, 12, 31, 12),
        utc(2027, 1, 1, 0),
        id="year-end",
    ),
    # Leap day 2028-02-29 is a Tuesday; America/New_York is on EST (UTC-5) then.
    pytest.param(
        ["tuesday"],
        "21:00",
        "America/New_York",
        utc(2028, 2, 28, 12),
        utc(2028, 3, 1, 2),
        id="leap-day-local-evening-is-next-utc-day",
    ),
    # Pacific/Kiritimati is UTC+14: Monday 09:00 there is Sunday 19:00 UTC.
    pytest.param(
        ["monday"],
        "09:00",
        "Pacific/Kiritimati",
        utc(2026, 3, 1, 18),
        utc(2026, 3, 1, 19),
        id="kiritimati-sunday-utc-is-monday-local",
    ),
    pytest.param(
        ["monday"],
        "09:00",
        "Pacific/Kiritimati",
        utc(2026, 3, 1, 19),
        utc(2026, 3, 8, 19),
        id="kiritimati-exactly-then-next-week",
    ),
    pytest.param(
        # 2026-03-02 00:30 UTC is already Monday 14:30 in Kiritimati: Tuesday 09:00 local is next.
        ["monday", "tuesday"],
        "09:00",
        "Pacific/Kiritimati",
        utc(2026, 3, 2, 0, 30),
        utc(2026, 3, 2, 19),
        id="kiritimati-local-date-ahead-of-utc",
    ),
    # America/New_York spring forward (Sunday 2026-03-08).
    pytest.param(
        ["sunday"],
        "02:30",
        "America/New_York",
        utc(2026, 3, 8, 6, 59),
        utc(2026, 3, 8, 7),
        id="ny-gap-runs-at-03:00-EDT",
    ),
    pytest.param(
        ["sunday"],
        "02:00",
        "America/New_York",
        utc(2026, 3, 1, 12),
        utc(2026, 3, 8, 7),
        id="ny-gap-start-runs-at-03:00-EDT",
    ),
    pytest.param(
        ALL_DAYS,
        "02:30",
        "America/New_York",
        utc(2026, 3, 8, 7),
        utc(2026, 3, 9, 6, 30),
        id="ny-gap-exactly-then-next-day-EDT",
    ),
    pytest.param(
        ALL_DAYS,
        "02:30",
        "America/New_York",
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7),
        id="ny-day-before-gap-EST",
    ),
    pytest.param(
        ["sunday"],
        "01:30",
        "America/New_York",
        utc(2026, 3, 8, 6),
        utc(2026, 3, 8, 6, 30),
        id="ny-before-gap-EST",
    ),
    pytest.param(
        ["sunday"],
        "03:30",
        "America/New_York",
        utc(2026, 3, 8, 6),
        utc(2026, 3, 8, 7, 30),
        id="ny-after-gap-EDT",
    ),
    # America/New_York fall back (Sunday 2026-11-01): 01:30 happens at 05:30 and 06:30 UTC.
    pytest.param(
        ["sunday"],
        "01:30",
        "America/New_York",
        utc(2026, 11, 1, 5),
        utc(2026, 11, 1, 5, 30),
        id="ny-overlap-first-occurrence",
    ),
    pytest.param(
        ["sunday"],
        "01:30",
        "America/New_York",
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 8, 6, 30),
        id="ny-overlap-runs-once",
    ),
    pytest.param(
        ALL_DAYS,
        "01:30",
        "America/New_York",
        utc(2026, 11, 1, 6),
        utc(2026, 11, 2, 6, 30),
        id="ny-overlap-between-occurrences-then-next-day-EST",
    ),
    pytest.param(
        ["sunday"],
        "02:00",
        "America/New_York",
        utc(2026, 11, 1, 0),
        utc(2026, 11, 1, 7),
        id="ny-after-overlap-EST",
    ),
    # Europe/Berlin spring forward (Sunday 2026-03-29): 02:00-02:59 do not exist.
    pytest.param(
        ["sunday"],
        "02:30",
        "Europe/Berlin",
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 1, 0),
        id="berlin-gap-runs-at-03:00-CEST",
    ),
    pytest.param(
        ALL_DAYS,
        "02:30",
        "Europe/Berlin",
        utc(2026, 3, 29, 1, 0),
        utc(2026, 3, 30, 0, 30),
        id="berlin-gap-exactly-then-next-day-CEST",
    ),
    pytest.param(
        ["sunday"],
        "01:59",
        "Europe/Berlin",
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 0, 59),
        id="berlin-last-minute-before-gap-CET",
    ),
    # Europe/Berlin fall back (Sunday 2026-10-25): 02:30 happens at 00:30 (CEST) and 01:30
    # UTC (CET).
    pytest.param(
        ["sunday"],
        "02:30",
        "Europe/Berlin",
        utc(2026, 10, 25, 0, 0),
        utc(2026, 10, 25, 0, 30),
        id="berlin-overlap-first-occurrence",
    ),
    pytest.param(
        ALL_DAYS,
        "02:30",
        "Europe/Berlin",
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
        id="berlin-overlap-runs-once-then-next-day-CET",
    ),
    pytest.param(
        ALL_DAYS,
        "02:30",
        "Europe/Berlin",
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),
        id="berlin-day-before-overlap-CEST",
    ),
    # Pacific/Apia skipped Friday 2011-12-30 entirely (UTC-10 -> UTC+14 at 10:00 UTC): a Friday
    # run takes the first instant after the gap, 2011-12-31 00:00 local.
    pytest.param(
        ["friday"],
        "10:00",
        "Pacific/Apia",
        utc(2011, 12, 29),
        utc(2011, 12, 30, 10),
        id="apia-skipped-day",
    ),
]


@pytest.mark.parametrize(("days", "time", "zone", "after", "expected"), DAY_TIME_CASES)
def test_day_time_next_run(
    days: list[str], time: str, zone: str, after: datetime, expected: datetime
) -> None:
    result = next_run_at(day_time(days, time, zone), after)
    assert result == expected
    assert result is not None and result.tzinfo is UTC


def test_day_time_after_in_another_zone() -> None:
    # Tuesday 2026-01-06 03:00 in Tokyo (UTC+9) is Monday 18:00 UTC, after Monday 17:00 UTC.
    schedule = day_time(["monday", "friday"], "18:00", "Europe/Berlin")
    after = datetime(2026, 1, 6, 3, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert next_run_at(schedule, after) == utc(2026, 1, 9, 17)


def test_manual_never_runs() -> None:
    assert next_run_at(ManualSchedule(), utc(2026, 5, 6)) is None


@pytest.mark.parametrize(
    "schedule",
    [ManualSchedule(), every("1h"), day_time(["monday"], "09:00", "UTC")],
    ids=["manual", "interval", "day_time"],
)
def test_naive_datetimes_are_refused(schedule: Schedule) -> None:
    with pytest.raises(ValueError, match="after must be timezone-aware"):
        next_run_at(schedule, datetime(2026, 5, 6, 10, 0))
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        is_due(schedule, utc(2026, 5, 6), datetime(2026, 5, 6, 10, 0))
    with pytest.raises(ValueError, match="last_run_at must be timezone-aware"):
        is_due(schedule, datetime(2026, 5, 6, 10, 0), utc(2026, 5, 6))


# --- models -------------------------------------------------------------------------------------


def test_discriminated_union_parses_each_kind() -> None:
    assert SCHEDULE.validate_python({"type": "manual"}) == ManualSchedule()
    assert SCHEDULE.validate_python({"type": "interval", "every": "2h"}) == IntervalSchedule(
        every="2h"
    )
    parsed = SCHEDULE.validate_json(
        '{"type": "day_time", "days": ["monday", "thursday"], "time": "07:05",'
        ' "timezone": "Asia/Kolkata"}'
    )
    assert isinstance(parsed, DayTimeSchedule)
    assert parsed.days == ("monday", "thursday")
    assert parsed.model_dump(mode="json") == {
        "type": "day_time",
        "days": ["monday", "thursday"],
        "time": "07:05",
        "timezone": "Asia/Kolkata",
    }


def test_schedules_are_frozen_and_hashable() -> None:
    schedule = day_time(["monday"], "09:00", "UTC")
    with pytest.raises(ValidationError):
        schedule.time = "10:00"  # type: ignore[misc]
    assert hash(schedule) == hash(day_time(["monday"], "09:00", "UTC"))


def _day_time(**fields: object) -> dict[str, object]:
    return {"type": "day_time", "days": ["monday"], "time": "09:00", "timezone": "UTC", **fields}


@pytest.mark.parametrize(
    ("data", "location", "message"),
    [
        (_day_time(timezone="Mars/Olympus_Mons"), ("day_time", "timezone"), "IANA time zone"),
        (_day_time(timezone="utc+2"), ("day_time", "timezone"), "IANA time zone"),
        (_day_time(timezone=""), ("day_time", "timezone"), "IANA time zone"),
        (_day_time(timezone="../../etc/passwd"), ("day_time", "timezone"), "IANA time zone"),
        (_day_time(timezone="America"), ("day_time", "timezone"), "IANA time zone"),
        (_day_time(time="24:00"), ("day_time", "time"), "HH:MM"),
        (_day_time(time="9:00"), ("day_time", "time"), "HH:MM"),
        (_day_time(time="09:60"), ("day_time", "time"), "HH:MM"),
        (_day_time(time="09:00:00"), ("day_time", "time"), "HH:MM"),
        (_day_time(time=" 09:00"), ("day_time", "time"), "HH:MM"),
        (_day_time(time="09:00\n"), ("day_time", "time"), "HH:MM"),
        (_day_time(days=[]), ("day_time", "days"), "at least one weekday"),
        (_day_time(days=["monday", "friday", "monday"]), ("day_time", "days"), "repeat: monday"),
        (_day_time(days=["Monday"]), ("day_time", "days", 0), "'monday'"),
        (_day_time(days=["funday"]), ("day_time", "days", 0), "'monday'"),
        (_day_time(days=[0]), ("day_time", "days", 0), "'monday'"),
        (_day_time(extra=1), ("day_time", "extra"), "Extra inputs"),
        ({"type": "interval", "every": "45m"}, ("interval", "every"), "'15m'"),
        ({"type": "interval"}, ("interval", "every"), "Field required"),
        ({"type": "manual", "every": "1h"}, ("manual", "every"), "Extra inputs"),
        ({"type": "cron", "expr": "* * * * *"}, (), "'manual', 'interval', 'day_time'"),
    ],
)
def test_invalid_schedules_name_the_field(
    data: dict[str, object], location: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        SCHEDULE.validate_python(data)
    errors = caught.value.errors()
    assert [tuple(error["loc"]) for error in errors] == [location]
    assert message in errors[0]["msg"]


def test_day_time_model_errors_name_the_field_directly() -> None:
    with pytest.raises(ValidationError) as caught:
        DayTimeSchedule.model_validate({"days": ["monday"], "time": "9am", "timezone": "Nowhere"})
    assert sorted(tuple(error["loc"]) for error in caught.value.errors()) == [
        ("time",),
        ("timezone",),
    ]
    text = str(caught.value)
    assert "time must be HH:MM" in text and "'Nowhere'" in text


# --- is_due -------------------------------------------------------------------------------------

HOURLY = every("1h")
QUARTERLY = every("15m")
MONDAY_9 = day_time(["monday"], "09:00", "UTC")  # 2026-01-05 and 2026-01-12 are Mondays


@pytest.mark.parametrize(
    ("schedule", "last_run_at", "now", "due"),
    [
        pytest.param(ManualSchedule(), None, utc(2026, 5, 6), False, id="manual-never-run"),
        pytest.param(ManualSchedule(), utc(2020, 1, 1), utc(2026, 5, 6), False, id="manual"),
        pytest.param(HOURLY, None, utc(2026, 5, 6, 10, 17), True, id="interval-never-run"),
        pytest.param(MONDAY_9, None, utc(2026, 1, 7), True, id="day-time-never-run"),
        pytest.param(HOURLY, utc(2026, 5, 6, 10), utc(2026, 5, 6, 10, 59, 59), False, id="early"),
        pytest.param(HOURLY, utc(2026, 5, 6, 10), utc(2026, 5, 6, 11), True, id="t-equals-now"),
        pytest.param(HOURLY, utc(2026, 5, 6, 10, 30), utc(2026, 5, 6, 11), True, id="late-last"),
        pytest.param(HOURLY, utc(2026, 5, 6, 11), utc(2026, 5, 6, 11), False, id="just-ran"),
        pytest.param(HOURLY, utc(2026, 5, 6, 11), utc(2026, 5, 6, 10), False, id="clock-skew"),
        pytest.param(QUARTERLY, utc(2026, 5, 6, 10), utc(2026, 5, 6, 10, 14), False, id="15m-no"),
        pytest.param(QUARTERLY, utc(2026, 5, 6, 10), utc(2026, 5, 6, 12), True, id="missed-many"),
        pytest.param(MONDAY_9, utc(2026, 1, 5, 9), utc(2026, 1, 11, 23, 59), False, id="sunday"),
        pytest.param(MONDAY_9, utc(2026, 1, 5, 9), utc(2026, 1, 12, 9), True, id="next-monday"),
        pytest.param(MONDAY_9, utc(2026, 1, 5, 9, 1), utc(2026, 1, 12, 8, 59), False, id="before"),
    ],
)
def test_is_due(schedule: Schedule, last_run_at: datetime | None, now: datetime, due: bool) -> None:
    assert is_due(schedule, last_run_at, now) is due
