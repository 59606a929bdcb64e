"""Incident pages: ``/incidents`` (open first, by severity) and ``/incidents/{id}`` with its
facts, timeline, evidence (linked to the audit record pages), remedies, affected people, the
notice to them and the report to the authority. Forms work without JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError, invalid
from cityos.core.web import check_csrf, render
from cityos.exchange.views import STATUS_LABELS as CODE_STATUS_LABELS
from cityos.incidents import notices, services
from cityos.incidents.models import (
    EVENT_LABELS,
    METRIC_LABELS,
    RULE_LABELS,
    RULES,
    SEVERITIES,
    SEVERITY_LABELS,
    STATUS_LABELS,
    STATUSES,
    Incident,
)
from cityos.incidents.rules import Config
from cityos.incidents.subjects import affected_subjects
from cityos.sharing.labels import GRANT_STATUS

router = APIRouter()
PAGE = 50
TABS = ("timeline", "evidence", "subjects", "notice", "report")
SEVERITY_CLASS = {"critical": "tag-bad", "high": "tag-bad", "medium": "tag-warn", "low": ""}
STATUS_CLASS = {"open": "tag-bad", "contained": "tag-warn", "closed": "tag-ok"}
LABELS = {
    "rule_labels": RULE_LABELS,
    "severity_labels": SEVERITY_LABELS,
    "status_labels": STATUS_LABELS,
    "event_labels": EVENT_LABELS,
    "metric_labels": METRIC_LABELS,
    "severity_class": SEVERITY_CLASS,
    "status_class": STATUS_CLASS,
    "code_status_labels": CODE_STATUS_LABELS,
    "grant_status_labels": GRANT_STATUS,
}


def _names(session: Any) -> dict[str, str]:
    from cityos.directory.services import organisation_names

    return organisation_names(session)


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(
    request: Request,
    status: str = Query("", max_length=20),
    severity: str = Query("", max_length=20),
    rule: str = Query("", max_length=40),
    q: str = Query("", max_length=100),
    page: int = Query(1, ge=1, le=10_000),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Security incidents the caller may see: open first, by severity, newest first."""
    filters = services.Filters(status or None, rule or None, severity or None, q=q or None)
    form = {"status": status, "severity": severity, "rule": rule, "q": q}
    with request.app.state.db.session() as session:
        total, rows = services.list_incidents(
            session, principal, filters, limit=PAGE, offset=(page - 1) * PAGE
        )
        open_count = services.open_count(session, principal)
        names = _names(session)
    context = {
        "incidents": rows,
        "total": total,
        "open_count": open_count,
        "names": names,
        "form": form,
        "statuses": STATUSES,
        "severities": SEVERITIES,
        "rules": RULES,
        "page": page,
        "pages": max(1, -(-total // PAGE)),
        "qs": lambda **extra: urlencode({**{k: v for k, v in form.items() if v}, **extra}),
        "can_detect": principal.sees_everything,
        "done": request.query_params.get("done", ""),
        **LABELS,
    }
    return render(request, "incidents/list.html", context)


@router.post("/incidents/detect", response_class=HTMLResponse)
def detect_now(
    request: Request,
    csrf: str = Form(""),
    _: Principal = Depends(roles("admin", "reviewer")),
) -> Response:
    """Run the detector now (button on the list page)."""
    check_csrf(request, csrf)
    report = services.detect(
        request.app.state.db, config=Config.from_settings(request.app.state.settings)
    )
    done = f"detect:{report.scanned}:{len(report.opened)}:{len(report.updated)}"
    return RedirectResponse(f"/incidents?done={done}", status_code=303)


# ----------------------------------------------------------------------------- one incident


def _page(
    request: Request,
    principal: Principal,
    incident_id: str,
    tab: str,
    *,
    status_code: int = 200,
    error: ProblemError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    if tab not in TABS:
        tab = "timeline"
    db = request.app.state.db
    with db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        context: dict[str, Any] = {
            "i": incident,
            "tab": tab,
            "targets": services.remedy_targets(session, incident),
            "names": _names(session),
            "resource": _resource(session, incident.resource_id),
            "can_remedy": services.can_remedy(principal, incident),
            "can_manage": services.can_manage(principal),
            "can_export": principal.is_admin,
            "next_statuses": services.TRANSITIONS[incident.status],
            "error": error,
            "form": form or {},
            "done": request.query_params.get("done", ""),
            **LABELS,
        }
        if tab == "timeline":
            context["events"] = services.timeline(session, incident.id)
        elif tab == "evidence":
            context["evidence"] = services.evidence(session, incident.id, limit=500)
        elif tab == "subjects":
            context["subjects"] = affected_subjects(db, session, incident)
        else:
            context["document"] = _stored_document(incident, tab)
    return render(request, "incidents/detail.html", context, status_code=status_code)


def _resource(session: Any, resource_id: str | None) -> Any:
    from cityos.catalog.services import get_resource_internal

    return get_resource_internal(session, resource_id) if resource_id else None


def _stored_document(incident: Incident, kind: str) -> dict[str, str]:
    if kind == "notice":
        return {"text": incident.notice_text, "state": incident.notice_state}
    return {"text": incident.report_text, "state": incident.report_state}


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    incident_id: str,
    request: Request,
    tab: str = Query("timeline", max_length=20),
    principal: Principal = Depends(authenticated),
) -> Response:
    """One incident: facts, remedies, timeline, evidence, affected people, notice, report."""
    return _page(request, principal, incident_id, tab)


def _act(
    request: Request,
    principal: Principal,
    incident_id: str,
    tab: str,
    done: str,
    form: dict[str, str],
    action: Any,
) -> Response:
    """Run a form's change; a 409/422 shows the page again with the error and what was typed."""
    try:
        with request.app.state.db.session() as session:
            incident = services.get_incident(session, incident_id, principal)
            action(session, incident)
            number = incident.number
    except ProblemError as problem:
        if problem.status not in (403, 409, 422):
            raise
        return _page(
            request,
            principal,
            incident_id,
            tab,
            status_code=problem.status,
            error=problem,
            form=form,
        )
    return RedirectResponse(f"/incidents/{number}?tab={tab}&done={done}", status_code=303)


@router.post("/incidents/{incident_id}/remedies", response_class=HTMLResponse)
def remedy(
    incident_id: str,
    request: Request,
    action: str = Form(...),
    reason: str = Form(""),
    confirm: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Suspend the code or the grant (after ticking the confirmation box)."""
    check_csrf(request, csrf)

    def run(session: Any, incident: Incident) -> None:
        if confirm != "yes":
            raise invalid("confirm_required", "Tick the box to confirm.")
        services.take_remedy(session, incident, action, principal, reason)

    form = {"action": action, "reason": reason}
    return _act(request, principal, incident_id, "timeline", action, form, run)


@router.post("/incidents/{incident_id}/status", response_class=HTMLResponse)
def status(
    incident_id: str,
    request: Request,
    status: str = Form(...),
    reason: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Change the status (contained, closed, open again) with a reason."""
    check_csrf(request, csrf)
    form = {"status": status, "status_reason": reason}
    return _act(
        request,
        principal,
        incident_id,
        "timeline",
        f"status_{status}",
        form,
        lambda session, incident: services.change_status(
            session, incident, status, principal, reason
        ),
    )


@router.post("/incidents/{incident_id}/notes", response_class=HTMLResponse)
def note(
    incident_id: str,
    request: Request,
    text: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Add a note to the timeline."""
    check_csrf(request, csrf)
    return _act(
        request,
        principal,
        incident_id,
        "timeline",
        "note",
        {"note": text},
        lambda session, incident: services.add_note(session, incident, principal, text),
    )


@router.post("/incidents/{incident_id}/documents/{kind}", response_class=HTMLResponse)
def document(
    incident_id: str,
    kind: str,
    request: Request,
    op: str = Form(...),
    text: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(roles("admin", "reviewer")),
) -> Response:
    """Generate, save, regenerate or finalise the notice or the report."""
    check_csrf(request, csrf)
    tab = kind if kind in ("notice", "report") else "notice"
    settings = request.app.state.settings
    db = request.app.state.db

    def run(session: Any, incident: Incident) -> None:
        if op not in ("generate", "regenerate", "save", "finalise"):
            raise invalid("bad_operation", "Unknown operation: {op}", op=op[:20])
        notices.update(
            db,
            session,
            incident,
            kind,
            principal,
            settings,
            text=text if op in ("save", "finalise") else "",
            final=op == "finalise",
            regenerate=op == "regenerate",
        )

    return _act(request, principal, incident_id, tab, op, {"text": text}, run)
