"""The notifications page: newest first, unread highlighted, mark one or all read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.access import authenticated
from cityos.auth.principal import Principal
from cityos.core.errors import forbidden
from cityos.core.web import check_csrf, render
from cityos.notify import services

router = APIRouter()


def _user(principal: Principal) -> str:
    if principal.user_id is None:
        raise forbidden()
    return principal.user_id


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """My notifications, newest first; unread ones highlighted."""
    user_id = _user(principal)
    with request.app.state.db.session() as session:
        notes = services.list_for(session, user_id)
        rows = [(n, services.text_of(n)) for n in notes]
        unread = services.unread_count(session, user_id)
    return render(request, "notify/list.html", {"rows": rows, "unread": unread})


@router.post("/notifications/read-all")
def read_all(
    request: Request, csrf: str = Form(""), principal: Principal = Depends(authenticated)
) -> Response:
    """Mark all my notifications read."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        services.mark_all_read(session, _user(principal))
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read")
def read_one(
    request: Request,
    notification_id: str,
    csrf: str = Form(""),
    go: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Mark one notification read; ``go=1`` then follows its link."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        note = services.mark_read(session, _user(principal), notification_id)
        link = note.link
    target = link if go and link.startswith("/") and not link.startswith("//") else "/notifications"
    return RedirectResponse(target, status_code=303)
