"""The one place that lists every route of CityOS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import iter_route_contexts

from cityos.audit import api as audit_api
from cityos.audit import views as audit_views
from cityos.auth import api as auth_api
from cityos.auth import register_views as auth_register_views
from cityos.auth import views as auth_views
from cityos.catalog import api as catalog_api
from cityos.catalog import views as catalog_views
from cityos.catalog import workbench as catalog_workbench
from cityos.ckan import api as ckan_api
from cityos.core.web import mark_page
from cityos.datastore import api as datastore_api
from cityos.datastore import events as datastore_events
from cityos.datastore import views as datastore_views
from cityos.dcat import api as dcat_api
from cityos.demand import answers as demand_answers
from cityos.demand import api as demand_api
from cityos.demand import views as demand_views
from cityos.demand import workbench as demand_workbench
from cityos.directory import api as directory_api
from cityos.directory import views as directory_views
from cityos.exchange import api as exchange_api
from cityos.exchange import codes_api as exchange_codes_api
from cityos.exchange import views as exchange_views
from cityos.incidents import api as incidents_api
from cityos.incidents import tasks as incidents_tasks
from cityos.incidents import views as incidents_views
from cityos.interfaces import api as interfaces_api
from cityos.interfaces import views as interfaces_views
from cityos.notify import api as notify_api
from cityos.notify import views as notify_views
from cityos.opendata import api as opendata_api
from cityos.opendata import application_api as opendata_application_api
from cityos.opendata import application_views as opendata_application_views
from cityos.opendata import cache as opendata_cache
from cityos.opendata import developer_views as opendata_developer_views
from cityos.opendata import quota as opendata_quota
from cityos.opendata import seo as opendata_seo
from cityos.opendata import usage as opendata_usage
from cityos.opendata import usage_views as opendata_usage_views
from cityos.opendata import views as opendata_views
from cityos.portal import views as portal_views
from cityos.protection import api as protection_api
from cityos.protection import views as protection_views
from cityos.sharing import api as sharing_api
from cityos.sharing import tasks as sharing_tasks
from cityos.sharing import views as sharing_views
from cityos.showcase import api as showcase_api
from cityos.showcase import views as showcase_views


def include_routes(app: FastAPI) -> None:
    api = APIRouter(prefix="/api/v1")
    api.include_router(exchange_api.router)  # first: the high-rate calls match at once
    api.include_router(exchange_codes_api.router)
    api.include_router(opendata_api.router)  # /open/…: high-rate, cached
    api.include_router(opendata_application_api.router)
    api.include_router(opendata_usage_views.api_router)
    api.include_router(auth_api.router)
    api.include_router(directory_api.router)
    api.include_router(audit_api.router)
    api.include_router(incidents_api.router)
    api.include_router(catalog_api.router)
    api.include_router(datastore_api.router)
    api.include_router(protection_api.router)
    api.include_router(sharing_api.router)
    api.include_router(interfaces_api.router)
    api.include_router(demand_api.router)
    api.include_router(notify_api.router)
    api.include_router(showcase_api.router)
    app.include_router(api)
    app.include_router(ckan_api.router)  # /api/3/action/*, /api/action/* (CKAN, not /api/v1)
    app.include_router(dcat_api.router)  # /catalog.ttl|.jsonld|.rdf
    app.add_middleware(dcat_api.CatalogNegotiation)  # GET /catalog with an RDF Accept

    pages = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)
    pages.include_router(portal_views.router)
    pages.include_router(opendata_views.router)
    pages.include_router(opendata_seo.router)  # /sitemap.xml, /robots.txt
    pages.include_router(opendata_application_views.router)
    pages.include_router(opendata_usage_views.router)
    pages.include_router(auth_views.router)
    pages.include_router(auth_register_views.router)
    pages.include_router(opendata_developer_views.router)
    pages.include_router(directory_views.router)
    pages.include_router(catalog_views.router)
    pages.include_router(catalog_workbench.router)
    pages.include_router(datastore_views.router)
    pages.include_router(exchange_views.router)
    pages.include_router(protection_views.router)
    pages.include_router(audit_views.router)
    pages.include_router(incidents_views.router)
    pages.include_router(sharing_views.router)
    pages.include_router(interfaces_views.router)
    pages.include_router(demand_views.router)
    pages.include_router(demand_workbench.router)
    pages.include_router(notify_views.router)
    pages.include_router(showcase_views.router)
    app.include_router(pages)
    datastore_events.install(app)  # encryption at rest follows the catalogue's items
    incidents_tasks.install(app)  # background incident detector over the access audit
    sharing_tasks.install(app)  # background deadline check of share requests
    demand_answers.install(app)  # a dataset published as open data fulfils its demands
    opendata_cache.install(app)  # open API answers dropped when data or metadata change
    opendata_usage.install(app)  # usage counts of open datasets, written in batches
    opendata_quota.install(app)  # the API keys' daily call counts, written in batches


@dataclass(frozen=True)
class Endpoint:
    methods: frozenset[str]
    path: str
    dependant: Any


def iter_endpoints(app: FastAPI) -> Iterator[Endpoint]:
    """Every HTTP endpoint of the app, with included routers flattened."""
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        if context.methods and context.path and dependant is not None:
            yield Endpoint(frozenset(context.methods), context.path, dependant)
