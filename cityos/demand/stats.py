"""Public statistics of demands: counts by status, response times in working days, per
department and per month. Response time = working days after the day of submission up to the day
of the answer (Asia/Shanghai, on the working-day calendar of cityos.sharing.calendar)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.demand.models import ANSWERED, Demand
from cityos.directory import services as directory
from cityos.sharing.calendar import WorkCalendar, load_calendar, local_day

ANSWER_LIMIT_DAYS = 10


@dataclass(frozen=True)
class DepartmentStats:
    org_id: str | None
    department: str
    total: int
    answered: int
    open: int
    median_response_days: float | None


@dataclass(frozen=True)
class MonthStats:
    month: str  # YYYY-MM, Asia/Shanghai
    submitted: int
    answered: int


@dataclass(frozen=True)
class DemandStats:
    total: int
    open: int
    accepted: int
    available: int
    refused: int
    fulfilled: int
    answered_within_limit: int
    median_response_days: float | None
    by_department: list[DepartmentStats] = field(default_factory=list)
    p90_response_days: float | None = None
    answered_share: float = 0.0
    limit_days: int = ANSWER_LIMIT_DAYS
    by_month: list[MonthStats] = field(default_factory=list)


def response_days(calendar: WorkCalendar, created_at: datetime, answered_at: datetime) -> int:
    """Working days after the day of submission up to and including the day of the answer."""
    first = local_day(created_at) + timedelta(days=1)
    return calendar.working_days(first, local_day(answered_at))


def percentile(values: list[int], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return float(ordered[rank - 1])


def median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def public_stats(session: Session, limit_days: int = ANSWER_LIMIT_DAYS) -> DemandStats:
    """Everything /demands/stats shows; one pass over the demands."""
    calendar = load_calendar(session)
    rows = list(
        session.execute(
            select(Demand.org_id, Demand.status, Demand.created_at, Demand.answered_at)
        ).tuples()
    )
    counts: dict[str, int] = defaultdict(int)
    days: list[int] = []
    per_org: dict[str | None, list[int]] = defaultdict(list)
    org_counts: dict[str | None, list[int]] = defaultdict(
        lambda: [0, 0, 0]
    )  # total, answered, open
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for org_id, status, created_at, answered_at in rows:
        counts[status] += 1
        org_counts[org_id][0] += 1
        months[local_day(created_at).strftime("%Y-%m")][0] += 1
        if status == "open":
            org_counts[org_id][2] += 1
        if status in ANSWERED and answered_at is not None:
            n = response_days(calendar, created_at, answered_at)
            days.append(n)
            per_org[org_id].append(n)
            org_counts[org_id][1] += 1
            months[local_day(answered_at).strftime("%Y-%m")][1] += 1
    names = directory.organisation_names(session)
    by_department = [
        DepartmentStats(
            org_id, names.get(org_id or "", ""), c[0], c[1], c[2], median(per_org[org_id])
        )
        for org_id, c in org_counts.items()
    ]
    by_department.sort(key=lambda d: (-d.total, d.department))
    total = len(rows)
    return DemandStats(
        total=total,
        open=counts["open"],
        accepted=counts["accepted"],
        available=counts["available"],
        refused=counts["refused"],
        fulfilled=counts["fulfilled"],
        answered_within_limit=sum(1 for n in days if n <= limit_days),
        median_response_days=median(days),
        by_department=by_department,
        p90_response_days=percentile(days, 0.9),
        answered_share=round(len(days) / total, 4) if total else 0.0,
        limit_days=limit_days,
        by_month=[MonthStats(m, v[0], v[1]) for m, v in sorted(months.items())],
    )
