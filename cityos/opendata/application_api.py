"""JSON API of 有条件开放 applications under /api/v1/open/applications."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from cityos.auth.access import authenticated
from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.core.errors import invalid
from cityos.opendata import applications as service
from cityos.opendata.applications import ApplicationIn, ApproveIn, ReasonIn
from cityos.opendata.models import OpenApplication

router = APIRouter(prefix="/open/applications", tags=["open data"])


class ApplicationOut(BaseModel):
    id: str
    resource_id: str
    resource_code: str
    resource_name: str
    provider_id: str
    provider_name: str
    organisation: str
    contact: str
    purpose: str
    scenario: str
    valid_from: date
    valid_until: date
    agreement_version: str
    accepted_at: datetime
    status: str
    status_label: str
    submitted_at: datetime
    decided_at: datetime | None
    decision_comment: str
    revoked_at: datetime | None
    key_id: str | None


class ApplicationList(BaseModel):
    count: int
    results: list[ApplicationOut]


class KeyOut(BaseModel):
    key_id: str
    key: str
    scope_resource_id: str
    expires_at: datetime


def describe(session: Session, rows: list[OpenApplication]) -> list[ApplicationOut]:
    """Applications with their dataset's code and name and the provider's name."""
    from cityos.directory.services import organisation_names

    resources = catalog.get_resources_internal(session, sorted({r.resource_id for r in rows}))
    names = organisation_names(session) if rows else {}
    out = []
    for row in rows:
        resource = resources.get(row.resource_id)
        out.append(
            ApplicationOut(
                id=row.id,
                resource_id=row.resource_id,
                resource_code=resource.code if resource else "",
                resource_name=resource.name if resource else "",
                provider_id=row.provider_id,
                provider_name=names.get(row.provider_id, ""),
                organisation=row.organisation,
                contact=row.contact,
                purpose=row.purpose,
                scenario=row.scenario,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                agreement_version=row.agreement_version,
                accepted_at=row.accepted_at,
                status=row.status,
                status_label=service.status_label(row.status),
                submitted_at=row.submitted_at,
                decided_at=row.decided_at,
                decision_comment=row.decision_comment,
                revoked_at=row.revoked_at,
                key_id=row.key_id,
            )
        )
    return out


def _one(session: Session, row: OpenApplication) -> ApplicationOut:
    return describe(session, [row])[0]


@router.post("", response_model=ApplicationOut, status_code=201)
def create_application(
    body: ApplicationIn, request: Request, principal: Principal = Depends(authenticated)
) -> ApplicationOut:
    """Apply to use a 有条件开放 dataset (``resource``: id or code), accepting the agreement
    (``agree: true``, ``agreement_version``). 409 ``not_conditional_open`` for any other
    dataset, 409 ``application_exists`` for a second live application, 422 without agreement."""
    if not body.resource:
        raise invalid("resource_required", "Name the dataset (its id or code).")
    with request.app.state.db.session() as session:
        created = service.submit(session, principal, body.resource, body)
        return _one(session, created)


@router.get("", response_model=ApplicationList)
def list_applications(
    request: Request,
    box: str = Query("mine", description="mine (my applications) | review (to my departments)"),
    status: str | None = Query(None, description="submitted | approved | rejected | …"),
    principal: Principal = Depends(authenticated),
) -> ApplicationList:
    """My applications, or those to review for the departments I am a data officer of (the
    bureau: all)."""
    if box not in ("mine", "review"):
        raise invalid("bad_box", "box is mine or review.")
    with request.app.state.db.session() as session:
        if box == "mine":
            rows = service.list_for_user(session, principal.user_id or "")
        else:
            rows = service.for_review(session, principal, pending=True) + service.for_review(
                session, principal, pending=False
            )
        if status:
            rows = [r for r in rows if r.status == status]
        return ApplicationList(count=len(rows), results=describe(session, rows))


@router.get("/{application_id}", response_model=ApplicationOut)
def get_application(
    application_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> ApplicationOut:
    """One application (the applicant, the provider's members and the bureau; else 404)."""
    with request.app.state.db.session() as session:
        return _one(session, service.get_application(session, application_id, principal))


@router.post("/{application_id}/approve", response_model=ApplicationOut)
def approve_application(
    application_id: str,
    request: Request,
    body: ApproveIn | None = None,
    principal: Principal = Depends(authenticated),
) -> ApplicationOut:
    """Approve (the provider's data officers, the bureau), optionally for a shorter period."""
    with request.app.state.db.session() as session:
        decided = service.approve(session, application_id, principal, body or ApproveIn())
        return _one(session, decided)


@router.post("/{application_id}/reject", response_model=ApplicationOut)
def reject_application(
    application_id: str,
    body: ReasonIn,
    request: Request,
    principal: Principal = Depends(authenticated),
) -> ApplicationOut:
    """Reject with a reason (required)."""
    with request.app.state.db.session() as session:
        decided = service.reject(session, application_id, principal, body.reason)
        return _one(session, decided)


@router.post("/{application_id}/revoke", response_model=ApplicationOut)
def revoke_application(
    application_id: str,
    body: ReasonIn,
    request: Request,
    principal: Principal = Depends(authenticated),
) -> ApplicationOut:
    """Revoke an approval with a reason; the application's key is revoked too."""
    with request.app.state.db.session() as session:
        revoked = service.revoke(session, application_id, principal, body.reason)
        return _one(session, revoked)


@router.post("/{application_id}/key", response_model=KeyOut, status_code=201)
def generate_key(
    application_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> KeyOut:
    """The applicant's API key for an approved application, scoped to its dataset and valid
    until the end of the approved period. Returned ONCE: it is never shown again."""
    with request.app.state.db.session() as session:
        key_id, plaintext = service.generate_key(session, application_id, principal)
        application = service.get_application(session, application_id, principal)
        expires = service.end_of_day(application.valid_until)
        scope = application.resource_id
    return KeyOut(key_id=key_id, key=plaintext, scope_resource_id=scope, expires_at=expires)
