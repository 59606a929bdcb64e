"""Catalogue pages: faceted search (/catalog) and a resource's page (/catalog/{code})."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from cityos.auth.access import public
from cityos.auth.principal import Principal
from cityos.catalog import facets, labels, policy, services
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


@router.get("/catalog", response_class=HTMLResponse)
def catalogue(request: Request, principal: Principal = Depends(public)) -> Response:
    """Search the catalogue: words, facets (provider, class, share/open type, …), sort, pages."""
    members_only = {"status"} if not (principal.org_ids or principal.sees_everything) else set()
    with request.app.state.db.session() as session:
        context = facets.search_context(
            session,
            principal,
            request,
            path="/catalog",
            filter_keys=services.FILTER_KEYS,
            facet_keys=[key for key in FACET_ORDER if key not in members_only],
            page_size=PAGE_SIZE,
        )
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
