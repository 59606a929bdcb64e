"""Catalogue search (text, filters, facets), portal counts and work lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, not_, or_, select
from sqlalchemy.orm import Session

from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.catalog.cache import cache_for, generation, usable
from cityos.catalog.classes import class_names
from cityos.catalog.models import STATUSES, Resource, ResourceTag
from cityos.catalog.search import district_filter, match_query, normalise, tag_filter
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
            clauses.append(district_filter(values))
        elif key == "keyword":
            clauses.append(tag_filter("keyword", values))
    return clauses


ENUM_FACETS: dict[str, tuple[str, ...]] = {
    "share_type": ENUMS["share_type"],
    "open_type": ENUMS["open_type"],
    "format": ENUMS["format"],
    "update_cycle": ENUMS["update_cycle"],
    "status": STATUSES,
}


def _ranked(pairs: dict[str, int], limit: int = FACET_LIMIT) -> list[tuple[str, int]]:
    return sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _fold(rows: list[Any], keys: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """Sum the counts of a multi-column GROUP BY per column (groups, not rows, are folded)."""
    out: dict[str, dict[str, int]] = {key: {} for key in keys}
    for *values, n in rows:
        for key, value in zip(keys, values, strict=True):
            if value is not None:
                out[key][str(value)] = out[key].get(str(value), 0) + int(n)
    return out


def _facets(
    session: Session, cond: Any, *, ids: list[str] | None = None, unrestricted: bool = False
) -> tuple[int, dict[str, list[tuple[str, int]]]]:
    """The total and the facet counts of the resources matching ``cond``.

    Five low-cardinality columns come from one GROUP BY over their combinations (at most
    3·3·7·7·5 groups whatever the catalogue's size); provider and class from a second one,
    which also sums the districts (a closed set of codes); keywords from their tag rows.
    Only groups are folded in Python, never resource rows.
    """
    enum_columns = [getattr(Resource, key) for key in ENUM_FACETS]
    combos = session.execute(
        select(*enum_columns, func.count()).where(cond).group_by(*enum_columns)
    ).all()
    counts = _fold(list(combos), tuple(ENUM_FACETS))
    total = sum(int(row[-1]) for row in combos)
    class_column = func.substr(Resource.class_code, 1, 3)  # counts by 项 (a 类 code stays)
    districts = list(DISTRICTS)
    owners = session.execute(
        select(
            Resource.provider_id,
            class_column,
            *[
                func.sum(case((Resource.district_key.like(f"%|{code}|%"), 1), else_=0))
                for code in districts
            ],
            func.count(),
        )
        .where(cond)
        .group_by(Resource.provider_id, class_column)
    ).all()
    counts.update(_fold([(r[0], r[1], r[-1]) for r in owners], ("provider", "class")))
    by_district = {
        code: sum(int(r[2 + i] or 0) for r in owners) for i, code in enumerate(districts)
    }
    counts["district"] = {code: n for code, n in by_district.items() if n}
    facets = {key: _ranked(values) for key, values in counts.items()}
    facets["keyword"] = _keyword_facet(session, cond, total, ids=ids, unrestricted=unrestricted)
    return total, facets


KEYWORD_LIMIT = 20


def _keyword_facet(
    session: Session, cond: Any, total: int, *, ids: list[str] | None, unrestricted: bool
) -> list[tuple[str, int]]:
    """The most frequent keywords among the resources matching ``cond`` (``total`` of them).

    When the set is most of the catalogue, counting every keyword (an index-only scan) and
    subtracting the rest is cheaper.
    """
    n = func.count().label("n")
    is_keyword = ResourceTag.facet == "keyword"
    # SQLite: ``facet || ''`` keeps its planner off the (facet, value) index, so that keyword
    # rows are reached through their resource; PostgreSQL joins well as it is
    sqlite = session.get_bind().dialect.name == "sqlite"
    via_resource = ResourceTag.facet.concat("") == "keyword" if sqlite else is_keyword

    def counted(where: Any, limit: int | None) -> list[Any]:
        query = select(ResourceTag.value, n).where(where).group_by(ResourceTag.value)
        if limit is not None:
            query = query.order_by(n.desc(), ResourceTag.value).limit(limit)
        return list(session.execute(query).all())

    if unrestricted:
        rows = counted(is_keyword, KEYWORD_LIMIT)
    elif ids is not None:
        rows = counted(and_(via_resource, ResourceTag.resource_id.in_(ids)), KEYWORD_LIMIT)
    else:
        everything = session.scalar(select(func.count()).select_from(Resource)) or 0
        if total * 2 <= everything:
            rows = counted(
                and_(via_resource, ResourceTag.resource_id.in_(select(Resource.id).where(cond))),
                KEYWORD_LIMIT,
            )
        else:
            counts = {str(v): int(c) for v, c in counted(is_keyword, None)}
            others = select(Resource.id).where(not_(cond))
            for value, c in counted(and_(via_resource, ResourceTag.resource_id.in_(others)), None):
                counts[str(value)] -= int(c)
            rows = _ranked({v: c for v, c in counts.items() if c > 0}, KEYWORD_LIMIT)
    return [(str(v), int(c)) for v, c in rows]


def _rows(session: Session, ids: list[str]) -> list[Resource]:
    """The resources with these ids, in this order."""
    if not ids:
        return []
    by_id = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))}
    return [by_id[rid] for rid in ids if rid in by_id]


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
    the filtered result set. Answers are cached per catalogue generation (``cache``).
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
    filters = filters or {}
    filter_clauses = _filter_clauses(filters)  # validates: a bad filter is a 422, never cached
    words = " ".join(normalise(q).split())
    key = (
        generation(session),
        policy.metadata_key(principal),
        words,
        tuple((k, tuple(sorted(set(filters.get(k) or [])))) for k in FILTER_KEYS),
        sort,
        limit,
        offset,
    )
    cache = cache_for(session) if usable(session) else None
    answer = cache.get(key) if cache else None
    if answer is None:
        answer = _answer(session, principal, words, filter_clauses, sort, limit, offset)
        if cache:
            cache.put(key, answer)
    total, facets, page, scores = answer
    return SearchResult(
        total, _rows(session, page), {k: list(v) for k, v in facets.items()}, dict(scores)
    )


def _answer(
    session: Session,
    principal: Principal,
    q: str,
    filter_clauses: list[Any],
    sort: str,
    limit: int,
    offset: int,
) -> tuple[int, dict[str, list[tuple[str, int]]], list[str], dict[str, int]]:
    """(total, facets, ids of the page, their scores), computed."""
    where: list[Any] = [policy.metadata_clause(principal), *filter_clauses]
    matches = match_query(session, q) if q else None
    order: dict[str, list[Any]] = {
        "name": [Resource.name.asc(), Resource.code.asc()],
        "updated": [Resource.updated_at.desc(), Resource.code.asc()],
        "code": [Resource.code.asc()],
    }
    if matches is None:
        cond = and_(*where)
        unrestricted = principal.sees_everything and not filter_clauses
        total, facets = _facets(session, cond, unrestricted=unrestricted)
        ordering = order.get(sort, order["updated"])
        page: list[str] = []
        if total and limit:  # ids first (from the covering index), then only their rows
            page = list(
                session.scalars(
                    select(Resource.id).where(cond).order_by(*ordering).limit(limit).offset(offset)
                )
            )
        return total, facets, page, {}

    # computed once: without statistics, PostgreSQL may otherwise re-run it for every row
    scored = matches.cte("scored").prefix_with("MATERIALIZED", dialect="postgresql")
    ordering = order.get(sort) or [scored.c.score.desc(), Resource.updated_at.desc(), Resource.code]
    ranked: Select[Any] = (
        select(Resource.id, scored.c.score)
        .join(scored, scored.c.rid == Resource.id)
        .where(*where)
        .order_by(*ordering)
    )
    hits = session.execute(ranked).all()  # only ids and scores: one pass over the match set
    if not hits:
        return 0, {key: [] for key in FILTER_KEYS}, [], {}
    total = len(hits)
    window = hits[offset : offset + limit]
    page = [h[0] for h in window]
    scores = {rid: int(score) for rid, score in window}
    if total <= MATERIALISE_LIMIT:
        ids = [h[0] for h in hits]
        _n, facets = _facets(session, Resource.id.in_(ids), ids=ids)
    else:
        _n, facets = _facets(session, and_(*where, Resource.id.in_(select(scored.c.rid))))
    return total, facets, page, scores


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
