"""Public demand pages: /demands (list), /demands/new, /demands/stats, /demands/{id} with votes
and comments. The department's answer forms and the bureau's assignment are in
:mod:`cityos.demand.workbench`. Forms work without JavaScript."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.auth.access import authenticated, public
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError
from cityos.core.web import check_csrf, render
from cityos.demand import ratelimit, services
from cityos.demand.models import STATUS_CLASS, STATUS_LABELS, STATUSES
from cityos.demand.present import Presenter
from cityos.demand.schemas import DemandIn
from cityos.directory import services as directory

router = APIRouter()
PAGE = 20
LABELS = {"status_labels": STATUS_LABELS, "status_class": STATUS_CLASS, "statuses": STATUSES}
FORM_FIELDS = (
    "title",
    "description",
    "fields_wanted",
    "data_format",
    "update_frequency",
    "scenario",
    "contact",
    "org_id",
)


def departments(session: Session) -> list[tuple[str, str]]:
    """Government departments and public-service enterprises, for the department choice."""
    orgs = directory.list_organisations(session)
    return [(o.id, o.name) for o in orgs if o.kind in ("government", "enterprise")]


@router.get("/demands", response_class=HTMLResponse)
def demand_list(
    request: Request,
    status: str = Query("", max_length=20),
    department: str = Query("", max_length=64),
    q: str = Query("", max_length=100),
    sort: str = Query("newest", max_length=10),
    page: int = Query(1, ge=1, le=10_000),
    _: Principal = Depends(public),
) -> Response:
    """Demands for open data: filters by status and department, text search, sort."""
    form = {"status": status, "department": department, "q": q, "sort": sort}
    filters = services.Filters(status or None, department or None, q or None, sort or "newest")
    with request.app.state.db.session() as session:
        total, rows = services.list_demands(session, filters, limit=PAGE, offset=(page - 1) * PAGE)
        presenter = Presenter(session)
        context: dict[str, Any] = {
            "demands": [(d, presenter.department(d)) for d in rows],
            "counts": services.status_counts(session),
            "departments": departments(session),
        }
    context.update(
        total=total,
        form=form,
        page=page,
        pages=max(1, -(-total // PAGE)),
        qs=lambda **extra: urlencode({**{k: v for k, v in form.items() if v}, **extra}),
        **LABELS,
    )
    return render(request, "demand/list.html", context)


def _form_page(
    request: Request,
    values: dict[str, str],
    *,
    error: str = "",
    similar: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    with request.app.state.db.session() as session:
        orgs = departments(session)
    context = {"values": values, "error": error, "similar": similar or [], "departments": orgs}
    return render(request, "demand/new.html", context, status_code=status_code)


@router.get("/demands/new", response_class=HTMLResponse)
def new_demand_form(
    request: Request, title: str = Query("", max_length=120), _: Principal = Depends(public)
) -> Response:
    """The form to propose a demand (anonymous visitors are asked to sign in or register)."""
    return _form_page(request, {"title": title})


@router.post("/demands/new", response_class=HTMLResponse)
def new_demand(
    request: Request,
    csrf: str = Form(""),
    title: str = Form("", max_length=500),
    description: str = Form("", max_length=20000),
    fields_wanted: str = Form("", max_length=5000),
    data_format: str = Form("", max_length=500),
    update_frequency: str = Form("", max_length=500),
    scenario: str = Form("", max_length=5000),
    contact: str = Form("", max_length=500),
    org_id: str = Form("", max_length=64),
    website: str = Form("", max_length=500),
    confirm_new: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Propose a demand; similar titles are shown first; 429 page over the hourly limit."""
    check_csrf(request, csrf)
    values = dict(
        zip(
            FORM_FIELDS,
            (
                title,
                description,
                fields_wanted,
                data_format,
                update_frequency,
                scenario,
                contact,
                org_id,
            ),
            strict=True,
        )
    )
    try:
        ratelimit.check(request)
    except ProblemError as problem:
        context = {"problem": problem}
        response = render(request, "demand/limited.html", context, status_code=429)
        response.headers.update(problem.headers)
        return response
    data = DemandIn(**{**values, "org_id": org_id or None, "website": website})
    try:
        services.validate(data)
    except ProblemError as problem:
        return _form_page(request, values, error=problem.detail, status_code=422)
    with request.app.state.db.session() as session:
        similar = [] if confirm_new else services.similar(session, data.title)
    if similar:
        return _form_page(request, values, similar=similar)
    try:
        with request.app.state.db.session() as session:
            demand_id = services.create(session, principal, data).id
    except ProblemError as problem:
        if problem.status != 422:
            raise
        return _form_page(request, values, error=problem.detail, status_code=422)
    ratelimit.record(request)
    return RedirectResponse(f"/demands/{demand_id}?done=created", status_code=303)


@router.get("/demands/stats", response_class=HTMLResponse)
def demand_stats(request: Request, _: Principal = Depends(public)) -> Response:
    """Public statistics of demands and response times."""
    with request.app.state.db.session() as session:
        stats = services.public_stats(session, request.app.state.settings.demand_answer_days)
    months = [asdict(m) for m in stats.by_month]
    return render(request, "demand/stats.html", {"stats": stats, "months": months, **LABELS})


def detail_context(session: Session, principal: Principal, demand_id: str) -> dict[str, Any]:
    demand = services.get(session, demand_id)
    presenter = Presenter(session)
    return {
        "demand": demand,
        "department": presenter.department(demand),
        "response_days": presenter.days(demand),
        "voted": services.has_voted(session, demand.id, principal.user_id),
        "comments": services.comments_of(session, demand.id),
        "can_answer": services.can_answer(principal, demand),
        "departments": departments(session) if principal.is_admin else [],
        "names": presenter.names,
        **LABELS,
    }


def detail_page(
    request: Request,
    principal: Principal,
    demand_id: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    with request.app.state.db.session() as session:
        context = detail_context(session, principal, demand_id)
    context.update(done=request.query_params.get("done", ""), error=error)
    return render(request, "demand/detail.html", context, status_code=status_code)


@router.get("/demands/{demand_id}", response_class=HTMLResponse)
def demand_detail(
    request: Request, demand_id: str, principal: Principal = Depends(public)
) -> Response:
    """One demand: description, votes, comments and the department's answer."""
    return detail_page(request, principal, demand_id)


@router.post("/demands/{demand_id}/vote")
def vote(
    request: Request,
    demand_id: str,
    csrf: str = Form(""),
    action: str = Form("vote"),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Support a demand, or withdraw the support (action=unvote)."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        if action == "unvote":
            services.unvote(session, principal, demand_id)
        else:
            services.vote(session, principal, demand_id)
    return RedirectResponse(f"/demands/{demand_id}?done={action}#votes", status_code=303)


@router.post("/demands/{demand_id}/comment")
def comment(
    request: Request,
    demand_id: str,
    csrf: str = Form(""),
    text: str = Form("", max_length=5000),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Add a comment (official when written by the department's officers)."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        services.comment(session, principal, demand_id, text)
    return RedirectResponse(f"/demands/{demand_id}?done=comment#comments", status_code=303)
