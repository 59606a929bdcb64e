"""The answer limit at work: reminders before it, escalation to the bureau after it.

``run_deadlines`` runs in the background every CITYOS_SHARE_DEADLINE_INTERVAL seconds
(cityos.sharing.tasks) and on each inbox page load. Each pending request is reminded once (when
CITYOS_SHARE_REMINDER_DAYS working days or fewer are left) and escalated once (when its due time
has passed); each is marked with one conditional UPDATE, so that concurrent runs never mark,
audit or announce twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.core.bus import Bus
from cityos.core.db import Database, utcnow
from cityos.sharing import calendar
from cityos.sharing.events import emit
from cityos.sharing.models import ShareRequest

BATCH = 500


@dataclass
class DeadlineReport:
    reminded: list[str] = field(default_factory=list)  # request numbers
    escalated: list[str] = field(default_factory=list)


def _mark(session: Session, request: ShareRequest, column: str, now: datetime) -> bool:
    attr = getattr(ShareRequest, column)
    result = session.execute(
        update(ShareRequest)
        .where(ShareRequest.id == request.id, ShareRequest.status == "pending", attr.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def _candidates(session: Session, now: datetime, reminder_days: int) -> list[ShareRequest]:
    # N working days never span more than 2N + 16 calendar days (the longest holiday is 9 days)
    horizon = now + timedelta(days=2 * reminder_days + 16)
    clauses = [(ShareRequest.escalated_at.is_(None)) & (ShareRequest.due_at < now)]
    if reminder_days > 0:
        clauses.append((ShareRequest.reminded_at.is_(None)) & (ShareRequest.due_at <= horizon))
    return list(
        session.scalars(
            select(ShareRequest)
            .where(ShareRequest.status == "pending", or_(*clauses))
            .order_by(ShareRequest.due_at)
            .limit(BATCH)
        )
    )


def check(
    session: Session,
    now: datetime,
    *,
    reminder_days: int = 2,
    bus: Bus | None = None,
) -> DeadlineReport:
    """Remind and escalate the due pending requests in the caller's transaction."""
    report = DeadlineReport()
    cal = calendar.load_calendar(session)
    for request in _candidates(session, now, reminder_days):
        state = calendar.clock(cal, request.submitted_at, request.due_at, now)
        payload = {
            "request_id": request.id,
            "number": request.number,
            "provider_org_id": request.provider_org_id,
            "due_at": request.due_at.isoformat(),
        }
        if state.overdue:
            if request.escalated_at is None and _mark(session, request, "escalated_at", now):
                audit(
                    session,
                    None,
                    "sharing.request.escalate",
                    "share_request",
                    request.id,
                    number=request.number,
                    due_at=request.due_at.isoformat(),
                    overdue_working_days=state.overdue_days,
                )
                emit(session, bus, "sharing.request.escalated", **payload)
                report.escalated.append(request.number)
        elif (
            reminder_days > 0
            and request.reminded_at is None
            and state.remaining <= reminder_days
            and _mark(session, request, "reminded_at", now)
        ):
            audit(
                session,
                None,
                "sharing.request.remind",
                "share_request",
                request.id,
                number=request.number,
                due_at=request.due_at.isoformat(),
                remaining_working_days=state.remaining,
            )
            emit(session, bus, "sharing.request.reminder", **payload)
            report.reminded.append(request.number)
    return report


def run_deadlines(
    db: Database,
    now: datetime | None = None,
    *,
    reminder_days: int = 2,
    bus: Bus | None = None,
) -> DeadlineReport:
    """One deadline check in its own transaction (for the background task and page loads)."""
    with db.session() as session:
        return check(session, now or utcnow(), reminder_days=reminder_days, bus=bus)


def recompute_due(session: Session) -> int:
    """After a calendar edit: move the due time of every pending request (own limit kept)."""
    cal = calendar.load_calendar(session)
    moved = 0
    pending = session.scalars(
        select(ShareRequest).where(ShareRequest.status == "pending").limit(10_000)
    )
    for request in pending:
        due = calendar.due_at(cal, request.submitted_at, request.limit_days)
        if due != request.due_at:
            request.due_at = due
            moved += 1
    session.flush()
    return moved
