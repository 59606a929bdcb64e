"""The department's side: /workbench/demands (the answer queue) and the answer, link and
assignment forms. Data officers see their departments' demands; the bureau (admin) sees all and
assigns departments."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError, forbidden, invalid
from cityos.core.web import check_csrf, render
from cityos.demand import answers, services
from cityos.demand.models import STATUS_CLASS, STATUS_LABELS
from cityos.demand.present import Presenter
from cityos.demand.schemas import AnswerIn
from cityos.demand.views import departments, detail_page

router = APIRouter()
ANSWER_KINDS = ("accepted", "available", "refused")


@router.get("/workbench/demands", response_class=HTMLResponse)
def queue_page(
    request: Request,
    show: str = Query("open", max_length=10),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Demands the officer's departments answer (the bureau: all), oldest open first."""
    if not services.is_officer(principal):
        raise forbidden("Only data officers and the bureau answer demands.")
    with request.app.state.db.session() as session:
        rows = services.queue(session, principal, open_only=show != "all")
        presenter = Presenter(session)
        items = [(d, presenter.department(d)) for d in rows]
        orgs = departments(session) if principal.is_admin else []
    context = {
        "items": items,
        "show": show,
        "departments": orgs,
        "status_labels": STATUS_LABELS,
        "status_class": STATUS_CLASS,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "demand/workbench.html", context)


def _back(target: str, demand_id: str, done: str) -> str:
    if target == "workbench":
        return f"/workbench/demands?done={done}"
    return f"/demands/{demand_id}?done={done}#answer"


def _planned(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise invalid("planned_date_invalid", "The planned date is not a date.") from exc


@router.post("/demands/{demand_id}/answer", response_class=HTMLResponse)
def answer(
    request: Request,
    demand_id: str,
    csrf: str = Form(""),
    kind: str = Form(""),
    planned_on: str = Form("", max_length=20),
    resource: str = Form("", max_length=64),
    text: str = Form("", max_length=5000),
    back: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """The department answers (accepted / available / refused); mistakes re-show the page."""
    check_csrf(request, csrf)
    try:
        if kind not in ANSWER_KINDS:
            raise invalid("answer_kind", "Choose how to answer the demand.")
        body = AnswerIn(kind=kind, planned_on=_planned(planned_on), resource=resource, text=text)
        with request.app.state.db.session() as session:
            answers.answer(session, principal, demand_id, body)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return detail_page(
            request, principal, demand_id, error=problem.detail, status_code=problem.status
        )
    return RedirectResponse(_back(back, demand_id, "answered"), status_code=303)


@router.post("/demands/{demand_id}/link", response_class=HTMLResponse)
def link(
    request: Request,
    demand_id: str,
    csrf: str = Form(""),
    resource: str = Form("", max_length=64),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Link the dataset that will fulfil an accepted demand."""
    check_csrf(request, csrf)
    try:
        with request.app.state.db.session() as session:
            answers.link_dataset(session, principal, demand_id, resource)
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return detail_page(
            request, principal, demand_id, error=problem.detail, status_code=problem.status
        )
    return RedirectResponse(_back("", demand_id, "linked"), status_code=303)


@router.post("/demands/{demand_id}/assign")
def assign(
    request: Request,
    demand_id: str,
    csrf: str = Form(""),
    org_id: str = Form("", max_length=64),
    back: str = Form(""),
    principal: Principal = Depends(roles("admin")),
) -> Response:
    """The bureau (re)assigns the department in charge."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        answers.assign(session, principal, demand_id, org_id)
    return RedirectResponse(_back(back, demand_id, "assigned"), status_code=303)
