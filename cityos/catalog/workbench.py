"""Data officers' workbench (catalogue their resources) and the bureau's confirmation queue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.access import roles
from cityos.auth.principal import Principal
from cityos.catalog import labels, policy, services
from cityos.catalog.forms import (
    ResourceForm,
    form_from_resource,
    to_resource_in,
    to_resource_patch,
)
from cityos.catalog.models import (
    FORMATS,
    ITEM_TYPES,
    OPEN_TYPES,
    SENSITIVITIES,
    SHARE_METHODS,
    SHARE_TYPES,
    UPDATE_CYCLES,
)
from cityos.core.errors import ProblemError, forbidden
from cityos.core.web import check_csrf, render, safe_next
from cityos.directory.codes import DISTRICTS

router = APIRouter()

OFFICER = roles("data_officer", "admin")
BUREAU = roles("admin", "reviewer")


def _providers(session: Any, principal: Principal) -> list[Any]:
    from cityos.directory.services import list_organisations

    orgs = list_organisations(session)
    if principal.is_admin:
        return orgs
    return [o for o in orgs if principal.is_officer_of(o.id)]


def _form_page(
    request: Request,
    principal: Principal,
    form: ResourceForm,
    *,
    resource: Any = None,
    problem: ProblemError | None = None,
) -> Response:
    with request.app.state.db.session() as session:
        providers = _providers(session, principal)
        classes = services.list_classes(session)
    context = {
        "form": form,
        "resource": resource,
        "providers": providers,
        "classes": classes,
        "districts": [c for c in DISTRICTS if c != "460000"],
        "choices": {
            "format": FORMATS,
            "share_type": SHARE_TYPES,
            "share_method": SHARE_METHODS,
            "open_type": OPEN_TYPES,
            "update_cycle": UPDATE_CYCLES,
        },
        "item_types": ITEM_TYPES,
        "sensitivities": SENSITIVITIES,
        "labels": labels,
        "problem": problem,
        "error_fields": {e.get("field", "").split(".")[0] for e in problem.errors}
        if problem
        else set(),
    }
    status = problem.status if problem else 200
    return render(request, "catalog/form.html", context, status_code=status)


def resource_form(
    name: str = Form(""),
    class_code: str = Form(""),
    provider_id: str = Form(""),
    summary: str = Form(""),
    format: str = Form("database"),
    share_type: str = Form("unconditional"),
    share_condition: str = Form(""),
    share_method: str = Form("interface"),
    share_basis: str = Form(""),
    open_type: str = Form("none"),
    open_condition: str = Form(""),
    update_cycle: str = Form("irregular"),
    published_on: str = Form(""),
    keywords: str = Form(""),
    related_codes: str = Form(""),
    key_fields: str = Form(""),
    items: str = Form(""),
    districts: list[str] = Form([]),
) -> ResourceForm:
    """The resource form as typed (a dependency shared by the create and edit handlers)."""
    values = {
        "name": name,
        "class_code": class_code,
        "provider_id": provider_id,
        "summary": summary,
        "format": format,
        "share_type": share_type,
        "share_condition": share_condition,
        "share_method": share_method,
        "share_basis": share_basis,
        "open_type": open_type,
        "open_condition": open_condition,
        "update_cycle": update_cycle,
        "published_on": published_on,
        "keywords": keywords,
        "related_codes": related_codes,
        "key_fields": key_fields,
        "items": items,
    }
    return ResourceForm(values=values, districts=[d for d in districts if d])


@router.get("/workbench", response_class=HTMLResponse)
def workbench(request: Request, principal: Principal = Depends(OFFICER)) -> Response:
    """My organisations' resources in every status, with their workflow actions."""
    with request.app.state.db.session() as session:
        if principal.is_admin and not principal.officer_org_ids:
            resources = services.provider_resources(session, _all_org_ids(session))
        else:
            resources = services.provider_resources(session, principal.officer_org_ids)
        from cityos.directory.services import organisation_names

        names = organisation_names(session)
        item_counts = {
            rid: len(v) for rid, v in services.items_for(session, [r.id for r in resources]).items()
        }
        from cityos.datastore.services import timeliness

        freshness = {
            entry["resource_id"]: entry
            for entry in timeliness(session, provider_ids={r.provider_id for r in resources})
        }
    rows = [
        {
            "resource": r,
            "actions": [
                a for a in services.allowed_actions(principal, r) if a in ("submit", "publish")
            ],
            "items": item_counts.get(r.id, 0),
            "freshness": freshness.get(r.id),
        }
        for r in resources
    ]
    context = {
        "rows": rows,
        "names": names,
        "labels": labels,
        "saved": request.query_params.get("saved", ""),
    }
    return render(request, "catalog/workbench.html", context)


def _all_org_ids(session: Any) -> list[str]:
    from cityos.directory.services import list_organisations

    return [o.id for o in list_organisations(session)]


@router.get("/workbench/resources/new", response_class=HTMLResponse)
def new_resource_form(request: Request, principal: Principal = Depends(OFFICER)) -> Response:
    """The form to catalogue a new resource (all core metadata and its items)."""
    defaults = {
        "format": "database",
        "share_type": "unconditional",
        "share_method": "interface",
        "open_type": "none",
        "update_cycle": "irregular",
    }
    return _form_page(request, principal, ResourceForm(values=defaults, districts=["460100"]))


@router.post("/workbench/resources/new", response_class=HTMLResponse)
def create_resource(
    request: Request,
    form: ResourceForm = Depends(resource_form),
    csrf: str = Form(""),
    principal: Principal = Depends(OFFICER),
) -> Response:
    """Create the resource from the form; errors re-render the form with the input kept."""
    check_csrf(request, csrf)
    try:
        data = to_resource_in(form)
        with request.app.state.db.session() as session:
            resource = services.create_resource(session, data, principal, bus=request.app.state.bus)
            code = resource.code
    except ProblemError as problem:
        if problem.status not in (403, 409, 422):
            raise
        return _form_page(request, principal, form, problem=problem)
    return RedirectResponse(f"/workbench?saved={code}", status_code=303)


def _editable(request: Request, resource_id: str, principal: Principal) -> tuple[Any, Any]:
    with request.app.state.db.session() as session:
        resource = services.get_resource(session, resource_id, principal)
        if not policy.can_edit(principal, resource):
            raise forbidden("Only the provider's data officers may change this resource.")
        return resource, services.get_items(session, resource.id)


@router.get("/workbench/resources/{resource_id}/edit", response_class=HTMLResponse)
def edit_resource_form(
    resource_id: str, request: Request, principal: Principal = Depends(OFFICER)
) -> Response:
    """The form to change a resource's metadata and items."""
    resource, items = _editable(request, resource_id, principal)
    return _form_page(request, principal, form_from_resource(resource, items), resource=resource)


@router.post("/workbench/resources/{resource_id}/edit", response_class=HTMLResponse)
def update_resource(
    resource_id: str,
    request: Request,
    form: ResourceForm = Depends(resource_form),
    csrf: str = Form(""),
    principal: Principal = Depends(OFFICER),
) -> Response:
    """Save the changes (only changed fields are recorded in the version history)."""
    check_csrf(request, csrf)
    resource, _items = _editable(request, resource_id, principal)
    try:
        patch = to_resource_patch(form)
        with request.app.state.db.session() as session:
            updated = services.update_resource(
                session, resource_id, patch, principal, bus=request.app.state.bus
            )
            code = updated.code
    except ProblemError as problem:
        if problem.status not in (403, 409, 422):
            raise
        return _form_page(request, principal, form, resource=resource, problem=problem)
    return RedirectResponse(f"/workbench?saved={code}", status_code=303)


@router.post("/workbench/resources/{resource_id}/transition")
def workbench_transition(
    resource_id: str,
    request: Request,
    action: str = Form(...),
    comment: str = Form(""),
    next: str = Form("/workbench"),
    csrf: str = Form(""),
    principal: Principal = Depends(OFFICER),
) -> Response:
    """Submit a resource for confirmation, or publish a confirmed one."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        services.transition(
            session, resource_id, action, principal, comment, bus=request.app.state.bus
        )
    return RedirectResponse(safe_next(next, "/workbench"), status_code=303)


# --------------------------------------------------------------------------- bureau console


def _queue_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    with request.app.state.db.session() as session:
        queue = services.review_queue(session)
        from cityos.directory.services import organisation_names

        names = organisation_names(session)
        counts = {
            rid: len(v) for rid, v in services.items_for(session, [r.id for r in queue]).items()
        }
    context = {
        "queue": queue,
        "names": names,
        "item_counts": counts,
        "labels": labels,
        "tab": "queue",
        "done": request.query_params.get("done", ""),
        **extra,
    }
    return render(request, "catalog/queue.html", context, status_code=status_code)


@router.get("/console/queue", response_class=HTMLResponse)
def confirmation_queue(request: Request, _: Principal = Depends(BUREAU)) -> Response:
    """The bureau's confirmation queue: submitted resources, oldest first."""
    return _queue_page(request)


@router.post("/console/queue/{resource_id}", response_class=HTMLResponse)
def review(
    resource_id: str,
    request: Request,
    action: str = Form(...),
    comment: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(roles("admin")),
) -> Response:
    """Confirm (optional comment) or reject (comment required) a submitted resource."""
    check_csrf(request, csrf)
    if action not in ("confirm", "reject"):
        raise ProblemError(
            404, "unknown_action", "Unknown workflow action: {action}", action=action
        )
    try:
        with request.app.state.db.session() as session:
            resource = services.transition(
                session, resource_id, action, principal, comment, bus=request.app.state.bus
            )
            code = resource.code
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return _queue_page(
            request,
            status_code=problem.status,
            error=problem.detail,
            error_id=resource_id,
            comment=comment,
        )
    return RedirectResponse(f"/console/queue?done={action}:{code}", status_code=303)
