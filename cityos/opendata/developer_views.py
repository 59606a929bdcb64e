"""开发者中心 /developer: my open data API keys (create, shown once; revoke), quotas, how to call."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.auth.access import authenticated, public
from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.core.errors import ProblemError
from cityos.core.web import check_csrf, render
from cityos.exchange import open_keys
from cityos.opendata import quota

router = APIRouter()


def _rows(request: Request, user_id: str) -> list[dict[str, Any]]:
    q = quota.quotas(request.app)
    with request.app.state.db.session() as session:
        keys = open_keys.list_open_keys(session, user_id)
        scopes = catalog.get_resources_internal(
            session, [k.scope_resource_id for k in keys if k.scope_resource_id]
        )
        return [
            {
                **open_keys.key_summary(k),
                "scope_name": scopes[k.scope_resource_id].name if k.scope_resource_id else "",
                "used_today": min(q.used_today("key:" + k.key_id), k.daily_quota),
            }
            for k in keys
        ]


def _page(request: Request, principal: Principal, status: int = 200, **ctx: Any) -> HTMLResponse:
    assert principal.user_id is not None
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "opendata/developer.html",
        {
            "keys": _rows(request, principal.user_id),
            "api_base": base + "/api/v1/open",
            "max_keys": open_keys.MAX_LIVE_GENERAL_KEYS,
            **ctx,
        },
        status_code=status,
    )


@router.get("/developer", response_class=HTMLResponse)
def developer(request: Request, principal: Principal = Depends(public)) -> Response:
    """Developer centre (signed in; others go to the sign-in page)."""
    if principal.is_anonymous:
        return RedirectResponse("/login?next=" + quote("/developer"), status_code=303)
    return _page(request, principal)


@router.post("/developer/keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    label: str = Form(""),
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Create a general API key; the page shows it once."""
    check_csrf(request, csrf)
    assert principal.user_id is not None
    try:
        with request.app.state.db.session() as session:
            row, plaintext = open_keys.issue_open_key(
                session, user_id=principal.user_id, label=label, actor=principal
            )
            key_id = row.key_id
    except ProblemError as problem:
        return _page(request, principal, problem.status, error=problem.detail)
    return _page(request, principal, 201, new_key=plaintext, new_key_id=key_id)


@router.post("/developer/keys/{key_id}/revoke")
def revoke_key(
    key_id: str,
    request: Request,
    csrf: str = Form(""),
    principal: Principal = Depends(authenticated),
) -> Response:
    """Revoke one of my keys (refused from the next call on)."""
    check_csrf(request, csrf)
    with request.app.state.db.session() as session:
        open_keys.revoke_open_key(session, key_id, principal, "revoked by the owner")
    return RedirectResponse("/developer", status_code=303)
