"""Pages of authorization codes: ``/exchange/grants/{grant_id}/codes``.

- the consumer department's data officers issue (发放授权码) and rotate codes; the new code is
  shown once, on the answer to the POST, and never again;
- the grant's departments and the bureau see the codes (key id, label, dates, last use, status);
  the consumer's and the provider's data officers and the bureau suspend or revoke them; the
  provider's officers and the bureau resume a suspended code.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.access import authenticated
from cityos.auth.principal import Principal
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, invalid, not_found
from cityos.core.i18n import DISPLAY_TZ, lazy
from cityos.core.web import check_csrf, render
from cityos.exchange import services
from cityos.sharing.grants import get_grant, is_usable, today
from cityos.sharing.models import Grant

router = APIRouter()
DEFAULT_DAYS = 90
STATUS_LABELS = {
    "active": lazy("Active"),
    "rotating": lazy("Rotated (old code in its overlap)"),
    "expired": lazy("Expired"),
    "suspended": lazy("Suspended"),
    "revoked": lazy("Revoked"),
}


def _visible_grant(request: Request, grant_id: str, principal: Principal) -> Grant:
    with request.app.state.db.session() as session:
        grant = session.get(Grant, grant_id)
        if grant is None or not services.can_see(principal, grant):
            raise not_found("grant", grant_id)
        return grant


def _default_expiry(grant: Grant) -> date:
    return min(today() + timedelta(days=DEFAULT_DAYS), grant.valid_until)


def _page(
    request: Request,
    principal: Principal,
    grant: Grant,
    *,
    new_code: str | None = None,
    new_key_id: str | None = None,
    error: ProblemError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.catalog import services as catalog

    now = utcnow()
    with request.app.state.db.session() as session:
        rows = services.list_codes(session, grant.id)
        resource = catalog.get_resource_internal(session, grant.resource_id)
        codes = [services.code_summary(c, now) for c in rows]
    settings = request.app.state.settings
    context: dict[str, Any] = {
        "grant": grant,
        "resource": resource,
        "codes": codes,
        "new_code": new_code,
        "new_key_id": new_key_id,
        "error": error,
        "usable": is_usable(grant),
        "can_issue": services.can_issue(principal, grant),
        "can_stop": services.can_stop(principal, grant),
        "can_resume": principal.is_admin or principal.is_officer_of(grant.provider_org_id),
        "default_expiry": _default_expiry(grant).isoformat(),
        "max_expiry": min(today() + timedelta(days=365), grant.valid_until).isoformat(),
        "overlap_hours": int(settings.code_rotation_overlap_hours),
        "status_labels": STATUS_LABELS,
        "base_url": str(settings.base_url).rstrip("/"),
        "example_code": new_code or "cos_…",
    }
    return render(request, "exchange/codes.html", context, status_code=status_code)


@router.get("/exchange/grants/{grant_id}/codes", response_class=HTMLResponse)
def codes_page(
    grant_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> Response:
    """The codes of a grant; the issue form for the consumer's data officers."""
    return _page(request, principal, _visible_grant(request, grant_id, principal))


def _expiry(text: str) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise invalid("bad_expiry", "Give the expiry date as YYYY-MM-DD.") from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=DISPLAY_TZ)


@router.post("/exchange/grants/{grant_id}/codes", response_class=HTMLResponse)
async def issue(
    grant_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> Response:
    """发放授权码: the answer shows the new code once."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    grant = _visible_grant(request, grant_id, principal)
    try:
        expires_at = _expiry(str(form.get("expires_on") or ""))
        with request.app.state.db.session() as session:
            row, plaintext = services.issue_code(
                session,
                get_grant(session, grant_id),
                principal,
                expires_at=expires_at,
                label=str(form.get("label") or ""),
            )
            key_id = row.key_id
    except ProblemError as problem:
        if problem.status == 403 and problem.code == "forbidden":
            raise
        return _page(request, principal, grant, error=problem, status_code=problem.status)
    return _page(request, principal, grant, new_code=plaintext, new_key_id=key_id)


def _code_grant(request: Request, key_id: str, principal: Principal) -> Grant:
    with request.app.state.db.session() as session:
        code = services.get_code(session, key_id)
        grant_id = code.grant_id or ""
    return _visible_grant(request, grant_id, principal)


@router.post("/exchange/codes/{key_id}/rotate", response_class=HTMLResponse)
async def rotate(
    key_id: str, request: Request, principal: Principal = Depends(authenticated)
) -> Response:
    """A new code for the same grant; the old one works during the overlap. Shown once."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    grant = _code_grant(request, key_id, principal)
    hours = int(request.app.state.settings.code_rotation_overlap_hours)
    try:
        with request.app.state.db.session() as session:
            row, plaintext = services.rotate_code(
                session, key_id, principal, overlap=timedelta(hours=hours)
            )
            new_id = row.key_id
    except ProblemError as problem:
        if problem.status == 403 and problem.code == "forbidden":
            raise
        return _page(request, principal, grant, error=problem, status_code=problem.status)
    return _page(request, principal, grant, new_code=plaintext, new_key_id=new_id)


@router.post("/exchange/codes/{key_id}/{action}", response_class=HTMLResponse)
async def change(
    key_id: str, action: str, request: Request, principal: Principal = Depends(authenticated)
) -> Response:
    """Suspend, resume or revoke a code (a reason is required to suspend or revoke)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    grant = _code_grant(request, key_id, principal)
    reason = str(form.get("reason") or "")
    try:
        with request.app.state.db.session() as session:
            if action == "revoke":
                services.revoke_code(session, key_id, principal, reason)
            elif action == "suspend":
                services.suspend_code(session, key_id, principal, reason)
            elif action == "resume":
                services.resume_code(session, key_id, principal)
            else:
                raise not_found("action", action)
    except ProblemError as problem:
        if problem.status in (403, 404):
            raise
        return _page(request, principal, grant, error=problem, status_code=problem.status)
    return RedirectResponse(f"/exchange/grants/{grant.id}/codes#codes", status_code=303)
