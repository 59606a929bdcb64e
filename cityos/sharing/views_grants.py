"""Grant pages: my departments' grants (consumer), grants of our data (provider, with usage)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.core.errors import ProblemError, not_found
from cityos.core.web import check_csrf, render
from cityos.exchange import services as exchange
from cityos.sharing import grant_services, labels, present, rules, services
from cityos.sharing.views_common import item_rows, participant, require_date

router = APIRouter()
PAGE_SIZE = 100
ACTIONS = ("revoke", "suspend", "resume", "renew")


CODES_PAGE = "/exchange/grants/{grant_id}/codes"


def _codes(session: Any, principal: Principal, grant: Any) -> dict[str, Any]:
    """The grant's authorization codes, counted; they are issued on the exchange's page."""
    codes = exchange.list_codes(session, grant.id)
    return {
        "url": CODES_PAGE.format(grant_id=grant.id),
        "total": len(codes),
        "active": sum(1 for c in codes if exchange.status_of(c) == "active"),
        "can_issue": exchange.can_issue(principal, grant),
    }


@router.get("/sharing/grants", response_class=HTMLResponse)
def grants_page(request: Request, principal: Principal = Depends(participant)) -> Response:
    """我的授权: grants to my departments, and grants of my data with their usage."""
    view = request.query_params.get("as", "consumer")
    if view not in ("consumer", "provider"):
        view = "consumer"
    with request.app.state.db.session() as session:
        total, rows = grant_services.list_grants(session, principal, view=view, limit=PAGE_SIZE)
        shown = present.grants_out(session, rows, with_usage=view == "provider")
    manage = {g.id for g in rows if rules.can_manage_grant(principal, g)}
    context = {
        "view": view,
        "total": total,
        "rows": shown,
        "manage": manage,
        "labels": labels,
        "page_size": PAGE_SIZE,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "sharing/grants.html", context)


def _grant_page(
    request: Request,
    principal: Principal,
    grant_id: str,
    *,
    problem: ProblemError | None = None,
) -> Response:
    with request.app.state.db.session() as session:
        grant = grant_services.get_grant(session, principal, grant_id)
        shown = present.grants_out(session, [grant], with_usage=True)[0]
        codes = _codes(session, principal, grant)
        items = item_rows(
            [i for i in catalog.get_items(session, grant.resource_id) if i.field in grant.items]
        )
        origin = None
        if grant.request_id:
            try:
                origin = services.get_request(session, principal, grant.request_id)
            except ProblemError:
                origin = None
    context = {
        "g": shown,
        "items": items,
        "origin": origin,
        "can_manage": rules.can_manage_grant(principal, grant),
        "is_consumer": grant.consumer_org_id in principal.org_ids,
        "codes": codes,
        "labels": labels,
        "problem": problem,
        "done": request.query_params.get("done", ""),
    }
    status = problem.status if problem else 200
    return render(request, "sharing/grant.html", context, status_code=status)


@router.get("/sharing/grants/{grant_id}", response_class=HTMLResponse)
def grant_page(
    grant_id: str, request: Request, principal: Principal = Depends(participant)
) -> Response:
    """A grant: items, rows, period, export, usage, and its management buttons."""
    return _grant_page(request, principal, grant_id)


@router.post("/sharing/grants/{grant_id}/{action}", response_class=HTMLResponse)
def grant_action(
    grant_id: str,
    action: str,
    request: Request,
    reason: str = Form(""),
    valid_until: str = Form(""),
    next: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(participant),
) -> Response:
    """Revoke, suspend (with a reason), resume or renew (a new last day) a grant."""
    check_csrf(request, csrf)
    if action not in ACTIONS:
        raise not_found("action", action)
    try:
        with request.app.state.db.session() as session:
            if action == "renew":
                until = require_date(valid_until, "valid_until")
                grant = grant_services.renew(
                    session, principal, grant_id, until, reason, bus=request.app.state.bus
                )
            else:
                grant = grant_services.change(
                    session, principal, grant_id, action, reason, bus=request.app.state.bus
                )
            number = grant.number
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return _grant_page(request, principal, grant_id, problem=problem)
    target = "/sharing/grants?as=provider" if next == "list" else f"/sharing/grants/{number}"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={action}", status_code=303)
