"""JSON API of sharing under /api/v1/sharing: requests, subscriptions, grants, the calendar."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.core.errors import invalid
from cityos.sharing import calendar, deadlines, grant_services, present, services
from cityos.sharing.models import Grant, ShareRequest
from cityos.sharing.schemas import (
    ApproveIn,
    CalendarDayIn,
    CalendarDayOut,
    CalendarOut,
    GrantList,
    GrantOut,
    ReasonIn,
    RenewIn,
    RequestIn,
    RequestList,
    RequestOut,
    SubscribeIn,
)

router = APIRouter(prefix="/sharing", tags=["sharing"])


def _limit_days(request: Request) -> int:
    return int(request.app.state.settings.share_decision_days)


def _request_out(session: Session, share_request: ShareRequest) -> RequestOut:
    return present.requests_out(session, [share_request])[0]


def _grant_out(session: Session, grant: Grant, *, usage: bool = True) -> GrantOut:
    return present.grants_out(session, [grant], with_usage=usage)[0]


# --------------------------------------------------------------------------- requests


@router.post("/requests", response_model=RequestOut, status_code=201)
def create_request(
    body: RequestIn, request: Request, principal: Principal = Depends(authenticated)
) -> RequestOut:
    """Ask another department for a 有条件共享 resource (data officers of participants).

    409 ``not_shareable`` (不予共享, with the legal basis), 409 ``duplicate_request``."""
    with request.app.state.db.session() as session:
        created = services.create_request(
            session, principal, body, bus=request.app.state.bus, limit_days=_limit_days(request)
        )
        return _request_out(session, created)


@router.get("/requests", response_model=RequestList)
def list_requests(
    request: Request,
    box: str = Query("all", description="inbox (to my departments) | outbox (from them) | all"),
    status: str | None = Query(None, description="pending | approved | partially_approved | …"),
    limit: int = Query(50, ge=0, le=200),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(authenticated),
) -> RequestList:
    """Share requests the caller may see, pending first by due time, with the working-day clock."""
    with request.app.state.db.session() as session:
        total, rows = services.list_requests(
            session, principal, box=box, status=status, limit=limit, offset=offset
        )
        return RequestList(count=total, results=present.requests_out(session, rows))


@router.get("/requests/{request_id}", response_model=RequestOut)
def get_request(
    request_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> RequestOut:
    """One share request by id or number (404 for other departments)."""
    with request.app.state.db.session() as session:
        return _request_out(session, services.get_request(session, principal, request_id))


@router.post("/requests/{request_id}/approve", response_model=RequestOut)
def approve_request(
    request_id: str,
    request: Request,
    body: ApproveIn | None = Body(default=None),
    principal: Principal = Depends(authenticated),
) -> RequestOut:
    """Approve all (no body) or part: fewer items, narrower rows, shorter period, no export.

    A partial approval needs a reason. Creates the grant (kind ``request``)."""
    with request.app.state.db.session() as session:
        decided = services.approve(
            session, principal, request_id, body or ApproveIn(), bus=request.app.state.bus
        )
        return _request_out(session, decided)


@router.post("/requests/{request_id}/refuse", response_model=RequestOut)
def refuse_request(
    request_id: str,
    request: Request,
    body: ReasonIn | None = Body(default=None),
    principal: Principal = Depends(authenticated),
) -> RequestOut:
    """Refuse a pending request; 422 ``reason_required`` without a reason."""
    with request.app.state.db.session() as session:
        decided = services.refuse(
            session, principal, request_id, body.reason if body else "", bus=request.app.state.bus
        )
        return _request_out(session, decided)


@router.post("/requests/{request_id}/withdraw", response_model=RequestOut)
def withdraw_request(
    request_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> RequestOut:
    """The requesting department withdraws its pending request."""
    with request.app.state.db.session() as session:
        done = services.withdraw(session, principal, request_id, bus=request.app.state.bus)
        return _request_out(session, done)


@router.post("/subscriptions", response_model=GrantOut, status_code=201)
def subscribe(
    body: SubscribeIn, request: Request, principal: Principal = Depends(authenticated)
) -> GrantOut:
    """Subscribe to a 无条件共享 resource: a grant of all its items, at once (one year)."""
    with request.app.state.db.session() as session:
        grant = services.subscribe(session, principal, body, bus=request.app.state.bus)
        return _grant_out(session, grant, usage=False)


# --------------------------------------------------------------------------- grants


@router.get("/grants", response_model=GrantList)
def list_grants(
    request: Request,
    as_: str = Query("all", alias="as", description="consumer | provider | all"),
    status: str | None = Query(None, description="active | suspended | revoked"),
    resource: str | None = Query(None, description="Resource id"),
    limit: int = Query(50, ge=0, le=200),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(authenticated),
) -> GrantList:
    """Grants to my departments (as consumer) or of my data (as provider, with usage)."""
    with request.app.state.db.session() as session:
        total, rows = grant_services.list_grants(
            session,
            principal,
            view=as_,
            status=status,
            resource_id=resource,
            limit=limit,
            offset=offset,
        )
        results = present.grants_out(session, rows, with_usage=as_ != "consumer")
        return GrantList(count=total, results=results)


@router.get("/grants/{grant_id}", response_model=GrantOut)
def get_grant(
    grant_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> GrantOut:
    """One grant with its usage: calls, records delivered, last use, purposes."""
    with request.app.state.db.session() as session:
        return _grant_out(session, grant_services.get_grant(session, principal, grant_id))


def _change(
    request: Request, principal: Principal, grant_id: str, action: str, reason: str
) -> GrantOut:
    with request.app.state.db.session() as session:
        grant = grant_services.change(
            session, principal, grant_id, action, reason, bus=request.app.state.bus
        )
        return _grant_out(session, grant)


@router.post("/grants/{grant_id}/revoke", response_model=GrantOut)
def revoke_grant(
    grant_id: str,
    request: Request,
    body: ReasonIn | None = Body(default=None),
    principal: Principal = Depends(authenticated),
) -> GrantOut:
    """Revoke for good (provider or bureau; reason required); codes stop at the next call."""
    return _change(request, principal, grant_id, "revoke", body.reason if body else "")


@router.post("/grants/{grant_id}/suspend", response_model=GrantOut)
def suspend_grant(
    grant_id: str,
    request: Request,
    body: ReasonIn | None = Body(default=None),
    principal: Principal = Depends(authenticated),
) -> GrantOut:
    """Suspend an active grant (reason required); 409 ``grant_state`` otherwise."""
    return _change(request, principal, grant_id, "suspend", body.reason if body else "")


@router.post("/grants/{grant_id}/resume", response_model=GrantOut)
def resume_grant(
    grant_id: str,
    request: Request,
    body: ReasonIn | None = Body(default=None),
    principal: Principal = Depends(authenticated),
) -> GrantOut:
    """Resume a suspended grant; 409 ``grant_state`` otherwise."""
    return _change(request, principal, grant_id, "resume", body.reason if body else "")


@router.post("/grants/{grant_id}/renew", response_model=GrantOut)
def renew_grant(
    grant_id: str, body: RenewIn, request: Request, principal: Principal = Depends(authenticated)
) -> GrantOut:
    """Extend a grant's last day (provider or bureau); 409 for a revoked grant."""
    with request.app.state.db.session() as session:
        grant = grant_services.renew(
            session, principal, grant_id, body.valid_until, body.reason, bus=request.app.state.bus
        )
        return _grant_out(session, grant)


# --------------------------------------------------------------------------- calendar


def calendar_out(session: Session, year: int, decision_days: int) -> CalendarOut:
    cal = calendar.load_calendar(session)
    days = [
        CalendarDayOut(
            day=e.day, weekday=e.day.isoweekday(), kind=e.kind, name=e.name, source=e.source
        )
        for e in cal.exceptions(year)
    ]
    return CalendarOut(
        year=year, built_in=calendar.has_built_in(year), decision_days=decision_days, days=days
    )


@router.get("/calendar", response_model=CalendarOut)
def get_calendar(
    request: Request,
    year: int | None = Query(None, ge=2000, le=2100, description="Default: this year"),
    _: Principal = Depends(authenticated),
) -> CalendarOut:
    """The working-day calendar of a year: holidays and make-up working days (调休)."""
    with request.app.state.db.session() as session:
        return calendar_out(session, year or services.today().year, _limit_days(request))


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid("invalid_date", "Not a date (YYYY-MM-DD): {value}", value=value) from None


@router.put("/calendar/days/{day}", response_model=CalendarDayOut)
def set_calendar_day(
    day: str,
    body: CalendarDayIn,
    request: Request,
    principal: Principal = Depends(roles("admin")),
) -> CalendarDayOut:
    """Make a day a holiday or a make-up working day; pending requests' due times follow."""
    when = _day(day)
    with request.app.state.db.session() as session:
        row = calendar.set_day(session, when, body.kind, body.name, principal)
        deadlines.recompute_due(session)
        return CalendarDayOut(
            day=row.day,
            weekday=row.day.isoweekday(),
            kind=row.kind,
            name=row.name,
            source="edited",
        )


@router.delete("/calendar/days/{day}", status_code=204)
def clear_calendar_day(
    day: str, request: Request, principal: Principal = Depends(roles("admin"))
) -> Response:
    """Make a day ordinary again (weekdays work, weekends rest), built-in default or not."""
    when = _day(day)
    with request.app.state.db.session() as session:
        calendar.clear_day(session, when, principal)
        deadlines.recompute_due(session)
    return Response(status_code=204)
