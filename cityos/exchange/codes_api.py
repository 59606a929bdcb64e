"""Managing authorization codes over the API (the same rules as the codes page).

``POST /api/v1/exchange/grants/{grant_id}/codes`` answers the new code once; no list or read
ever returns it again. Who may do what is decided in ``cityos.exchange.services``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from cityos.auth.access import authenticated
from cityos.auth.principal import Principal
from cityos.core.db import utcnow
from cityos.core.errors import invalid, not_found
from cityos.exchange import services
from cityos.sharing.grants import get_grant
from cityos.sharing.models import Grant

router = APIRouter(prefix="/exchange", tags=["exchange"])


class CodeIn(BaseModel):
    expires_at: datetime = Field(description="Mandatory; ISO 8601 with offset, within the grant")
    label: str = Field(default="", max_length=100, description="Which system uses the code")
    rate_limit_per_minute: int = Field(default=services.DEFAULT_RATE_PER_MINUTE)


class RotateIn(BaseModel):
    overlap_hours: int | None = Field(
        default=None, ge=0, le=720, description="How long the old code keeps working"
    )


class ReasonIn(BaseModel):
    reason: str = Field(default="", max_length=500)


class RateIn(BaseModel):
    rate_limit_per_minute: int


class CodeOut(BaseModel):
    key_id: str
    grant_id: str | None
    label: str
    status: str
    created_at: datetime
    expires_at: datetime
    overlap_until: datetime | None
    rotated_to: str | None
    last_used_at: datetime | None
    use_count: int
    rate_limit_per_minute: int
    revoke_reason: str


class NewCodeOut(CodeOut):
    code: str = Field(description="The authorization code: shown in this answer only")


def _visible_grant(request: Request, grant_id: str, principal: Principal) -> Grant:
    with request.app.state.db.session() as session:
        grant = session.get(Grant, grant_id)
        if grant is None or not services.can_see(principal, grant):
            raise not_found("grant", grant_id)
        return grant


def _visible_code(request: Request, key_id: str, principal: Principal) -> None:
    with request.app.state.db.session() as session:
        code = services.get_code(session, key_id)
        grant = session.get(Grant, code.grant_id) if code.grant_id else None
        if grant is None or not services.can_see(principal, grant):
            raise not_found("code", key_id)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise invalid("naive_datetime", "Give the time with its UTC offset (ISO 8601).")
    return value


@router.get("/grants/{grant_id}/codes", response_model=list[CodeOut])
def list_codes(
    grant_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> list[CodeOut]:
    """The codes of a grant (key id, status, dates, last use); never the code itself."""
    _visible_grant(request, grant_id, principal)
    now = utcnow()
    with request.app.state.db.session() as session:
        rows = services.list_codes(session, grant_id)
        return [CodeOut.model_validate(services.code_summary(c, now)) for c in rows]


@router.post("/grants/{grant_id}/codes", response_model=NewCodeOut, status_code=201)
def issue_code(
    grant_id: str, body: CodeIn, request: Request, principal: Principal = Depends(authenticated)
) -> NewCodeOut:
    """发放授权码: a new code for a grant in force (the consumer's data officers, the bureau)."""
    _visible_grant(request, grant_id, principal)
    with request.app.state.db.session() as session:
        row, plaintext = services.issue_code(
            session,
            get_grant(session, grant_id),
            principal,
            expires_at=_aware(body.expires_at),
            label=body.label,
            rate_limit_per_minute=body.rate_limit_per_minute,
        )
        summary = services.code_summary(row)
    return NewCodeOut.model_validate({**summary, "code": plaintext})


@router.post("/codes/{key_id}/rotate", response_model=NewCodeOut, status_code=201)
def rotate_code(
    key_id: str,
    request: Request,
    body: RotateIn | None = None,
    principal: Principal = Depends(authenticated),
) -> NewCodeOut:
    """A new code replacing this one; the old code works until the overlap ends."""
    _visible_code(request, key_id, principal)
    hours = body.overlap_hours if body and body.overlap_hours is not None else None
    if hours is None:
        hours = int(request.app.state.settings.code_rotation_overlap_hours)
    with request.app.state.db.session() as session:
        row, plaintext = services.rotate_code(
            session, key_id, principal, overlap=timedelta(hours=hours)
        )
        summary = services.code_summary(row)
    return NewCodeOut.model_validate({**summary, "code": plaintext})


def _change(
    request: Request, key_id: str, principal: Principal, action: str, reason: str
) -> CodeOut:
    _visible_code(request, key_id, principal)
    with request.app.state.db.session() as session:
        if action == "revoke":
            row = services.revoke_code(session, key_id, principal, reason)
        elif action == "suspend":
            row = services.suspend_code(session, key_id, principal, reason)
        else:
            row = services.resume_code(session, key_id, principal)
        return CodeOut.model_validate(services.code_summary(row))


@router.post("/codes/{key_id}/revoke", response_model=CodeOut)
def revoke_code(
    key_id: str, body: ReasonIn, request: Request, principal: Principal = Depends(authenticated)
) -> CodeOut:
    """Revoke a code at once, in every process (a reason is required)."""
    return _change(request, key_id, principal, "revoke", body.reason)


@router.post("/codes/{key_id}/suspend", response_model=CodeOut)
def suspend_code(
    key_id: str, body: ReasonIn, request: Request, principal: Principal = Depends(authenticated)
) -> CodeOut:
    """Suspend a code (a reason is required); the provider or the bureau may resume it."""
    return _change(request, key_id, principal, "suspend", body.reason)


@router.post("/codes/{key_id}/resume", response_model=CodeOut)
def resume_code(
    key_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> CodeOut:
    """Resume a suspended code."""
    return _change(request, key_id, principal, "resume", "")


@router.put("/codes/{key_id}/rate-limit", response_model=CodeOut)
def set_rate_limit(
    key_id: str, body: RateIn, request: Request, principal: Principal = Depends(authenticated)
) -> CodeOut:
    """Calls per minute allowed for this code (the provider's officers or the bureau)."""
    _visible_code(request, key_id, principal)
    with request.app.state.db.session() as session:
        row = services.set_rate_limit(session, key_id, principal, body.rate_limit_per_minute)
        return CodeOut.model_validate(services.code_summary(row))
