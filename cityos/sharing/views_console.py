"""The bureau's sharing pages: overdue and escalated requests, and the working-day calendar."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from cityos.auth.access import roles
from cityos.auth.principal import Principal
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError
from cityos.core.web import check_csrf, render
from cityos.sharing import calendar, deadlines, labels, present, services
from cityos.sharing.models import CALENDAR_KINDS, ShareRequest
from cityos.sharing.views_common import require_date

router = APIRouter()
BUREAU = roles("admin", "reviewer")
ADMIN = roles("admin")
WATCH_LIMIT = 200


@router.get("/console/sharing", response_class=HTMLResponse)
def console_sharing(request: Request, _: Principal = Depends(BUREAU)) -> Response:
    """Requests past their limit (escalated) and those about to be, for the bureau to chase."""
    settings = request.app.state.settings
    deadlines.run_deadlines(
        request.app.state.db,
        reminder_days=int(settings.share_reminder_days),
        bus=request.app.state.bus,
    )
    now = utcnow()
    with request.app.state.db.session() as session:
        watched = list(
            session.scalars(
                select(ShareRequest)
                .where(
                    ShareRequest.status == "pending",
                    (ShareRequest.due_at < now + timedelta(days=7))
                    | ShareRequest.reminded_at.is_not(None)
                    | ShareRequest.escalated_at.is_not(None),
                )
                .order_by(ShareRequest.due_at)
                .limit(WATCH_LIMIT)
            )
        )
        rows = present.requests_out(session, watched, now)
        pending_total = services.list_requests(session, _, box="all", status="pending", limit=0)[0]
    overdue = [r for r in rows if r.clock and r.clock.overdue]
    soon = [r for r in rows if r.clock and not r.clock.overdue]
    context = {
        "overdue": overdue,
        "soon": soon,
        "pending_total": pending_total,
        "labels": labels,
        "tab": "sharing",
    }
    return render(request, "sharing/console.html", context)


def _calendar_page(
    request: Request, year: int, *, problem: ProblemError | None = None, form: dict[str, str]
) -> Response:
    with request.app.state.db.session() as session:
        cal = calendar.load_calendar(session)
    entries = cal.exceptions(year)
    context = {
        "year": year,
        "entries": entries,
        "built_in": calendar.has_built_in(year),
        "kinds": CALENDAR_KINDS,
        "labels": labels,
        "decision_days": int(request.app.state.settings.share_decision_days),
        "problem": problem,
        "form": form,
        "done": request.query_params.get("done", ""),
        "tab": "calendar",
    }
    status = problem.status if problem else 200
    return render(request, "sharing/calendar.html", context, status_code=status)


def _year(request: Request) -> int:
    try:
        year = int(request.query_params.get("year", ""))
    except ValueError:
        return services.today().year
    return year if 2000 <= year <= 2100 else services.today().year


@router.get("/console/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, _: Principal = Depends(BUREAU)) -> Response:
    """工作日历: holidays and make-up working days the answer limit runs on; admins edit it."""
    return _calendar_page(request, _year(request), form={})


@router.post("/console/calendar", response_class=HTMLResponse)
def calendar_set(
    request: Request,
    day: str = Form(""),
    kind: str = Form("holiday"),
    name: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(ADMIN),
) -> Response:
    """Add or change a day (holiday or make-up working day); pending due times follow."""
    check_csrf(request, csrf)
    form = {"day": day, "kind": kind, "name": name}
    year = services.today().year
    try:
        when = require_date(day, "day")
        year = when.year
        with request.app.state.db.session() as session:
            calendar.set_day(session, when, kind, name, principal)
            deadlines.recompute_due(session)
    except ProblemError as problem:
        if problem.status != 422:
            raise
        return _calendar_page(request, year, problem=problem, form=form)
    return RedirectResponse(f"/console/calendar?year={year}&done=set", status_code=303)


@router.post("/console/calendar/{day}/delete", response_class=HTMLResponse)
def calendar_clear(
    day: str,
    request: Request,
    csrf: str = Form(""),
    principal: Principal = Depends(ADMIN),
) -> Response:
    """Make a day ordinary again (cancels a built-in holiday or make-up day)."""
    check_csrf(request, csrf)
    when = require_date(day, "day")
    with request.app.state.db.session() as session:
        calendar.clear_day(session, when, principal)
        deadlines.recompute_due(session)
    return RedirectResponse(f"/console/calendar?year={when.year}&done=cleared", status_code=303)
