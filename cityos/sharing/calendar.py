"""The working-day calendar that the 10-working-day answer limit runs on (国发〔2016〕51号).

A day is a working day when it is Monday–Friday, unless it is a public holiday (法定节假日), or
when it is a weekend make-up working day (调休上班日). The built-in defaults below come from the
State Council's yearly notices; the bureau edits the calendar (table ``sharing_calendar_days``,
pages /console/calendar, API /api/v1/sharing/calendar): a row there wins over the default of the
same day. Deleting a day makes it an ordinary day (Monday–Friday work, weekends rest).

A request's due time is the end (23:59:59, Asia/Shanghai) of the N-th working day after the day
it was submitted (N = CITYOS_SHARE_DECISION_DAYS, 10 by default): the submission day itself never
counts, whatever the hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.db import utcnow
from cityos.core.errors import invalid
from cityos.core.i18n import DISPLAY_TZ
from cityos.sharing.models import CALENDAR_KINDS, CalendarDay

HOLIDAY, WORKDAY = "holiday", "workday"
END_OF_DAY = time(23, 59, 59)
MAX_SPAN_DAYS = 3660  # arithmetic never walks further than ten years

# (name, first day off, last day off, make-up working days)
Period = tuple[str, str, str, tuple[str, ...]]

# BUILT-IN DEFAULT, editable by the bureau on /console/calendar (a row in sharing_calendar_days
# wins over the default of its day). Years not listed here have weekends only until the bureau
# adds the State Council's notice for them.
BUILT_IN: dict[int, tuple[Period, ...]] = {
    # 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 2024-11-12)
    2025: (
        ("元旦", "2025-01-01", "2025-01-01", ()),
        ("春节", "2025-01-28", "2025-02-04", ("2025-01-26", "2025-02-08")),
        ("清明节", "2025-04-04", "2025-04-06", ()),
        ("劳动节", "2025-05-01", "2025-05-05", ("2025-04-27",)),
        ("端午节", "2025-05-31", "2025-06-02", ()),
        ("国庆节、中秋节", "2025-10-01", "2025-10-08", ("2025-09-28", "2025-10-11")),
    ),
    # 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04; 国办发明电〔2025〕7号 as recalled,
    # the number is unverified — the dates are those of the published notice)
    2026: (
        ("元旦", "2026-01-01", "2026-01-03", ("2026-01-04",)),
        ("春节", "2026-02-15", "2026-02-23", ("2026-02-14", "2026-02-28")),
        ("清明节", "2026-04-04", "2026-04-06", ()),
        ("劳动节", "2026-05-01", "2026-05-05", ("2026-05-09",)),
        ("端午节", "2026-06-19", "2026-06-21", ()),
        ("中秋节", "2026-09-25", "2026-09-27", ()),
        ("国庆节", "2026-10-01", "2026-10-07", ("2026-09-20", "2026-10-10")),
    ),
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One day that differs from Monday–Friday (or that the bureau named)."""

    day: date
    kind: str  # holiday | workday
    name: str
    source: str  # built_in | edited


def _built_in() -> dict[date, tuple[str, str]]:
    days: dict[date, tuple[str, str]] = {}
    for periods in BUILT_IN.values():
        for name, first, last, makeups in periods:
            day, end = date.fromisoformat(first), date.fromisoformat(last)
            while day <= end:
                days[day] = (HOLIDAY, name)
                day += timedelta(days=1)
            for makeup in makeups:
                days[date.fromisoformat(makeup)] = (WORKDAY, f"{name}调休上班")
    return days


BUILT_IN_DAYS: dict[date, tuple[str, str]] = _built_in()


def ordinary_kind(day: date) -> str:
    """What a day is without any exception: weekdays work, weekends rest."""
    return WORKDAY if day.weekday() < 5 else HOLIDAY


@dataclass(frozen=True)
class WorkCalendar:
    """Built-in defaults overlaid with the bureau's rows: day → (kind, name, source)."""

    days: dict[date, tuple[str, str, str]]

    def is_workday(self, day: date) -> bool:
        entry = self.days.get(day)
        kind = entry[0] if entry else ordinary_kind(day)
        return kind == WORKDAY

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself never counts)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day, found = start, 0
        for _ in range(MAX_SPAN_DAYS):
            day += timedelta(days=1)
            if self.is_workday(day):
                found += 1
                if found == n:
                    return day
        raise ValueError("no working day within ten years")

    def working_days(self, first: date, last: date) -> int:
        """How many working days lie in [first, last] (0 when last < first)."""
        count, day = 0, first
        end = min(last, first + timedelta(days=MAX_SPAN_DAYS))
        while day <= end:
            if self.is_workday(day):
                count += 1
            day += timedelta(days=1)
        return count

    def exceptions(self, year: int) -> list[Entry]:
        """The days of ``year`` that are not ordinary, and the bureau's named entries."""
        out = []
        for day in sorted(d for d in self.days if d.year == year):
            kind, name, source = self.days[day]
            if source == "edited" and not name and kind == ordinary_kind(day):
                continue  # a cancelled default: an ordinary day again
            out.append(Entry(day, kind, name, source))
        return out


def built_in_calendar() -> WorkCalendar:
    return WorkCalendar({d: (k, n, "built_in") for d, (k, n) in BUILT_IN_DAYS.items()})


def load_calendar(session: Session) -> WorkCalendar:
    """The calendar in force: the built-in defaults with the bureau's rows on top."""
    days = {d: (k, n, "built_in") for d, (k, n) in BUILT_IN_DAYS.items()}
    for row in session.scalars(select(CalendarDay)):
        days[row.day] = (row.kind, row.name, "edited")
    return WorkCalendar(days)


def local_day(moment: datetime) -> date:
    return moment.astimezone(DISPLAY_TZ).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 of ``day`` in Asia/Shanghai, as a UTC datetime."""
    return datetime.combine(day, END_OF_DAY, DISPLAY_TZ).astimezone(UTC)


def due_at(calendar: WorkCalendar, submitted_at: datetime, days: int) -> datetime:
    """End of the ``days``-th working day after the (Asia/Shanghai) day of submission."""
    return end_of_day(calendar.add_working_days(local_day(submitted_at), days))


@dataclass(frozen=True, slots=True)
class Clock:
    """Where a pending request stands against its limit."""

    overdue: bool
    remaining: int  # working days left, today included (0 when overdue)
    overdue_days: int  # working days past the due day (0 when not overdue)


def clock(calendar: WorkCalendar, submitted_at: datetime, due: datetime, now: datetime) -> Clock:
    """Working days left (today counts while it is not over) or working days overdue."""
    today, due_day = local_day(now), local_day(due)
    if now <= due:
        first = max(today, local_day(submitted_at) + timedelta(days=1))
        return Clock(False, calendar.working_days(first, due_day), 0)
    return Clock(True, 0, calendar.working_days(due_day + timedelta(days=1), today))


# --------------------------------------------------------------------------- editing


def _check_kind(kind: str) -> None:
    if kind not in CALENDAR_KINDS:
        raise invalid(
            "invalid_calendar_kind",
            "Unknown kind of day: {kind} (holiday or workday).",
            kind=kind,
        )


def set_day(session: Session, day: date, kind: str, name: str, actor: Principal) -> CalendarDay:
    """Make ``day`` a holiday or a make-up working day (replacing the default of that day)."""
    _check_kind(kind)
    name = name.strip()
    if not name:
        raise invalid("calendar_name_required", "Name the day (e.g. 春节 or 国庆节调休上班).")
    if len(name) > 40:
        raise invalid("calendar_name_too_long", "The name is too long (at most 40 characters).")
    row = session.get(CalendarDay, day)
    old = (row.kind, row.name) if row else BUILT_IN_DAYS.get(day)
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.kind, row.name = kind, name
    row.updated_at, row.updated_by = utcnow(), actor.user_id
    session.flush()
    audit(
        session,
        actor,
        "sharing.calendar.set",
        "calendar_day",
        day.isoformat(),
        kind=kind,
        name=name,
        before=list(old) if old else None,
    )
    return row


def clear_day(session: Session, day: date, actor: Principal) -> None:
    """Make ``day`` an ordinary day again, cancelling a built-in default if there is one."""
    row = session.get(CalendarDay, day)
    old = (row.kind, row.name) if row else BUILT_IN_DAYS.get(day)
    if day in BUILT_IN_DAYS:
        if row is None:
            row = CalendarDay(day=day)
            session.add(row)
        row.kind, row.name = ordinary_kind(day), ""
        row.updated_at, row.updated_by = utcnow(), actor.user_id
    elif row is not None:
        session.delete(row)
    session.flush()
    audit(
        session,
        actor,
        "sharing.calendar.clear",
        "calendar_day",
        day.isoformat(),
        before=list(old) if old else None,
    )


def has_built_in(year: int) -> bool:
    return year in BUILT_IN
