"""Incidents API: list, detail with timeline, remedies, status, notes, subjects, notice, report.

The bureau (admin) and reviewers see every incident; a provider's data officers see those on
their own resources; anybody else gets 404.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.core.errors import forbidden
from cityos.incidents import notices, services
from cityos.incidents.models import Incident
from cityos.incidents.rules import Config
from cityos.incidents.schemas import (
    DetectOut,
    DocumentIn,
    DocumentOut,
    EventOut,
    EvidenceOut,
    IncidentDetail,
    IncidentOut,
    IncidentPage,
    NoteIn,
    RemedyIn,
    StatusIn,
    SubjectOut,
    SubjectsOut,
)
from cityos.incidents.subjects import affected_subjects, csv_lines

router = APIRouter(prefix="/incidents", tags=["incidents"])
MANAGERS = ("admin", "reviewer")


def incident_out(incident: Incident) -> IncidentOut:
    return IncidentOut.model_validate(incident, from_attributes=True)


@router.get("", response_model=IncidentPage)
def list_incidents(
    request: Request,
    status: str | None = Query(None, description="open | contained | closed"),
    rule: str | None = None,
    severity: str | None = None,
    code: str | None = Query(None, description="Authorization code key id."),
    grant_id: str | None = None,
    q: str | None = Query(None, description="Number, title, code or ip contains."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(authenticated),
) -> IncidentPage:
    """Incidents the caller may see: open first, then by severity, newest first."""
    filters = services.Filters(status, rule, severity, code, grant_id, q)
    with request.app.state.db.session() as session:
        total, rows = services.list_incidents(
            session, principal, filters, limit=limit, offset=offset
        )
        items = [incident_out(r) for r in rows]
    return IncidentPage(total=total, limit=limit, offset=offset, items=items)


@router.post("/detect", response_model=DetectOut)
def detect_now(request: Request, _: Principal = Depends(roles(*MANAGERS))) -> DetectOut:
    """Run the detector now over the audit records it has not read yet."""
    report = services.detect(
        request.app.state.db, config=Config.from_settings(request.app.state.settings)
    )
    return DetectOut(
        scanned=report.scanned,
        opened=report.opened,
        updated=report.updated,
        last_leaf_index=report.last_leaf_index,
    )


def detail_of(session: Any, incident: Incident) -> IncidentDetail:
    targets = services.remedy_targets(session, incident)
    return IncidentDetail(
        **incident_out(incident).model_dump(),
        **targets,
        timeline=[
            EventOut.model_validate(e, from_attributes=True)
            for e in services.timeline(session, incident.id)
        ],
        evidence=[
            EvidenceOut(id=r.id, leaf_index=r.leaf_index, at=r.at, action=r.action, detail=r.detail)
            for r in services.evidence(session, incident.id, limit=200)
        ],
    )


@router.get("/{incident_id}", response_model=IncidentDetail)
def get_incident(
    incident_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> IncidentDetail:
    """One incident (by id or number) with its timeline, code/grant state and evidence."""
    with request.app.state.db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        return detail_of(session, incident)


@router.post("/{incident_id}/remedies", response_model=IncidentDetail)
def take_remedy(
    incident_id: str,
    body: RemedyIn,
    request: Request,
    principal: Principal = Depends(authenticated),
) -> IncidentDetail:
    """Suspend the incident's authorization code or its grant (bureau, provider's officers)."""
    with request.app.state.db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        services.take_remedy(session, incident, body.action, principal, body.reason)
        return detail_of(session, incident)


@router.post("/{incident_id}/status", response_model=IncidentDetail)
def change_status(
    incident_id: str,
    body: StatusIn,
    request: Request,
    principal: Principal = Depends(authenticated),
) -> IncidentDetail:
    """open → contained → closed (or back to open), with a reason (bureau and reviewers)."""
    with request.app.state.db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        services.change_status(session, incident, body.status, principal, body.reason)
        return detail_of(session, incident)


@router.post("/{incident_id}/notes", response_model=EventOut, status_code=201)
def add_note(
    incident_id: str, body: NoteIn, request: Request, principal: Principal = Depends(authenticated)
) -> EventOut:
    """Add a note to the incident's timeline."""
    with request.app.state.db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        event = services.add_note(session, incident, principal, body.text)
        return EventOut.model_validate(event, from_attributes=True)


@router.get("/{incident_id}/subjects", response_model=SubjectsOut)
def subjects(
    incident_id: str,
    request: Request,
    limit: int = Query(1000, ge=1, le=100_000),
    principal: Principal = Depends(authenticated),
) -> SubjectsOut:
    """Affected people: names with masked ID and mobile numbers, from the evidence's row ids."""
    db = request.app.state.db
    with db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        found = affected_subjects(db, session, incident)
    return SubjectsOut(
        count=found.count,
        records=found.records,
        rows_listed=found.rows_listed,
        rows_unknown=found.rows_unknown,
        items=[SubjectOut(**vars(s)) for s in found.subjects[:limit]],
    )


@router.get("/{incident_id}/subjects.csv")
def subjects_csv(
    incident_id: str, request: Request, principal: Principal = Depends(roles("admin"))
) -> StreamingResponse:
    """The affected people as CSV (UTF-8 with BOM) for the notification team (bureau only)."""
    from cityos.audit.services import record as audit
    from cityos.catalog.services import get_resources_internal

    db = request.app.state.db
    with db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        found = affected_subjects(db, session, incident)
        codes = {k: r.code for k, r in get_resources_internal(session, found.resources).items()}
        audit(
            session,
            principal,
            "incident.subjects.export",
            "incident",
            incident.id,
            number=incident.number,
            subjects=found.count,
        )
        number = incident.number
    return StreamingResponse(
        csv_lines(found, codes),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{number}-subjects.csv"'},
    )


def _document(
    request: Request, incident_id: str, kind: str, principal: Principal, fmt: str
) -> Response | DocumentOut:
    db = request.app.state.db
    with db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        text, state = notices.document(
            db, session, incident, kind, principal, request.app.state.settings
        )
        number = incident.number
    if fmt == "md":
        return Response(
            text,
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{number}-{kind}.md"'},
        )
    return DocumentOut(kind=kind, state=state, text=text)


def _save(
    request: Request, incident_id: str, kind: str, principal: Principal, body: DocumentIn
) -> DocumentOut:
    if not services.can_manage(principal):
        raise forbidden("Only the bureau and security reviewers may edit notices and reports.")
    db = request.app.state.db
    with db.session() as session:
        incident = services.get_incident(session, incident_id, principal)
        text, state = notices.update(
            db,
            session,
            incident,
            kind,
            principal,
            request.app.state.settings,
            text=body.text,
            final=body.final,
            regenerate=body.regenerate,
        )
    return DocumentOut(kind=kind, state=state, text=text)


Fmt = Literal["json", "md"]


@router.get("/{incident_id}/notice", response_model=DocumentOut)
def notice(
    incident_id: str,
    request: Request,
    format: Fmt = Query("json", description="json, or md to download the Markdown."),
    principal: Principal = Depends(authenticated),
) -> Any:
    """The notice to affected people (告知书, PIPL Art. 57); generated as a draft if none."""
    return _document(request, incident_id, "notice", principal, format)


@router.post("/{incident_id}/notice", response_model=DocumentOut)
def save_notice(
    incident_id: str,
    body: DocumentIn,
    request: Request,
    principal: Principal = Depends(authenticated),
) -> DocumentOut:
    """Edit, regenerate or finalise the notice (bureau and reviewers)."""
    return _save(request, incident_id, "notice", principal, body)


@router.get("/{incident_id}/report", response_model=DocumentOut)
def report(
    incident_id: str,
    request: Request,
    format: Fmt = Query("json", description="json, or md to download the Markdown."),
    principal: Principal = Depends(authenticated),
) -> Any:
    """The report to the authority (网信部门/主管部门); generated as a draft if none."""
    return _document(request, incident_id, "report", principal, format)


@router.post("/{incident_id}/report", response_model=DocumentOut)
def save_report(
    incident_id: str,
    body: DocumentIn,
    request: Request,
    principal: Principal = Depends(authenticated),
) -> DocumentOut:
    """Edit, regenerate or finalise the report (bureau and reviewers)."""
    return _save(request, incident_id, "report", principal, body)
