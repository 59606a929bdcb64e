from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cityos.auth.access import public
from cityos.auth.principal import Principal
from cityos.core.web import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: Principal = Depends(public)) -> Response:
    from cityos.catalog.services import portal_stats

    with request.app.state.db.session() as session:
        stats = portal_stats(session, principal)
    return render(request, "portal/home.html", {"stats": stats})


@router.get("/healthz")
def healthz(request: Request, _: Principal = Depends(public)) -> dict[str, str]:
    from sqlalchemy import text

    with request.app.state.db.session() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}
