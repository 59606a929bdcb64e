"""Datastore pages (zh-Hans first, work without JavaScript).

- ``/workbench/resources/{id}/upload``: upload a file (mode and error handling explained);
- ``/workbench/loads/{batch_id}``: the outcome, with every rejected row and why;
- ``/datastore/{id}/fragments/preview`` and ``…/fragments/loads``: embedded by the catalogue's
  resource page with htmx; without the ``HX-Request`` header they render as a minimal page;
- ``/console/timeliness``: the bureau's view of overdue data.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.access import authenticated, public, roles
from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.catalog import services as catalog
from cityos.core.errors import ProblemError, forbidden, invalid
from cityos.core.i18n import lazy
from cityos.core.web import check_csrf, render
from cityos.datastore import services
from cityos.datastore.api import max_bytes
from cityos.datastore.export import MEDIA_TYPES
from cityos.datastore.models import (
    MODE_LABELS,
    MODES,
    ON_ERROR,
    ON_ERROR_LABELS,
    STATUS_LABELS,
    LoadBatch,
)
from cityos.datastore.schemas import reason_text
from cityos.datastore.sources import too_large
from cityos.datastore.tables import spec_of
from cityos.protection.grades import pi_type_label

router = APIRouter()
OFFICERS = ("data_officer", "admin")
PAGE_ROWS = 100
CYCLE_LABELS = {
    "realtime": lazy("Real time"),
    "daily": lazy("Daily"),
    "weekly": lazy("Weekly"),
    "monthly": lazy("Monthly"),
    "quarterly": lazy("Quarterly"),
    "yearly": lazy("Yearly"),
    "irregular": lazy("Irregular"),
}
TYPE_LABELS = {
    "string": lazy("String"),
    "text": lazy("Text"),
    "integer": lazy("Integer"),
    "number": lazy("Number"),
    "boolean": lazy("Boolean"),
    "date": lazy("Date"),
    "datetime": lazy("Date and time"),
}
LABELS = {
    "modes": MODE_LABELS,
    "on_error_labels": ON_ERROR_LABELS,
    "status_labels": STATUS_LABELS,
    "cycle_labels": CYCLE_LABELS,
    "type_labels": TYPE_LABELS,
}


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"


# --------------------------------------------------------------------------- upload


def _upload_page(
    request: Request,
    principal: Principal,
    resource_id: str,
    *,
    status_code: int = 200,
    error: ProblemError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    with request.app.state.db.session() as session:
        resource = catalog.get_resource(session, resource_id, principal)
        if not policy.can_edit(principal, resource):
            raise forbidden("Only the provider's data officers may load data into this resource.")
        spec = spec_of(session, resource)
    history = services.load_history(request.app.state.db, spec.id, limit=5)
    context = {
        "resource": resource,
        "spec": spec,
        "history": history,
        "mode_values": MODES,
        "on_error_values": ON_ERROR,
        "error": error,
        "form": form or {"mode": "append", "on_error": "reject_rows"},
        "max_upload_mb": request.app.state.settings.max_upload_mb,
        **LABELS,
    }
    return render(request, "datastore/upload.html", context, status_code=status_code)


@router.get("/workbench/resources/{resource_id}/upload", response_class=HTMLResponse)
def upload_form(
    resource_id: str, request: Request, principal: Principal = Depends(roles(*OFFICERS))
) -> Response:
    """Upload form of a resource's data: file, load mode and error handling, explained."""
    return _upload_page(request, principal, resource_id)


@router.post("/workbench/resources/{resource_id}/upload", response_class=HTMLResponse)
async def upload(
    resource_id: str, request: Request, principal: Principal = Depends(roles(*OFFICERS))
) -> Response:
    """Load the uploaded file, then go to its result page (errors: the form again, explained)."""
    limit = max_bytes(request)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + (64 << 10):
        problem = too_large(limit)
        return await run_in_threadpool(
            _upload_page, request, principal, resource_id, status_code=413, error=problem
        )
    form = await request.form(max_files=1, max_fields=20)
    try:
        check_csrf(request, str(form.get("csrf") or ""))
        values = {
            "mode": str(form.get("mode") or "append"),
            "on_error": str(form.get("on_error") or "reject_rows"),
        }
        upload = form.get("file")
        db = request.app.state.db

        def run() -> LoadBatch:
            if upload is None or isinstance(upload, str) or not upload.filename:
                raise invalid("no_file", "Choose a file to upload.")
            with db.session() as session:
                resource = catalog.get_resource(session, resource_id, principal)
                rid = resource.id
            return services.load_file(
                db,
                rid,
                upload.file,
                filename=upload.filename,
                actor=principal,
                mode=values["mode"],
                on_error=values["on_error"],
                max_bytes=limit,
                bus=request.app.state.bus,
            )

        try:
            batch = await run_in_threadpool(run)
        except ProblemError as problem:
            if problem.status in (401, 403, 404):
                raise
            return await run_in_threadpool(
                _upload_page,
                request,
                principal,
                resource_id,
                status_code=problem.status,
                error=problem,
                form=values,
            )
    finally:
        await form.close()
    return RedirectResponse(f"/workbench/loads/{batch.id}", status_code=303)


# --------------------------------------------------------------------------- batch


@router.get("/workbench/loads/{batch_id}", response_class=HTMLResponse)
def batch_page(
    batch_id: str,
    request: Request,
    page: int = Query(1, ge=1),
    principal: Principal = Depends(authenticated),
) -> Response:
    """A load's result: counts, and every rejected row with its number and reason."""
    db = request.app.state.db
    batch = services.batch_for(db, batch_id, principal)
    with db.session() as session:
        resource = catalog.get_resource_internal(session, batch.resource_id)
    offset = (page - 1) * PAGE_ROWS
    rows = services.batch_rows(db, batch_id, limit=PAGE_ROWS, offset=offset)
    listed = batch.rejected_listed
    pages = max(1, (listed + PAGE_ROWS - 1) // PAGE_ROWS)
    context = {
        "batch": batch,
        "resource": resource,
        "grading": _grading(db, batch) if resource is not None else None,
        "pi_type_label": pi_type_label,
        "rows": [(r, reason_text(r)) for r in rows],
        "page": page,
        "pages": pages,
        **LABELS,
    }
    return render(request, "datastore/batch.html", context)


def _grading(db: Any, batch: LoadBatch) -> dict[str, Any] | None:
    """The scan's proposal when the resource's grades await a reviewer (待分级确认)."""
    from cityos.protection import review

    if batch.status == "failed":
        return None
    with db.session() as session:
        if not review.awaiting(session, batch.resource_id):
            return None
    return review.get_grades(db, batch.resource_id)


# --------------------------------------------------------------------------- fragments


def _fragment(request: Request, template: str, context: dict[str, Any]) -> Response:
    context = {**context, "fragment": template, **LABELS}
    if is_htmx(request):
        return render(request, template, context)
    return render(request, "datastore/fragment_page.html", context)


@router.get("/datastore/{resource_id}/fragments/preview", response_class=HTMLResponse)
def preview_fragment(
    resource_id: str, request: Request, principal: Principal = Depends(public)
) -> Response:
    """The first 20 records with Chinese column names and export links (htmx fragment)."""
    db = request.app.state.db
    with db.session() as session:
        resource = catalog.get_resource(session, resource_id, principal)
        can_read = policy.can_read_data(principal, resource)
    result = services.preview(db, resource.id, limit=20) if can_read else None
    context = {
        "resource": resource,
        "can_read": can_read,
        "result": result,
        "formats": list(MEDIA_TYPES),
        "title": resource.name,
    }
    return _fragment(request, "datastore/_preview.html", context)


@router.get("/datastore/{resource_id}/fragments/loads", response_class=HTMLResponse)
def loads_fragment(
    resource_id: str, request: Request, principal: Principal = Depends(public)
) -> Response:
    """Load history of a resource, for its provider and the bureau (htmx fragment)."""
    db = request.app.state.db
    with db.session() as session:
        resource = catalog.get_resource(session, resource_id, principal)
        allowed = policy.can_edit(principal, resource) or principal.sees_everything
    history = services.load_history(db, resource.id, limit=20) if allowed else []
    table = services.table_info(db, resource.id) if allowed else None
    context = {
        "resource": resource,
        "allowed": allowed,
        "history": history,
        "table": table,
        "can_edit": policy.can_edit(principal, resource),
        "title": resource.name,
    }
    return _fragment(request, "datastore/_loads.html", context)


# --------------------------------------------------------------------------- console


@router.get("/console/timeliness", response_class=HTMLResponse)
def timeliness_page(
    request: Request, principal: Principal = Depends(roles("admin", "reviewer"))
) -> Response:
    """Data timeliness of every resource with a datastore: overdue ones first."""
    from cityos.directory.services import organisation_names

    db = request.app.state.db
    entries = services.timeliness(db)
    with db.session() as session:
        providers = organisation_names(session)
    context = {
        "entries": entries,
        "providers": providers,
        "overdue": sum(1 for e in entries if e["overdue"]),
        "tab": "timeliness",
        **LABELS,
    }
    return render(request, "datastore/timeliness.html", context)
