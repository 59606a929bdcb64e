"""Interface service pages: the registry (/services), a service (/services/{code}), registration
(/services/new) and the bureau's confirmation queue (/console/services)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.core.errors import ProblemError
from cityos.core.i18n import lazy
from cityos.core.web import check_csrf, render
from cityos.interfaces import services
from cityos.interfaces.models import InterfaceService
from cityos.interfaces.schemas import DETECTORS, ServiceIn

router = APIRouter()

OFFICER = roles("data_officer", "admin")
BUREAU = roles("admin", "reviewer")

KIND_LABELS = {"query": lazy("Query service"), "proxy": lazy("Proxy service")}
OPERATION_LABELS = {"verify": lazy("Verification"), "lookup": lazy("Lookup")}
STATUS_LABELS = {
    "submitted": lazy("Awaiting confirmation"),
    "confirmed": lazy("Confirmed"),
    "rejected": lazy("Rejected"),
    "suspended": lazy("Suspended"),
}
DETECTOR_LABELS = {
    "id_card": lazy("Resident ID number"),
    "uscc": lazy("Unified social credit code"),
    "mobile": lazy("Mobile number"),
    "email": lazy("Email address"),
    "bank_card": lazy("Bank card number"),
    "plate": lazy("Vehicle plate"),
    "passport": lazy("Passport number"),
    "permit": lazy("Travel permit number"),
}
EXAMPLES = {"integer": 1, "date": "2024-01-01"}
LABELS = {
    "kind": KIND_LABELS,
    "operation": OPERATION_LABELS,
    "status": STATUS_LABELS,
    "detector": DETECTOR_LABELS,
}


def _names(session: Any) -> dict[str, str]:
    from cityos.directory.services import organisation_names

    return organisation_names(session)


# --------------------------------------------------------------------------- registry


@router.get("/services", response_class=HTMLResponse)
def registry(request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """The interface service registry, searchable by name or provider."""
    query = request.query_params
    q = query.get("q", "").strip()[:200]
    provider = query.get("provider", "")[:32]
    kind = query.get("kind", "") if query.get("kind", "") in KIND_LABELS else ""
    with request.app.state.db.session() as session:
        names = _names(session)
        visible = services.list_services(session, principal, names=names)
        found = services.list_services(
            session, principal, q=q, provider=provider, kind=kind, names=names
        )
    providers = sorted({s.provider_org_id for s in visible}, key=lambda o: names.get(o, o))
    context = {
        "services": found,
        "names": names,
        "providers": providers,
        "q": q,
        "provider": provider,
        "kind": kind,
        "labels": LABELS,
        "can_register": bool(principal.officer_org_ids) or principal.is_admin,
    }
    return render(request, "interfaces/registry.html", context)


# --------------------------------------------------------------------------- registration


def _form_page(
    request: Request,
    principal: Principal,
    values: dict[str, Any],
    problem: ProblemError | None = None,
) -> Response:
    resource_id = values.get("resource", "")
    with request.app.state.db.session() as session:
        resources = services.registrable_resources(session, principal)
        chosen = next((r for r in resources if r.id == resource_id), None)
        items = catalog.get_items(session, chosen.id) if chosen else []
        hints = {i.field: services.detector_hint(i) for i in items}
    context = {
        "resources": resources,
        "resource": chosen,
        "items": items,
        "input_fields": [i for i in items if i.data_type in services.INPUT_TYPE_OF],
        "hints": hints,
        "values": values,
        "detectors": DETECTORS,
        "labels": LABELS,
        "problem": problem,
    }
    return render(
        request, "interfaces/form.html", context, status_code=problem.status if problem else 200
    )


@router.get("/services/new", response_class=HTMLResponse)
def new_service_form(request: Request, principal: Principal = Depends(OFFICER)) -> Response:
    """Register a service: choose the resource, then its inputs, outputs and operation."""
    values = {
        "resource": request.query_params.get("resource", ""),
        "kind": "query",
        "operation": "verify",
        "method": "GET",
        "path": "/",
        "timeout_ms": "3000",
        "retries": "2",
        "breaker_failures": "5",
        "breaker_seconds": "30",
    }
    return _form_page(request, principal, values)


def _service_in(values: dict[str, Any]) -> ServiceIn:
    detectors = dict(d.split(":", 1) for d in values["detector"] if ":" in d)
    data: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"],
        "resource_id": values["resource"],
        "kind": values["kind"],
        "operation": values["operation"] if values["kind"] == "query" else None,
        "inputs": [{"name": f, "detector": detectors.get(f) or None} for f in values["input"]],
        "outputs": []
        if values["operation"] == "verify" and values["kind"] == "query"
        else [{"name": f} for f in values["output"]],
    }
    if values["kind"] == "proxy":
        data["proxy"] = {
            "base_url": values["base_url"],
            "method": values["method"],
            "path": values["path"],
            "timeout_ms": values["timeout_ms"] or 3000,
            "retries": values["retries"] or 0,
            "retry_unsafe": bool(values["retry_unsafe"]),
            "breaker_failures": values["breaker_failures"] or 5,
            "breaker_seconds": values["breaker_seconds"] or 30,
        }
    try:
        return ServiceIn.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "code": e["type"], "message": e["msg"]}
            for e in exc.errors()
        ]
        raise ProblemError(
            422, "validation_error", "The request is invalid.", errors=errors
        ) from None


@router.post("/services/new", response_class=HTMLResponse)
def create_service(
    request: Request,
    resource: str = Form(""),
    name: str = Form(""),
    description: str = Form(""),
    kind: str = Form("query"),
    operation: str = Form("verify"),
    input: list[str] = Form([]),
    output: list[str] = Form([]),
    detector: list[str] = Form([]),
    base_url: str = Form(""),
    method: str = Form("GET"),
    path: str = Form("/"),
    timeout_ms: str = Form("3000"),
    retries: str = Form("2"),
    retry_unsafe: str = Form(""),
    breaker_failures: str = Form("5"),
    breaker_seconds: str = Form("30"),
    csrf: str = Form(""),
    principal: Principal = Depends(OFFICER),
) -> Response:
    """Register the service from the form; errors re-render the form with the input kept."""
    check_csrf(request, csrf)
    values = dict(locals())
    for key in ("request", "csrf", "principal"):
        values.pop(key)
    try:
        data = _service_in(values)
        with request.app.state.db.session() as session:
            code = services.register(session, data, principal).code
    except ProblemError as problem:
        if problem.status not in (403, 404, 409, 422):
            raise
        return _form_page(request, principal, values, problem)
    return RedirectResponse(f"/services/{code}?saved=1", status_code=303)


# --------------------------------------------------------------------------- one service


def _example(service: InterfaceService) -> str:
    body = {s["name"]: EXAMPLES.get(s["type"], f"<{s['label']}>") for s in service.inputs}
    return json.dumps(body, ensure_ascii=False)


@router.get("/services/{code}", response_class=HTMLResponse)
def service_page(
    code: str, request: Request, principal: Principal = Depends(authenticated)
) -> Response:
    """A service: what it takes and answers, its status, and how to call it (curl, Python)."""
    with request.app.state.db.session() as session:
        service = services.get_service(session, code, principal)
        resource = catalog.get_resource_internal(session, service.resource_id)
        names = _names(session)
    manager = services.can_manage(principal, service)
    context = {
        "service": service,
        "resource": resource,
        "provider_name": names.get(service.provider_org_id, ""),
        "labels": LABELS,
        "manager": manager,
        "can_apply": principal.is_sharing_participant
        and service.provider_org_id not in principal.org_ids
        and service.status == "confirmed",
        "example": _example(service),
        "base_url": str(request.app.state.settings.base_url).rstrip("/"),
        "saved": request.query_params.get("saved", ""),
        "done": request.query_params.get("done", ""),
    }
    return render(request, "interfaces/detail.html", context)


@router.post("/services/{code}/transition")
def service_transition(
    code: str,
    request: Request,
    action: str = Form(...),
    comment: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(OFFICER),
) -> Response:
    """Suspend a confirmed service (provider's officers, bureau) or resume it (bureau)."""
    check_csrf(request, csrf)
    if action not in ("suspend", "resume"):
        raise ProblemError(
            404, "unknown_action", "Unknown workflow action: {action}", action=action
        )
    with request.app.state.db.session() as session:
        service = services.transition(session, code, action, principal, comment)
        code = service.code
    return RedirectResponse(f"/services/{code}?done={action}", status_code=303)


# --------------------------------------------------------------------------- bureau console


def _queue_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    with request.app.state.db.session() as session:
        queue = services.review_queue(session)
        names = _names(session)
        resources = catalog.get_resources_internal(session, [s.resource_id for s in queue])
    context = {
        "queue": queue,
        "names": names,
        "resources": resources,
        "labels": LABELS,
        "tab": "services",
        "done": request.query_params.get("done", ""),
        **extra,
    }
    return render(request, "interfaces/queue.html", context, status_code=status_code)


@router.get("/console/services", response_class=HTMLResponse)
def confirmation_queue(request: Request, _: Principal = Depends(BUREAU)) -> Response:
    """The bureau's queue of submitted interface services, oldest first."""
    return _queue_page(request)


@router.post("/console/services/{code}", response_class=HTMLResponse)
def review(
    code: str,
    request: Request,
    action: str = Form(...),
    comment: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(roles("admin")),
) -> Response:
    """Confirm (optional comment) or reject (comment required) a submitted service."""
    check_csrf(request, csrf)
    if action not in ("confirm", "reject"):
        raise ProblemError(
            404, "unknown_action", "Unknown workflow action: {action}", action=action
        )
    try:
        with request.app.state.db.session() as session:
            service = services.transition(session, code, action, principal, comment)
            done = f"{action}:{service.code}"
    except ProblemError as problem:
        if problem.status not in (409, 422):
            raise
        return _queue_page(
            request,
            status_code=problem.status,
            error=problem.detail,
            error_code=code,
            comment=comment,
        )
    return RedirectResponse(f"/console/services?done={done}", status_code=303)
