"""Showcase pages: the public gallery (/showcase), an entry (/showcase/{id}), submitting and
editing (/showcase/new, /showcase/{id}/edit) and the bureau's review queue (/console/showcase)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cityos.auth.access import authenticated, public, roles
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError
from cityos.core.i18n import lazy
from cityos.core.web import check_csrf, render
from cityos.showcase import services
from cityos.showcase.models import ShowcaseApp
from cityos.showcase.schemas import MAX_DATASETS, ShowcaseIn

router = APIRouter()

BUREAU = roles("admin")
PAGE_SIZE = 24
FORM_DATASET_FIELDS = 5
KIND_LABELS = {
    "app": lazy("App"),
    "analysis": lazy("Analysis report"),
    "visualisation": lazy("Visualisation"),
    "research": lazy("Research"),
}
STATUS_LABELS = {
    "submitted": lazy("Waiting for review"),
    "approved": lazy("Shown publicly"),
    "rejected": lazy("Not approved"),
    "withdrawn": lazy("Withdrawn by the submitter"),
}
LABELS = {"kind": KIND_LABELS, "status": STATUS_LABELS}


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10_000 else 1


# --------------------------------------------------------------------------- gallery


@router.get("/showcase", response_class=HTMLResponse)
def gallery(request: Request, principal: Principal = Depends(public)) -> Response:
    """Approved apps and analyses built on open data: cards, filters by kind and dataset,
    search; signed-in users also see their own submissions."""
    query = request.query_params
    q = query.get("q", "").strip()[:200]
    kind = services.resolve_kind(query.get("kind", "")[:16])
    dataset_code = query.get("dataset", "").strip()[:64]
    page = _page_number(query.get("page", "1"))
    with request.app.state.db.session() as session:
        dataset = services.resolve_dataset(session, dataset_code)
        total, apps = services.list_public(
            session,
            kind=kind,
            resource_id=dataset.id if dataset else None,
            q=q,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        own = services.mine(session, principal.user_id) if principal.user_id else []
        used = services.datasets_of(session, [a.id for a in apps])
        choices = services.dataset_choices(session)
    context = {
        "apps": apps,
        "total": total,
        "used": used,
        "own": own,
        "choices": choices,
        "q": q,
        "kind": kind,
        "dataset": dataset,
        "page": page,
        "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        "labels": LABELS,
    }
    return render(request, "showcase/list.html", context)


# --------------------------------------------------------------------------- submit / edit


def _form_page(
    request: Request,
    values: dict[str, Any],
    *,
    app: ShowcaseApp | None = None,
    problem: ProblemError | None = None,
) -> Response:
    with request.app.state.db.session() as session:
        choices = services.dataset_choices(session)
    datasets = list(values.get("datasets", []))
    slots = max(FORM_DATASET_FIELDS, len(datasets))
    context = {
        "values": values,
        "dataset_slots": (datasets + [""] * slots)[:slots],
        "max_datasets": MAX_DATASETS,
        "choices": choices,
        "app": app,
        "labels": LABELS,
        "problem": problem,
    }
    status = problem.status if problem else 200
    return render(request, "showcase/form.html", context, status_code=status)


def _showcase_in(values: dict[str, Any]) -> ShowcaseIn:
    try:
        return ShowcaseIn.model_validate(values)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "code": e["type"], "message": e["msg"]}
            for e in exc.errors()
        ]
        raise ProblemError(
            422, "validation_error", "The request is invalid.", errors=errors
        ) from None


def _form_values(
    title: str, kind: str, summary: str, description: str, url: str, author: str, dataset: list[str]
) -> dict[str, Any]:
    return {
        "title": title,
        "kind": kind,
        "summary": summary,
        "description": description,
        "url": url,
        "author": author,
        "datasets": [d.strip() for d in dataset if d.strip()],
    }


@router.get("/showcase/new", response_class=HTMLResponse)
def new_form(request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """Submit an app or analysis: what it is, where it lives, which open datasets it uses."""
    preset = request.query_params.get("dataset", "").strip()[:64]
    values = {
        "kind": "app",
        "author": principal.display_name,
        "datasets": [preset] if preset else [],
    }
    return _form_page(request, values)


@router.post("/showcase/new", response_class=HTMLResponse)
def create(
    request: Request,
    title: str = Form(""),
    kind: str = Form("app"),
    summary: str = Form(""),
    description: str = Form(""),
    url: str = Form(""),
    author: str = Form(""),
    dataset: list[str] = Form([]),
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Submit the entry from the form; errors re-render the form with the input kept."""
    check_csrf(request, csrf)
    values = _form_values(title, kind, summary, description, url, author, dataset)
    try:
        data = _showcase_in(values)
        with request.app.state.db.session() as session:
            app_id = services.submit(session, data, principal).id
    except ProblemError as problem:
        if problem.status != 422:
            raise
        return _form_page(request, values, problem=problem)
    return RedirectResponse(f"/showcase/{app_id}?done=submitted", status_code=303)


@router.get("/showcase/{app_id}/edit", response_class=HTMLResponse)
def edit_form(
    app_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> Response:
    """Change your own entry while it waits for review."""
    with request.app.state.db.session() as session:
        app = services.own_waiting(session, app_id, principal)
        codes = [r.code for r in services.datasets_of(session, [app.id])[app.id]]
    values = {
        "title": app.title,
        "kind": app.kind,
        "summary": app.summary,
        "description": app.description,
        "url": app.url,
        "author": app.author,
        "datasets": codes,
    }
    return _form_page(request, values, app=app)


@router.post("/showcase/{app_id}/edit", response_class=HTMLResponse)
def save_edit(
    app_id: str,
    request: Request,
    title: str = Form(""),
    kind: str = Form("app"),
    summary: str = Form(""),
    description: str = Form(""),
    url: str = Form(""),
    author: str = Form(""),
    dataset: list[str] = Form([]),
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Save the changed entry; errors re-render the form with the input kept."""
    check_csrf(request, csrf)
    values = _form_values(title, kind, summary, description, url, author, dataset)
    try:
        data = _showcase_in(values)
        with request.app.state.db.session() as session:
            app = services.edit(session, app_id, data, principal)
            app_id = app.id
    except ProblemError as problem:
        if problem.status != 422:
            raise
        with request.app.state.db.session() as session:
            app = services.get_app(session, app_id, principal)
        return _form_page(request, values, app=app, problem=problem)
    return RedirectResponse(f"/showcase/{app_id}?done=saved", status_code=303)


@router.post("/showcase/{app_id}/withdraw")
def withdraw(
    app_id: str,
    request: Request,
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Withdraw your own entry while it waits for review."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        services.withdraw(session, app_id, principal)
    return RedirectResponse(f"/showcase/{app_id}?done=withdrawn", status_code=303)


# --------------------------------------------------------------------------- one entry


@router.get("/showcase/{app_id}", response_class=HTMLResponse)
def detail(app_id: str, request: Request, principal: Principal = Depends(public)) -> Response:
    """An entry: what it is, who made it, the open datasets it uses and its external link."""
    with request.app.state.db.session() as session:
        app = services.get_app(session, app_id, principal)
        datasets = services.datasets_of(session, [app.id])[app.id]
    context = {
        "app": app,
        "datasets": datasets,
        "labels": LABELS,
        "own": services.is_own(principal, app),
        "done": request.query_params.get("done", ""),
    }
    return render(request, "showcase/detail.html", context)


# --------------------------------------------------------------------------- bureau console


def _queue_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    with request.app.state.db.session() as session:
        queue = services.review_queue(session)
        used = services.datasets_of(session, [a.id for a in queue])
    context = {
        "queue": queue,
        "used": used,
        "labels": LABELS,
        "tab": "showcase",
        "done": request.query_params.get("done", ""),
        "done_app": request.query_params.get("app", ""),
        **extra,
    }
    return render(request, "showcase/console.html", context, status_code=status_code)


@router.get("/console/showcase", response_class=HTMLResponse)
def review_queue(request: Request, _: Principal = Depends(BUREAU)) -> Response:
    """The bureau's queue of showcase entries waiting for review, oldest first."""
    return _queue_page(request)


@router.post("/console/showcase/{app_id}", response_class=HTMLResponse)
def review(
    app_id: str,
    request: Request,
    action: str = Form(...),
    reason: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(BUREAU),
) -> Response:
    """Approve, or reject with a reason, an entry; the submitter is notified."""
    check_csrf(request, csrf)
    try:
        with request.app.state.db.session() as session:
            app = services.review(session, app_id, action, principal, reason)
            done = f"{app.status}&app={app.id}"
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return _queue_page(
            request,
            status_code=problem.status,
            error=problem.detail,
            error_id=app_id,
            reason=reason,
        )
    return RedirectResponse(f"/console/showcase?done={done}", status_code=303)
