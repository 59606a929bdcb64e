"""The public open-data portal: /open, the open catalogue search, dataset pages, terms, 长辈版."""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.auth.access import public
from cityos.auth.principal import ANONYMOUS, Principal
from cityos.catalog import facets, labels
from cityos.catalog import services as catalog
from cityos.core.errors import not_found
from cityos.core.web import render, safe_next
from cityos.demand import services as demand
from cityos.opendata import applications, charts, seo, usage
from cityos.showcase import services as showcase

router = APIRouter()

PAGE_SIZE = 20
PREVIEW_ROWS = 10
OPEN_FACETS = ("class", "provider", "open_type", "format", "update_cycle", "district", "keyword")
OPEN_TYPES = ("unconditional", "conditional")
ELDER_COOKIE = "cityos_elder"
ELDER_MAX_AGE = 365 * 24 * 3600
SNIPPET_CHARS = 140
POPULAR = 6


# --------------------------------------------------------------------------- helpers


def snippet(text: str, q: str, size: int = SNIPPET_CHARS) -> list[tuple[str, bool]]:
    """``text`` cut around the first word of ``q`` it contains: (part, is_a_match) pairs."""
    words = sorted({w for w in q.split() if w}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - size // 3) if first else 0
    cut = text[start : start + size]
    prefix, suffix = ("…" if start else ""), ("…" if start + size < len(text) else "")
    if pattern is None:
        return [(prefix + cut + suffix, False)]
    parts: list[tuple[str, bool]] = [(prefix, False)]
    last = 0
    for match in pattern.finditer(cut):
        parts += [(cut[last : match.start()], False), (match.group(0), True)]
        last = match.end()
    parts += [(cut[last:] + suffix, False)]
    return [(part, hit) for part, hit in parts if part]


def _open_resource(session: Session, code: str) -> Any:
    """A dataset of the open catalogue, else 404 (not open, not published or unknown)."""
    resource = catalog.get_resource(session, code, ANONYMOUS)
    if resource.code != code:  # by code only: ids are not public addresses
        raise not_found("resource", code)
    return resource


def formats_for(items: list[Any]) -> list[str]:
    return ["csv", "json", "xlsx", *(["geojson"] if charts.has_geometry(items) else [])]


def _filter_example(fields: list[dict[str, Any]], record: dict[str, Any] | None) -> str:
    """A real ``field=value`` filter for the API examples, from the first previewed record."""
    if not record:
        return ""
    for f in fields:
        value = record.get(f["id"])
        if f["id"] != "_id" and f.get("type") == "string" and isinstance(value, str) and value:
            return urlencode({f["id"]: value})
    for f in fields:
        value = record.get(f["id"])
        if f.get("type") in charts.NUMERIC_TYPES and isinstance(value, int | float):
            return urlencode({f"{f['id']}__gte": value})
    return ""


def _related(session: Session, resource_id: str) -> tuple[list[Any], list[Any]]:
    """(showcase apps using the dataset, demands it answered)."""
    return showcase.for_resource(session, resource_id), demand.for_resource(session, resource_id)


def _application(session: Session, principal: Principal, resource_id: str) -> Any:
    if principal.is_anonymous:
        return None
    return applications.latest_for(session, principal.user_id, resource_id)


def _home_lists(session: Session) -> dict[str, Any]:
    """Popular datasets (by views, else newest), latest demands and showcase apps, usage sums."""
    totals: dict[str, int] = {}
    ranked = usage.per_dataset(session, days=30, order="view")
    ids = [row.resource_id for row in ranked if row.view][:POPULAR]
    found = catalog.get_resources_internal(session, ids)
    popular = [found[i] for i in ids if i in found and _is_open(found[i])]
    for row in usage.per_publisher(session, days=None):
        totals["download"] = totals.get("download", 0) + row.download
        totals["api"] = totals.get("api", 0) + row.api
    demands = demand.recent(session, limit=5)
    apps = showcase.recent(session, limit=6)
    if not popular:
        popular = catalog.newest_published(session, ANONYMOUS, limit=POPULAR)
    return {"popular": popular, "usage": totals, "demands": demands, "apps": apps}


def _is_open(resource: Any) -> bool:
    return bool(resource.status == "published" and resource.open_type in OPEN_TYPES)


# --------------------------------------------------------------------------- pages


@router.get("/open", response_class=HTMLResponse)
def open_home(request: Request, _: Principal = Depends(public)) -> Response:
    """Open-data home: search, counts, popular datasets, latest demands and showcase apps."""
    from cityos.directory.services import organisation_names

    with request.app.state.db.session() as session:
        overview = catalog.search(session, ANONYMOUS, limit=0)
        lists = _home_lists(session)
        names = organisation_names(session)
    by_open_type = dict(overview.facets.get("open_type", []))
    context = {
        "total": overview.total,
        "by_open_type": by_open_type,
        "publishers": len(overview.facets.get("provider", [])),
        "names": names,
        "labels": labels,
        **lists,
    }
    return render(request, "opendata/home.html", context)


@router.get("/open/datasets", response_class=HTMLResponse)
def open_search(request: Request, _: Principal = Depends(public)) -> Response:
    """Search the open catalogue: words, facets, sort, pages; a bad filter is explained."""
    with request.app.state.db.session() as session:
        context = facets.search_context(
            session,
            ANONYMOUS,  # the open catalogue is what anyone may see, whoever is signed in
            request,
            path="/open/datasets",
            filter_keys=OPEN_FACETS,
            facet_keys=OPEN_FACETS,
            page_size=PAGE_SIZE,
        )
    q = context["q"]
    context["snippet"] = snippet
    context["demand_url"] = "/demands/new?" + urlencode({"title": q}) if q else "/demands/new"
    return render(request, "opendata/search.html", context)


def _preview(request: Request, resource: Any, spec: charts.ChartSpec | None) -> Any:
    """The first rows of a 无条件开放 dataset (newest first when there is a time field)."""
    from cityos.datastore.services import query

    if resource.open_type != "unconditional":
        return None
    sort = f"-{spec.x.field}" if spec is not None and spec.kind == "line" else None
    return query(request.app.state.db, resource.id, sort=sort, limit=PREVIEW_ROWS)


@router.get("/open/datasets/{code}", response_class=HTMLResponse)
def dataset_page(code: str, request: Request, principal: Principal = Depends(public)) -> Response:
    """An open dataset: metadata, preview, chart, map, downloads, API examples, apps, demands."""
    from cityos.directory.services import get_organisation

    with request.app.state.db.session() as session:
        resource = _open_resource(session, code)
        items = catalog.get_items(session, resource.id)
        provider = get_organisation(session, resource.provider_id)
        usage_totals = usage.totals_for(session, resource.id)
        apps, demands = _related(session, resource.id)
        application = _application(session, principal, resource.id)
    usage.count(request.app, resource.id, "view")
    chart = charts.chart_spec(items)
    map_spec = charts.map_spec(items, resource.districts)
    preview = _preview(request, resource, chart)
    formats = formats_for(items)
    base_url = str(request.app.state.settings.base_url).rstrip("/")
    jsonld = seo.dataset_jsonld(
        resource, items, provider_name=provider.name, base_url=base_url, formats=formats
    )
    first = preview.records[0] if preview is not None and preview.records else None
    api_filter = _filter_example(preview.fields, first) if preview is not None else ""
    context = {
        "resource": resource,
        "items": items,
        "provider": provider,
        "labels": labels,
        "usage": usage_totals,
        "apps": apps,
        "demands": demands,
        "application": application,
        "chart": chart.as_json() if chart else None,
        "map": map_spec.as_json() if map_spec else None,
        "preview": preview,
        "district_fields": charts.DISTRICT_FIELDS,
        "formats": formats,
        "base_url": base_url,
        "api_filter": api_filter,
        "api_filter_pairs": parse_qsl(api_filter),
        "application_status": applications.status_label,
        "jsonld": seo.jsonld_script(jsonld),
    }
    return render(request, "opendata/dataset.html", context)


@router.get("/open/terms", response_class=HTMLResponse)
def terms(request: Request, _: Principal = Depends(public)) -> Response:
    """开放数据使用协议: the terms under which open data may be used."""
    return render(request, "opendata/terms.html", {})


@cache
def _districts_geojson() -> bytes:
    from cityos.demo.geo import GEOJSON

    return GEOJSON.read_bytes()


@router.get("/open/geo/haikou-districts.geojson")
def districts_geojson(request: Request, _: Principal = Depends(public)) -> Response:
    """Haikou's four district boundaries (GeoJSON), the base layer of the dataset maps."""
    return Response(
        _districts_geojson(),
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# --------------------------------------------------------------------------- 长辈版


@router.get("/elder")
def elder(request: Request, _: Principal = Depends(public)) -> Response:
    """Switch 长辈版 (large text, large targets, high contrast) on (?on=1) or off, then go back."""
    on = request.query_params.get("on", "1") == "1"
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(
        ELDER_COOKIE, "1" if on else "0", max_age=ELDER_MAX_AGE, samesite="lax", httponly=True
    )
    return response
