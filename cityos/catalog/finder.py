"""Catalogue search (text, filters, facets), portal counts and work lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.catalog.classes import class_names
from cityos.catalog.models import STATUSES, Resource, ResourceTag
from cityos.catalog.search import match_query, tag_filter
from cityos.catalog.validation import CLASS_RE, ENUMS, field_error
from cityos.core.i18n import lazy
from cityos.directory.codes import DISTRICTS

FILTER_KEYS = (
    "provider",
    "class",
    "share_type",
    "open_type",
    "format",
    "update_cycle",
    "district",
    "status",
    "keyword",
)
SORTS = ("relevance", "name", "updated", "code")
FACET_LIMIT = 50
MATERIALISE_LIMIT = 5000


@dataclass
class SearchResult:
    total: int
    results: list[Resource]
    facets: dict[str, list[tuple[str, int]]]
    scores: dict[str, int] = field(default_factory=dict)


def _filter_clauses(filters: dict[str, list[str]]) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    enum_filters = {**ENUMS, "status": STATUSES}
    for key in FILTER_KEYS:
        values = [v.strip() for v in filters.get(key) or [] if v and v.strip()]
        if not values:
            continue
        if key in enum_filters:
            for value in values:
                if value not in enum_filters[key]:
                    raise field_error(
                        "invalid_filter",
                        key,
                        lazy("Invalid value {value} for {field}; expected one of: {allowed}"),
                        value=value,
                        field=key,
                        allowed=", ".join(enum_filters[key]),
                    )
            clauses.append(getattr(Resource, key).in_(values))
        elif key == "provider":
            clauses.append(Resource.provider_id.in_(values))
        elif key == "class":
            for value in values:
                if not CLASS_RE.match(value):
                    raise field_error(
                        "invalid_filter",
                        key,
                        lazy("Unknown resource class: {class_code}"),
                        class_code=value,
                    )
            clauses.append(or_(*[Resource.class_code.like(f"{v}%") for v in values]))
        elif key == "district":
            for value in values:
                if value not in DISTRICTS:
                    raise field_error(
                        "invalid_filter",
                        key,
                        lazy("Unknown district code (GB/T 2260): {district}"),
                        district=value,
                    )
            clauses.append(tag_filter("district", values))
        elif key == "keyword":
            clauses.append(tag_filter("keyword", values))
    return clauses


def _class_facet_column() -> ColumnElement[str]:
    """Counts by 项 (the first three digits; a 类-level code stays as it is)."""
    return func.substr(Resource.class_code, 1, 3)


def _facets(session: Session, where: list[Any]) -> dict[str, list[tuple[str, int]]]:
    cond = and_(*where)
    columns: dict[str, Any] = {
        "provider": Resource.provider_id,
        "class": _class_facet_column(),
        "share_type": Resource.share_type,
        "open_type": Resource.open_type,
        "format": Resource.format,
        "update_cycle": Resource.update_cycle,
        "status": Resource.status,
    }
    facets: dict[str, list[tuple[str, int]]] = {}
    for key, column in columns.items():
        count = func.count().label("n")
        rows = session.execute(
            select(column.label("v"), count)
            .where(cond)
            .group_by(column)
            .order_by(count.desc(), column)
            .limit(FACET_LIMIT)
        ).all()
        facets[key] = [(str(v), int(n)) for v, n in rows if v is not None]
    ids = select(Resource.id).where(cond)
    for key, limit in (("district", FACET_LIMIT), ("keyword", 20)):
        count = func.count().label("n")
        rows = session.execute(
            select(ResourceTag.value, count)
            .where(ResourceTag.facet == key, ResourceTag.resource_id.in_(ids))
            .group_by(ResourceTag.value)
            .order_by(count.desc(), ResourceTag.value)
            .limit(limit)
        ).all()
        facets[key] = [(str(v), int(n)) for v, n in rows]
    return facets


def search(
    session: Session,
    principal: Principal,
    *,
    q: str = "",
    filters: dict[str, list[str]] | None = None,
    sort: str = "relevance",
    limit: int = 20,
    offset: int = 0,
) -> SearchResult:
    """Visible resources matching ``q`` (all terms) and the filters, with facet counts.

    Filter values within one key are alternatives (OR); keys combine with AND. Facets count
    the filtered result set.
    """
    if sort not in SORTS:
        raise field_error(
            "invalid_sort",
            "sort",
            lazy("Invalid value {value} for {field}; expected one of: {allowed}"),
            value=sort,
            field="sort",
            allowed=", ".join(SORTS),
        )
    limit = max(0, min(int(limit), 1000))
    offset = max(0, int(offset))
    where: list[ColumnElement[bool]] = [policy.metadata_clause(principal)]
    where += _filter_clauses(filters or {})
    matches = match_query(session, q) if q and q.strip() else None
    order: dict[str, list[Any]] = {
        "name": [Resource.name.asc(), Resource.code.asc()],
        "updated": [Resource.updated_at.desc(), Resource.code.asc()],
        "code": [Resource.code.asc()],
    }
    if matches is None:
        total = session.scalar(select(func.count()).select_from(Resource).where(*where)) or 0
        ordering = order.get(sort, order["updated"])
        rows = list(
            session.scalars(
                select(Resource).where(*where).order_by(*ordering).limit(limit).offset(offset)
            )
        )
        return SearchResult(total, rows, _facets(session, where))

    scored = matches.subquery("scored")
    ordering = order.get(sort) or [scored.c.score.desc(), Resource.updated_at.desc(), Resource.code]
    ranked: Select[Any] = (
        select(Resource.id, scored.c.score)
        .join(scored, scored.c.rid == Resource.id)
        .where(*where)
        .order_by(*ordering)
    )
    hits = session.execute(ranked).all()  # only ids and scores: one pass over the match set
    total = len(hits)
    page = hits[offset : offset + limit]
    scores = {rid: int(score) for rid, score in hits}
    by_id = (
        {
            r.id: r
            for r in session.scalars(select(Resource).where(Resource.id.in_([h[0] for h in page])))
        }
        if page
        else {}
    )
    results = [by_id[h[0]] for h in page if h[0] in by_id]
    if not hits:
        return SearchResult(0, [], {key: [] for key in FILTER_KEYS})
    facet_where: list[Any]
    if total <= MATERIALISE_LIMIT:
        facet_where = [Resource.id.in_([h[0] for h in hits])]
    else:
        facet_where = [*where, Resource.id.in_(select(scored.c.rid))]
    return SearchResult(total, results, _facets(session, facet_where), scores)


# --------------------------------------------------------------------------- portal and console


def portal_stats(session: Session, principal: Principal) -> dict[str, Any]:
    """Counts of the resources this principal sees, for the portal home page.

    ``by_provider`` and ``by_class`` are (name, count) pairs, most first; ``providers`` and
    ``classes`` carry the same counts with the id / class code, for links into the search.
    """
    from cityos.directory.services import organisation_names

    visible = policy.metadata_clause(principal)
    total = session.scalar(select(func.count()).select_from(Resource).where(visible)) or 0
    published = (
        session.scalar(
            select(func.count())
            .select_from(Resource)
            .where(visible, Resource.status == "published")
        )
        or 0
    )

    def grouped(column: Any) -> list[tuple[str, int]]:
        n = func.count().label("n")
        rows = session.execute(
            select(column.label("v"), n).where(visible).group_by(column).order_by(n.desc(), column)
        ).all()
        return [(str(v), int(c)) for v, c in rows]

    names = organisation_names(session)
    classes = class_names(session)
    providers = [
        {"id": pid, "name": names.get(pid, pid), "count": n}
        for pid, n in grouped(Resource.provider_id)
    ]
    top = [
        {"code": code, "name": classes.get(code, code), "count": n}
        for code, n in grouped(func.substr(Resource.class_code, 1, 1))
    ]
    return {
        "resources": total,
        "published": published,
        "by_provider": [(p["name"], p["count"]) for p in providers],
        "by_class": [(c["name"], c["count"]) for c in top],
        "by_share_type": grouped(Resource.share_type),
        "by_open_type": grouped(Resource.open_type),
        "providers": providers,
        "classes": top,
    }


def newest_published(session: Session, principal: Principal, limit: int = 8) -> list[Resource]:
    return list(
        session.scalars(
            select(Resource)
            .where(policy.metadata_clause(principal), Resource.status == "published")
            .order_by(Resource.published_on.desc(), Resource.updated_at.desc(), Resource.code)
            .limit(limit)
        )
    )


def review_queue(session: Session) -> list[Resource]:
    """Submitted resources awaiting the bureau's confirmation, oldest first."""
    return list(
        session.scalars(
            select(Resource)
            .where(Resource.status == "submitted")
            .order_by(Resource.updated_at.asc(), Resource.code)
        )
    )


def provider_resources(session: Session, org_ids: list[str] | frozenset[str]) -> list[Resource]:
    """Every resource of these providers, in every status (the data officer's workbench)."""
    if not org_ids:
        return []
    return list(
        session.scalars(
            select(Resource)
            .where(Resource.provider_id.in_(list(org_ids)))
            .order_by(Resource.updated_at.desc(), Resource.code)
        )
    )


def visible_codes(session: Session, principal: Principal, codes: list[str]) -> dict[str, str]:
    """code → name of the resources among ``codes`` that exist and the principal may see."""
    if not codes:
        return {}
    rows = session.execute(
        select(Resource.code, Resource.name).where(
            Resource.code.in_(codes), policy.metadata_clause(principal)
        )
    )
    return dict(rows.all())
