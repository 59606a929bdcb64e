from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth import services
from cityos.auth.access import authenticated, public
from cityos.auth.models import User
from cityos.auth.principal import Principal
from cityos.core.i18n import gettext as _
from cityos.core.i18n import lazy
from cityos.core.web import check_csrf, render, safe_next

router = APIRouter()

DEMO_ACCOUNTS = [
    ("admin", lazy("Platform admin (市大数据管理局)")),
    ("officer_water", lazy("Data officer (市水务局)")),
    ("officer_health", lazy("Data officer (市卫生健康委员会)")),
    ("officer_police", lazy("Data officer (市公安局)")),
    ("reviewer", lazy("Reviewer (市委网信办)")),
    ("operator", lazy("Operator (城市运行管理中心, 市大数据管理局)")),
    ("leader", lazy("Leader (市政府办公厅)")),
    ("citizen", lazy("Public")),
    ("developer", lazy("Developer (open data)")),
]
DEMO_PASSWORD = "cityos-demo"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", _p: Principal = Depends(public)) -> Response:
    """Sign-in page (lists demo accounts in demo mode)."""
    demo = request.app.state.settings.demo
    return render(
        request,
        "auth/login.html",
        {
            "next": safe_next(next),
            "demo_accounts": DEMO_ACCOUNTS if demo else [],
            "demo_password": DEMO_PASSWORD,
        },
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    csrf: str = Form(""),
    _p: Principal = Depends(public),
) -> Response:
    """Sign in with username and password."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        user = services.authenticate(session, username.strip(), password)
        if user is None:
            demo = request.app.state.settings.demo
            return render(
                request,
                "auth/login.html",
                {
                    "next": safe_next(next),
                    "error": _("Wrong username or password."),
                    "username": username,
                    "demo_accounts": DEMO_ACCOUNTS if demo else [],
                    "demo_password": DEMO_PASSWORD,
                },
                status_code=401,
            )
        request.session.clear()
        request.session["uid"] = user.id
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), _p: Principal = Depends(public)) -> Response:
    """Sign out."""
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """My account: roles and API tokens."""
    with request.app.state.db.session() as session:
        tokens = services.list_tokens(session, principal.user_id or "")
    return render(request, "auth/account.html", {"tokens": tokens})


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    name: str = Form(...),
    days: int = Form(90),
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Create an API token from the account page (shown once)."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        user = session.get(User, principal.user_id)
        issued = services.create_token(session, user, name=name, days=days, actor=principal)
        tokens = services.list_tokens(session, principal.user_id or "")
    return render(request, "auth/account.html", {"tokens": tokens, "new_token": issued.plaintext})


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    token_id: str,
    request: Request,
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Revoke an API token from the account page."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        services.revoke_token(session, token_id, principal)
    return RedirectResponse("/account", status_code=303)
