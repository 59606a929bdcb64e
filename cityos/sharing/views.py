"""Sharing pages (共享交换): the request inbox and outbox, the request form and decision page.

Grants are on cityos.sharing.views_grants, the bureau's pages on cityos.sharing.views_console;
both are included in ``router``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.core.errors import ProblemError, forbidden, invalid
from cityos.core.web import check_csrf, render
from cityos.sharing import deadlines, labels, present, rules, services
from cityos.sharing.schemas import ApproveIn, RequestIn, SubscribeIn
from cityos.sharing.views_common import (
    build,
    district_choices,
    item_rows,
    parse_date,
    participant,
    requester_orgs,
)

router = APIRouter()
PAGE_SIZE = 100


def _check_deadlines(request: Request) -> None:
    settings = request.app.state.settings
    deadlines.run_deadlines(
        request.app.state.db,
        reminder_days=int(settings.share_reminder_days),
        bus=request.app.state.bus,
    )


@router.get("/sharing", response_class=HTMLResponse)
def inbox(request: Request, principal: Principal = Depends(participant)) -> Response:
    """共享申请: requests to decide (inbox, with the working-day clock) and sent (outbox)."""
    _check_deadlines(request)
    tab = request.query_params.get("tab", "inbox")
    if tab not in ("inbox", "outbox"):
        tab = "inbox"
    status = request.query_params.get("status") or None
    with request.app.state.db.session() as session:
        total, rows = services.list_requests(
            session, principal, box=tab, status=status, limit=PAGE_SIZE
        )
        counts = {
            box: services.list_requests(session, principal, box=box, status="pending", limit=0)[0]
            for box in ("inbox", "outbox")
        }
        shown = present.requests_out(session, rows)
    context = {
        "tab": tab,
        "status": status or "",
        "total": total,
        "rows": shown,
        "pending": counts,
        "labels": labels,
        "page_size": PAGE_SIZE,
    }
    return render(request, "sharing/index.html", context)


# --------------------------------------------------------------------------- new request


def _form_page(
    request: Request,
    principal: Principal,
    ident: str,
    values: dict[str, Any],
    problem: ProblemError | None = None,
) -> Response:
    with request.app.state.db.session() as session:
        resource = services.shareable_resource(session, principal, ident)
        items = catalog.get_items(session, resource.id)
        orgs = requester_orgs(session, principal, resource.provider_id)
    if not orgs:
        raise forbidden(
            "Only data officers of a government department or public-service enterprise "
            "other than the provider may ask for shared data."
        )
    context = {
        "resource": resource,
        "items": item_rows(items),
        "orgs": orgs,
        "values": values,
        "districts": district_choices() if any(i.field == "district" for i in items) else [],
        "problem": problem,
    }
    return render(
        request, "sharing/request_new.html", context, status_code=problem.status if problem else 200
    )


@router.get("/sharing/requests/new", response_class=HTMLResponse)
def new_request(request: Request, principal: Principal = Depends(participant)) -> Response:
    """The request form of a resource (?resource=<code>): items, period, rows, purpose, basis."""
    ident = request.query_params.get("resource", "").strip()
    if not ident:
        raise invalid("resource_required", "Choose a resource in the catalogue first.")
    start = services.today()
    values = {
        "items": [],
        "period_start": start.isoformat(),
        "period_end": services.one_year_from(start).isoformat(),
        "districts": [],
        "purpose": "",
        "legal_basis": "",
        "scenario": "",
        "wants_export": False,
        "requester_org_id": "",
    }
    return _form_page(request, principal, ident, values)


@router.post("/sharing/requests/new", response_class=HTMLResponse)
def create_request(
    request: Request,
    resource: str = Form(""),
    requester_org_id: str = Form(""),
    items: list[str] = Form([]),
    period_start: str = Form(""),
    period_end: str = Form(""),
    districts: list[str] = Form([]),
    purpose: str = Form(""),
    legal_basis: str = Form(""),
    scenario: str = Form(""),
    wants_export: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(participant),
) -> Response:
    """Send the request; errors re-render the form with what was typed."""
    check_csrf(request, csrf)
    values = {
        "items": items,
        "period_start": period_start,
        "period_end": period_end,
        "districts": districts,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "scenario": scenario,
        "wants_export": bool(wants_export),
        "requester_org_id": requester_org_id,
    }
    try:
        if not items:
            raise invalid("items_required", "Choose at least one information item.")
        data = build(
            RequestIn,
            resource=resource,
            requester_org_id=requester_org_id or None,
            items=items,
            purpose=purpose,
            legal_basis=legal_basis,
            scenario=scenario,
            period_start=parse_date(period_start, "period_start"),
            period_end=parse_date(period_end, "period_end"),
            row_scope={"district": districts} if districts else {},
            wants_export=bool(wants_export),
        )
        with request.app.state.db.session() as session:
            created = services.create_request(
                session,
                principal,
                data,
                bus=request.app.state.bus,
                limit_days=int(request.app.state.settings.share_decision_days),
            )
            number = created.number
    except ProblemError as problem:
        if problem.status not in (403, 409, 422):
            raise
        return _form_page(request, principal, resource, values, problem)
    return RedirectResponse(f"/sharing/requests/{number}?done=sent", status_code=303)


@router.post("/sharing/subscriptions")
def subscribe(
    request: Request,
    resource: str = Form(""),
    requester_org_id: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(participant),
) -> Response:
    """Subscribe to a 无条件共享 resource from its catalogue page (granted at once)."""
    check_csrf(request, csrf)
    data = build(SubscribeIn, resource=resource, requester_org_id=requester_org_id or None)
    with request.app.state.db.session() as session:
        grant = services.subscribe(session, principal, data, bus=request.app.state.bus)
        number = grant.number
    return RedirectResponse(f"/sharing/grants/{number}?done=subscribed", status_code=303)


# --------------------------------------------------------------------------- one request


def _request_page(
    request: Request,
    principal: Principal,
    request_id: str,
    *,
    problem: ProblemError | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    with request.app.state.db.session() as session:
        share_request = services.get_request(session, principal, request_id)
        shown = present.requests_out(session, [share_request])[0]
        items = catalog.get_items(session, share_request.resource_id)
    asked_scope: dict[str, list[str]] = dict(share_request.row_scope or {})
    has_district = any(i.field == "district" for i in items)
    decide = share_request.status == "pending" and rules.can_decide(principal, share_request)
    context = {
        "r": shown,
        "items": item_rows([i for i in items if i.field in share_request.items]),
        "other_scope": {k: v for k, v in asked_scope.items() if k != "district"},
        "district_options": (asked_scope.get("district") or [c for c, _ in district_choices()])
        if has_district
        else [],
        "district_asked": "district" in asked_scope,
        "can_decide": decide,
        "can_withdraw": share_request.status == "pending"
        and rules.can_withdraw(principal, share_request),
        "labels": labels,
        "form": form or {},
        "problem": problem,
        "done": request.query_params.get("done", ""),
    }
    status = problem.status if problem else 200
    return render(request, "sharing/request.html", context, status_code=status)


@router.get("/sharing/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request_id: str, request: Request, principal: Principal = Depends(participant)
) -> Response:
    """A request: what was asked, the clock, the decision form (provider) or withdraw."""
    return _request_page(request, principal, request_id)


@router.post("/sharing/requests/{request_id}/approve", response_class=HTMLResponse)
def approve(
    request_id: str,
    request: Request,
    items: list[str] = Form([]),
    districts: list[str] = Form([]),
    valid_from: str = Form(""),
    valid_until: str = Form(""),
    allow_export: str = Form(""),
    reason: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(participant),
) -> Response:
    """Approve with the items, districts and period ticked; less than asked needs a reason."""
    check_csrf(request, csrf)
    form = {
        "items": items,
        "districts": districts,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "allow_export": bool(allow_export),
        "reason": reason,
    }
    try:
        with request.app.state.db.session() as session:
            share_request = services.get_request(session, principal, request_id)
            scope = _approved_scope(dict(share_request.row_scope or {}), districts)
            data = build(
                ApproveIn,
                items=items,
                row_scope=scope,
                valid_from=parse_date(valid_from, "valid_from"),
                valid_until=parse_date(valid_until, "valid_until"),
                allow_export=bool(allow_export),
                reason=reason,
            )
            decided = services.approve(
                session, principal, share_request.id, data, bus=request.app.state.bus
            )
            number = decided.number
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return _request_page(request, principal, request_id, problem=problem, form=form)
    return RedirectResponse(f"/sharing/requests/{number}?done=decided", status_code=303)


def _approved_scope(asked: dict[str, list[str]], ticked: list[str]) -> dict[str, list[str]] | None:
    """The rows granted by the form: the asked scope with the districts ticked."""
    ticked = [d for d in ticked if d]
    if "district" in asked:
        return {**asked, "district": ticked}
    if ticked:
        return {**asked, "district": ticked}
    return None


@router.post("/sharing/requests/{request_id}/refuse", response_class=HTMLResponse)
def refuse(
    request_id: str,
    request: Request,
    reason: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(participant),
) -> Response:
    """Refuse the request, with the reason (required)."""
    check_csrf(request, csrf)
    try:
        with request.app.state.db.session() as session:
            decided = services.refuse(
                session, principal, request_id, reason, bus=request.app.state.bus
            )
            number = decided.number
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return _request_page(
            request, principal, request_id, problem=problem, form={"refuse_reason": reason}
        )
    return RedirectResponse(f"/sharing/requests/{number}?done=decided", status_code=303)


@router.post("/sharing/requests/{request_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    request_id: str,
    request: Request,
    csrf: str = Form(""),
    principal: Principal = Depends(participant),
) -> Response:
    """Withdraw our pending request."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        done = services.withdraw(session, principal, request_id, bus=request.app.state.bus)
        number = done.number
    return RedirectResponse(f"/sharing/requests/{number}?done=withdrawn", status_code=303)


from cityos.sharing import views_console, views_grants  # noqa: E402

router.include_router(views_grants.router)
router.include_router(views_console.router)
