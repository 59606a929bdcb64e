"""Self-service registration (/register): an account with the platform-wide role ``public``.

Spam resistance: at most ``PER_HOUR`` accounts per client IP and hour (429 with ``Retry-After``),
and a honeypot field (``website``) that people do not see and bots fill in.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth import services
from cityos.auth.access import public
from cityos.auth.principal import Principal
from cityos.core.errors import ProblemError
from cityos.core.i18n import gettext as _
from cityos.core.ratelimit import SlidingWindow
from cityos.core.web import check_csrf, render, safe_next

router = APIRouter()
PER_HOUR = 5


def _limit(request: Request) -> SlidingWindow:
    found: SlidingWindow | None = getattr(request.app.state, "register_limit", None)
    if found is None:
        found = request.app.state.register_limit = SlidingWindow(PER_HOUR)
    return found


def _page(request: Request, next_url: str, status: int = 200, **ctx: object) -> Response:
    return render(request, "auth/register.html", {"next": next_url, **ctx}, status_code=status)


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, next: str = "/", _p: Principal = Depends(public)) -> Response:
    """Create an account (public role): username, display name, password twice, optional email."""
    return _page(request, safe_next(next))


@router.post("/register", response_class=HTMLResponse)
def register(
    request: Request,
    username: str = Form(""),
    display_name: str = Form(""),
    password: str = Form(""),
    password2: str = Form(""),
    email: str = Form(""),
    website: str = Form(""),
    next: str = Form("/"),
    csrf: str = Form(""),
    _p: Principal = Depends(public),
) -> Response:
    """Create the account, sign in and go to ``next``; 5 accounts per IP and hour."""
    check_csrf(request, csrf)
    next_url = safe_next(next)
    ip = request.client.host if request.client else ""
    wait = _limit(request).take(ip)
    form = {"username": username, "display_name": display_name, "email": email}
    if wait > 0:
        message = _("Too many accounts were created from this address; try again later.")
        page = _page(request, next_url, 429, error=message, **form)
        page.headers["Retry-After"] = str(max(1, int(wait) + 1))
        return page
    if website:  # the honeypot: people do not see it
        return _page(request, next_url, 400, error=_("The form could not be sent."), **form)
    if password != password2:
        return _page(request, next_url, 400, error=_("The two passwords differ."), **form)
    try:
        with request.app.state.db.session() as session:
            user = services.register(
                session,
                username=username,
                display_name=display_name,
                password=password,
                email=email,
                ip=ip,
            )
            uid = user.id
    except ProblemError as problem:
        status = 409 if problem.code == "username_taken" else 400
        return _page(request, next_url, status, error=problem.detail, **form)
    request.session.clear()
    request.session["uid"] = uid
    return RedirectResponse(next_url, status_code=303)
