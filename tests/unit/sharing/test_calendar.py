"""Working-day arithmetic: weekends, 春节 and 国庆 holidays, make-up working days, edits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from cityos.sharing import calendar
from cityos.sharing.calendar import WorkCalendar, built_in_calendar, clock, due_at

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def test_built_in_days_follow_the_state_council_notices() -> None:
    cal = built_in_calendar()
    # 2026: 春节 Feb 15–23 off, Sat Feb 14 and Sat Feb 28 work
    assert not cal.is_workday(date(2026, 2, 16)) and not cal.is_workday(date(2026, 2, 23))
    assert cal.is_workday(date(2026, 2, 14)) and cal.is_workday(date(2026, 2, 28))
    assert cal.is_workday(date(2026, 1, 4))  # a Sunday after 元旦
    assert cal.is_workday(date(2026, 9, 20)) and cal.is_workday(date(2026, 10, 10))
    assert not cal.is_workday(date(2026, 10, 7)) and cal.is_workday(date(2026, 10, 8))
    # 2025: 国庆+中秋 Oct 1–8 off, Sun Sep 28 and Sat Oct 11 work
    assert not cal.is_workday(date(2025, 10, 8)) and cal.is_workday(date(2025, 10, 11))
    assert cal.is_workday(date(2025, 4, 27))  # a Sunday before 劳动节
    # an ordinary weekend, an ordinary weekday
    assert not cal.is_workday(date(2026, 3, 7)) and cal.is_workday(date(2026, 3, 9))


def test_friday_evening_before_national_day_2025() -> None:
    cal = built_in_calendar()
    due = due_at(cal, at("2025-09-26T21:30:00"), 10)
    # Sun 9/28 (make-up) 1, 9/29 2, 9/30 3, Oct 1–8 off, 10/9 4, 10/10 5, Sat 10/11 (make-up) 6,
    # 10/13 7, 10/14 8, 10/15 9, 10/16 10
    assert due == at("2025-10-16T23:59:59").astimezone(UTC)
    assert due.astimezone(SH).isoformat() == "2025-10-16T23:59:59+08:00"


def test_friday_evening_before_national_day_2026() -> None:
    cal = built_in_calendar()
    due = due_at(cal, at("2026-09-18T19:00:00"), 10)
    # Sun 9/20 1, 9/21–24 2–5, 中秋 9/25–27 off, 9/28–30 6–8, 国庆 10/1–7 off, 10/8 9, 10/9 10
    assert due.astimezone(SH).date() == date(2026, 10, 9)


def test_across_spring_festival_2026() -> None:
    cal = built_in_calendar()
    due = due_at(cal, at("2026-02-13T10:00:00"), 10)
    # Sat 2/14 1, 2/15–23 off, 2/24–27 2–5, Sat 2/28 6, 3/2–3/5 7–10
    assert due.astimezone(SH).date() == date(2026, 3, 5)


def test_submission_day_never_counts_and_local_day_is_used() -> None:
    cal = built_in_calendar()
    monday_morning = due_at(cal, at("2026-03-09T08:00:00"), 1)
    monday_night = due_at(cal, at("2026-03-09T23:59:00"), 1)
    assert monday_morning == monday_night == at("2026-03-10T23:59:59").astimezone(UTC)
    # 17:00 UTC on Friday is already Saturday 01:00 in Haikou: counted from Saturday
    saturday = due_at(cal, datetime(2026, 3, 13, 17, 0, tzinfo=UTC), 1)
    assert saturday.astimezone(SH).date() == date(2026, 3, 16)


def test_edited_calendar_overrides_the_defaults() -> None:
    base = built_in_calendar()
    days = dict(base.days)
    days[date(2026, 3, 10)] = ("holiday", "台风停工", "edited")  # a Tuesday off
    days[date(2026, 2, 28)] = ("holiday", "", "edited")  # the make-up Saturday cancelled
    edited = WorkCalendar(days)
    assert due_at(edited, at("2026-03-09T09:00:00"), 1).astimezone(SH).date() == date(2026, 3, 11)
    assert not edited.is_workday(date(2026, 2, 28))
    assert due_at(edited, at("2026-02-13T10:00:00"), 10).astimezone(SH).date() == date(2026, 3, 6)
    # a year without a notice has weekends only
    assert due_at(base, at("2027-05-03T09:00:00"), 5).astimezone(SH).date() == date(2027, 5, 10)


def test_clock_counts_remaining_and_overdue_working_days() -> None:
    cal = built_in_calendar()
    submitted = at("2025-09-26T21:30:00")
    due = due_at(cal, submitted, 10)
    assert clock(cal, submitted, due, submitted) == calendar.Clock(False, 10, 0)
    # on 10/9 (the 4th working day) 7 remain, today included
    assert clock(cal, submitted, due, at("2025-10-09T09:00:00")).remaining == 7
    assert clock(cal, submitted, due, at("2025-10-16T23:00:00")).remaining == 1
    late = clock(cal, submitted, due, at("2025-10-20T09:00:00"))  # Mon after the due Thursday
    assert late.overdue and late.overdue_days == 2 and late.remaining == 0
    weekend = clock(cal, submitted, due, at("2025-10-18T09:00:00"))
    assert weekend.overdue and weekend.overdue_days == 1
    assert clock(cal, submitted, due, due + timedelta(seconds=1)).overdue


def test_exceptions_hide_cancelled_defaults() -> None:
    days = dict(built_in_calendar().days)
    days[date(2026, 1, 2)] = ("workday", "", "edited")  # 元旦 holiday cancelled (a Friday)
    entries = {e.day: e for e in WorkCalendar(days).exceptions(2026)}
    assert date(2026, 1, 2) not in entries
    assert entries[date(2026, 1, 1)].kind == "holiday" and entries[date(2026, 1, 1)].name == "元旦"
    assert entries[date(2026, 1, 4)].kind == "workday"
    assert entries[date(2026, 1, 4)].source == "built_in"
