"""Catalogue pages: faceted search (/catalog) and a resource's page (/catalog/{code})."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cityos.auth.access import public
from cityos.auth.principal import Principal
from cityos.catalog import labels, policy, services
from cityos.catalog.api import facet_label
from cityos.core.errors import ProblemError
from cityos.core.web import render

router = APIRouter()

PAGE_SIZE = 20
FACET_ORDER = (
    "class",
    "provider",
    "share_type",
    "open_type",
    "update_cycle",
    "format",
    "district",
    "keyword",
    "status",
)


@dataclass
class FacetLink:
    value: str
    label: str
    count: int
    selected: bool
    url: str


def _url(params: list[tuple[str, str]]) -> str:
    return "/catalog" + ("?" + urlencode(params) if params else "")


def _query_params(request: Request) -> tuple[str, dict[str, list[str]], str, int]:
    query = request.query_params
    filters = {key: [v for v in query.getlist(key) if v.strip()] for key in services.FILTER_KEYS}
    try:
        page = max(1, int(query.get("page", "1")))
    except ValueError:
        page = 1
    sort = query.get("sort", "relevance")
    return query.get("q", "").strip()[:200], filters, sort, page


def _base_params(q: str, filters: dict[str, list[str]], sort: str) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = [("q", q)] if q else []
    for key in services.FILTER_KEYS:
        params += [(key, v) for v in filters.get(key, [])]
    if sort != "relevance":
        params.append(("sort", sort))
    return params


def _toggle(params: list[tuple[str, str]], key: str, value: str) -> str:
    """The URL with this filter value switched on or off (back to page 1)."""
    pair = (key, value)
    return _url([p for p in params if p != pair] if pair in params else [*params, pair])


@router.get("/catalog", response_class=HTMLResponse)
def catalogue(request: Request, principal: Principal = Depends(public)) -> Response:
    """Search the catalogue: words, facets (provider, class, share/open type, …), sort, pages."""
    q, filters, sort, page = _query_params(request)
    params = _base_params(q, filters, sort)
    error = None
    with request.app.state.db.session() as session:
        try:
            result = services.search(
                session,
                principal,
                q=q,
                filters=filters,
                sort=sort,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
        except ProblemError as problem:  # a hand-made URL with a bad filter: show why
            if problem.status != 422:
                raise
            error = problem.detail
            filters, sort, params = {}, "relevance", [("q", q)] if q else []
            result = services.search(session, principal, q=q, limit=PAGE_SIZE)
        from cityos.directory.services import organisation_names

        names = organisation_names(session)
        classes = services.class_names(session)
    facets: dict[str, list[FacetLink]] = {}
    for key in FACET_ORDER:
        rows = result.facets.get(key, [])
        if key == "status" and not (principal.org_ids or principal.sees_everything):
            continue
        facets[key] = [
            FacetLink(
                value=v,
                label=facet_label(key, v, names, classes),
                count=n,
                selected=v in filters.get(key, []),
                url=_toggle(params, key, v),
            )
            for v, n in rows
        ]
    active = [
        FacetLink(
            value=v,
            label=facet_label(key, v, names, classes),
            count=0,
            selected=True,
            url=_toggle(params, key, v),
        )
        for key in services.FILTER_KEYS
        for v in filters.get(key, [])
    ]
    pages = max(1, -(-result.total // PAGE_SIZE))

    def page_url(n: int) -> str:
        return _url(params + ([("page", str(n))] if n > 1 else []))

    context: dict[str, Any] = {
        "q": q,
        "sort": sort,
        "sorts": labels.SORTS,
        "filters": filters,
        "hidden_filters": [(k, v) for k, v in params if k not in ("q", "sort")],
        "result": result,
        "facets": facets,
        "facet_labels": labels.FACET,
        "active": active,
        "clear_url": _url([("q", q)] if q else []),
        "names": names,
        "page": page,
        "pages": pages,
        "page_url": page_url,
        "error": error,
        "labels": labels,
    }
    return render(request, "catalog/search.html", context)


@router.get("/catalog/{code}", response_class=HTMLResponse)
def resource_page(code: str, request: Request, principal: Principal = Depends(public)) -> Response:
    """A resource's page: core metadata, items, data preview, API snippet and history."""
    from cityos.datastore.services import encrypted_fields_of
    from cityos.directory.services import get_organisation
    from cityos.protection.grades import pi_type_label

    with request.app.state.db.session() as session:
        resource = services.get_resource(session, code, principal)
        items = services.get_items(session, resource.id)
        provider = get_organisation(session, resource.provider_id)
        classes = services.class_names(session)
        history = services.versions(session, resource.id)
        related = services.visible_codes(session, principal, resource.related_codes or [])
    class_path: list[tuple[str, str]] = []
    for prefix in (resource.class_code[:1], resource.class_code[:3], resource.class_code[:6]):
        if prefix and prefix in classes and (not class_path or class_path[-1][0] != prefix):
            class_path.append((prefix, classes[prefix]))
    if resource.class_code not in dict(class_path):
        class_path.append((resource.class_code, classes.get(resource.class_code, "")))
    context = {
        "resource": resource,
        "items": items,
        "provider": provider,
        "class_path": class_path,
        "history": history,
        "related": related,
        "labels": labels,
        "can_edit": policy.can_edit(principal, resource),
        "can_read_data": policy.can_read_data(principal, resource),
        "actions": services.allowed_actions(principal, resource),
        "base_url": request.app.state.settings.base_url.rstrip("/"),
        # 分级: grade badges, and which items the datastore keeps encrypted at rest
        "encrypted": set(encrypted_fields_of(request.app.state.db, resource.id)),
        "pi_type_label": pi_type_label,
    }
    return render(request, "catalog/resource.html", context)
