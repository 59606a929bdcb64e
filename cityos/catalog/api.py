"""JSON API of the catalogue under /api/v1/catalog."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Request
from sqlalchemy.orm import Session

from cityos.auth.access import public, roles
from cityos.auth.principal import Principal
from cityos.catalog import labels, services
from cityos.catalog.models import Resource, ResourceItem
from cityos.catalog.schemas import (
    ClassOut,
    FacetOut,
    ItemOut,
    ResourceIn,
    ResourceOut,
    ResourcePatch,
    SearchOut,
    TransitionIn,
    VersionOut,
)
from cityos.core.i18n import get_locale
from cityos.directory.codes import district_name

router = APIRouter(prefix="/catalog", tags=["catalog"])


def resource_out(
    resource: Resource, items: list[ResourceItem], provider_names: dict[str, str]
) -> ResourceOut:
    out = ResourceOut.model_validate(resource)
    out.provider_name = provider_names.get(resource.provider_id, "")
    out.items = [ItemOut.model_validate(i) for i in items]
    return out


def _provider_names(session: Session) -> dict[str, str]:
    from cityos.directory.services import organisation_names

    return organisation_names(session)


def facet_label(key: str, value: str, names: dict[str, str], classes: dict[str, str]) -> str:
    """The display label of a facet value (organisation or class name, translated enum)."""
    if key == "provider":
        return names.get(value, value)
    if key == "class":
        return classes.get(value, value)
    if key == "district":
        return district_name(value, get_locale())
    return labels.label(key, value)


def facets_out(
    session: Session, facets: dict[str, list[tuple[str, int]]]
) -> dict[str, list[FacetOut]]:
    names = _provider_names(session)
    classes = services.class_names(session)
    return {
        key: [
            FacetOut(value=v, label=facet_label(key, v, names, classes), count=n) for v, n in rows
        ]
        for key, rows in facets.items()
    }


@router.get("/classes", response_model=list[ClassOut])
def list_classes(request: Request, _: Principal = Depends(public)) -> list[ClassOut]:
    """The 信息资源分类 tree (类 / 项 / 目 / 细目), in code order."""
    with request.app.state.db.session() as session:
        return [ClassOut.model_validate(c) for c in services.list_classes(session)]


@router.get("/resources", response_model=SearchOut)
def search_resources(
    request: Request,
    q: str = Query("", max_length=200, description="Words to find (Chinese or ASCII)"),
    provider: list[str] = Query([], description="Provider organisation id"),
    class_: list[str] = Query([], alias="class", description="Class code prefix"),
    share_type: list[str] = Query([]),
    open_type: list[str] = Query([]),
    format: list[str] = Query([]),
    update_cycle: list[str] = Query([]),
    district: list[str] = Query([], description="GB/T 2260 code"),
    status: list[str] = Query([]),
    keyword: list[str] = Query([]),
    sort: str = Query("relevance", description="relevance | name | updated | code"),
    limit: int = Query(20, ge=0, le=100),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(public),
) -> SearchOut:
    """Search the resources the caller may see, with facet counts (filters repeat for OR)."""
    filters = {
        "provider": provider,
        "class": class_,
        "share_type": share_type,
        "open_type": open_type,
        "format": format,
        "update_cycle": update_cycle,
        "district": district,
        "status": status,
        "keyword": keyword,
    }
    with request.app.state.db.session() as session:
        result = services.search(
            session, principal, q=q, filters=filters, sort=sort, limit=limit, offset=offset
        )
        names = _provider_names(session)
        items = services.items_for(session, [r.id for r in result.results])
        return SearchOut(
            count=result.total,
            results=[resource_out(r, items[r.id], names) for r in result.results],
            facets=facets_out(session, result.facets),
        )


def _one(session: Session, resource: Resource) -> ResourceOut:
    return resource_out(
        resource, services.get_items(session, resource.id), _provider_names(session)
    )


@router.get("/resources/{ident}", response_model=ResourceOut)
def get_resource(
    ident: str, request: Request, principal: Principal = Depends(public)
) -> ResourceOut:
    """One resource by id or 信息资源代码, with its items (404 when not visible to the caller)."""
    with request.app.state.db.session() as session:
        return _one(session, services.get_resource(session, ident, principal))


@router.post("/resources", response_model=ResourceOut, status_code=201)
def create_resource(
    body: ResourceIn,
    request: Request,
    actor: Principal = Depends(roles("data_officer", "admin")),
) -> ResourceOut:
    """Catalogue a resource for a provider you are a data officer of; it starts as a draft."""
    with request.app.state.db.session() as session:
        resource = services.create_resource(session, body, actor, bus=request.app.state.bus)
        return _one(session, resource)


@router.patch("/resources/{resource_id}", response_model=ResourceOut)
def update_resource(
    resource_id: str,
    body: ResourcePatch,
    request: Request,
    actor: Principal = Depends(roles("data_officer", "admin")),
) -> ResourceOut:
    """Change a resource's metadata; each change is kept as a version (old → new)."""
    with request.app.state.db.session() as session:
        resource = services.update_resource(
            session, resource_id, body, actor, bus=request.app.state.bus
        )
        return _one(session, resource)


@router.get("/resources/{resource_id}/versions", response_model=list[VersionOut])
def resource_versions(
    resource_id: str, request: Request, principal: Principal = Depends(public)
) -> list[VersionOut]:
    """The change history of a resource, newest first: who, when, what changed."""
    with request.app.state.db.session() as session:
        resource = services.get_resource(session, resource_id, principal)
        return [VersionOut.model_validate(v) for v in services.versions(session, resource.id)]


@router.post("/resources/{resource_id}/{action}", response_model=ResourceOut)
def transition(
    resource_id: str,
    action: str,
    request: Request,
    body: TransitionIn | None = Body(default=None),
    actor: Principal = Depends(roles("data_officer", "admin")),
) -> ResourceOut:
    """Workflow: submit, confirm, reject (comment required), publish or withdraw."""
    comment = body.comment if body else ""
    with request.app.state.db.session() as session:
        resource = services.transition(
            session, resource_id, action, actor, comment, bus=request.app.state.bus
        )
        return _one(session, resource)
