"""The one place that lists every route of CityOS."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from cityos.auth import api as auth_api
from cityos.auth import views as auth_views
from cityos.core.web import mark_page
from cityos.directory import api as directory_api
from cityos.directory import views as directory_views
from cityos.portal import views as portal_views


def include_routes(app: FastAPI) -> None:
    api = APIRouter(prefix="/api/v1")
    api.include_router(auth_api.router)
    api.include_router(directory_api.router)
    app.include_router(api)

    pages = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)
    pages.include_router(portal_views.router)
    pages.include_router(auth_views.router)
    pages.include_router(directory_views.router)
    app.include_router(pages)
