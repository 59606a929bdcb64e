from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cityos.auth.access import public
from cityos.auth.principal import Principal
from cityos.core.web import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: Principal = Depends(public)) -> Response:
    """Portal home: search, resource counts by department and class, newest resources."""
    from cityos.catalog import labels
    from cityos.catalog.services import newest_published, portal_stats
    from cityos.directory.services import organisation_names

    with request.app.state.db.session() as session:
        stats = portal_stats(session, principal)
        newest = newest_published(session, principal, limit=8)
        names = organisation_names(session)
    context = {"stats": stats, "newest": newest, "names": names, "labels": labels}
    return render(request, "portal/home.html", context)


@router.get("/healthz")
def healthz(request: Request, _: Principal = Depends(public)) -> dict[str, str]:
    """Liveness and database check."""
    from sqlalchemy import text

    with request.app.state.db.session() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}
