"""Faceted search pages over the catalogue.

The catalogue (/catalog) and the open data portal (/open/datasets) read the same query
parameters (q, one parameter per filter, sort, page), link each facet value to the URL that
switches it on or off, and explain a hand-made URL with a bad filter instead of failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session

from cityos.auth.principal import Principal
from cityos.catalog import labels, services
from cityos.catalog.api import facet_label
from cityos.core.errors import ProblemError


@dataclass
class FacetLink:
    value: str
    label: str
    count: int
    selected: bool
    url: str


Params = list[tuple[str, str]]


def parse(request: Request, keys: Sequence[str]) -> tuple[str, dict[str, list[str]], str, int]:
    """q, filters (for ``keys``), sort and page from the query string."""
    query = request.query_params
    filters = {key: [v for v in query.getlist(key) if v.strip()] for key in keys}
    try:
        page = max(1, int(query.get("page", "1")))
    except ValueError:
        page = 1
    return query.get("q", "").strip()[:200], filters, query.get("sort", "relevance"), page


def base_params(q: str, filters: dict[str, list[str]], sort: str, keys: Sequence[str]) -> Params:
    params: Params = [("q", q)] if q else []
    for key in keys:
        params += [(key, v) for v in filters.get(key, [])]
    return params + ([("sort", sort)] if sort != "relevance" else [])


def url(path: str, params: Params) -> str:
    return path + ("?" + urlencode(params) if params else "")


def toggle(path: str, params: Params, key: str, value: str) -> str:
    """The URL with this filter value switched on or off (back to page 1)."""
    pair = (key, value)
    return url(path, [p for p in params if p != pair] if pair in params else [*params, pair])


def search_context(
    session: Session,
    principal: Principal,
    request: Request,
    *,
    path: str,
    filter_keys: Sequence[str],
    facet_keys: Sequence[str],
    page_size: int,
) -> dict[str, Any]:
    """Run the search of the request and build what a search page shows."""
    from cityos.directory.services import organisation_names

    q, filters, sort, page = parse(request, filter_keys)
    params = base_params(q, filters, sort, filter_keys)
    error = None
    try:
        result = services.search(
            session,
            principal,
            q=q,
            filters=filters,
            sort=sort,
            limit=page_size,
            offset=(page - 1) * page_size,
        )
    except ProblemError as problem:  # a hand-made URL with a bad filter: show why
        if problem.status != 422:
            raise
        error = problem.detail
        filters, sort, params = {}, "relevance", [("q", q)] if q else []
        result = services.search(session, principal, q=q, limit=page_size)
    names = organisation_names(session)
    classes = services.class_names(session)

    def link(key: str, value: str, count: int) -> FacetLink:
        label = facet_label(key, value, names, classes)
        selected = value in filters.get(key, [])
        return FacetLink(value, label, count, selected, toggle(path, params, key, value))

    def page_url(n: int) -> str:
        return url(path, params + ([("page", str(n))] if n > 1 else []))

    return {
        "q": q,
        "sort": sort,
        "sorts": labels.SORTS,
        "filters": filters,
        "hidden_filters": [(k, v) for k, v in params if k not in ("q", "sort")],
        "result": result,
        "facets": {
            key: [link(key, v, n) for v, n in result.facets.get(key, [])] for key in facet_keys
        },
        "facet_labels": labels.FACET,
        "active": [link(key, v, 0) for key in filter_keys for v in filters.get(key, [])],
        "clear_url": url(path, [("q", q)] if q else []),
        "names": names,
        "page": page,
        "pages": max(1, -(-result.total // page_size)),
        "page_url": page_url,
        "error": error,
        "labels": labels,
    }
