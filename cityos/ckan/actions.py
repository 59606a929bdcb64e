"""The CKAN actions: catalogue reads through the catalogue/directory/datastore services.

Visibility is the catalogue policy's (the services apply it for the given principal). On top,
as in CKAN, listings leave out *private* packages (resources that are not open, which only
departments see) unless ``include_private`` is true, and drafts unless ``include_drafts`` is.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cityos.auth.principal import Principal
from cityos.catalog import services as catalog
from cityos.ckan import mapping as m
from cityos.ckan.errors import NotAuthorized, NotFound
from cityos.ckan.params import as_bool, as_int, as_list, as_str, required
from cityos.core.errors import ProblemError
from cityos.core.i18n import gettext
from cityos.directory import services as directory

Action = Callable[["Context", dict[str, Any]], Any]
ACTIONS: dict[str, Action] = {}
PAGE = 1000  # catalogue search page size (its maximum)
OPEN = ["unconditional", "conditional"]


def action(func: Action) -> Action:
    ACTIONS[func.__name__] = func
    return func


@dataclass
class Context:
    session: Session
    principal: Principal
    links: m.Links
    app_state: Any = None
    _lookups: m.Lookups | None = field(default=None, repr=False)

    @property
    def lookups(self) -> m.Lookups:
        if self._lookups is None:
            self._lookups = m.Lookups(
                orgs={o.id: o for o in directory.list_organisations(self.session)},
                classes={c.code: c for c in catalog.list_classes(self.session)},
            )
        return self._lookups

    def packages(self, resources: list[Any]) -> list[dict[str, Any]]:
        """CKAN packages of these resources (one query for their items)."""
        items = catalog.items_for(self.session, [r.id for r in resources])
        lookups = self.lookups
        with_items = {rid for rid, rows in items.items() if rows}
        lookups.has_items = with_items.__contains__
        return [m.package_dict(r, self.links, lookups) for r in resources]

    def resource(self, ident: str) -> Any:
        """A visible resource by id, code or CKAN name; Not Found Error otherwise."""
        for candidate in m.name_candidates(ident):
            try:
                return catalog.get_resource(self.session, candidate, self.principal)
            except ProblemError as problem:
                if problem.status != 404:
                    raise
        raise NotFound(gettext("Dataset not found"))


# ---------------------------------------------------------------- helpers


def listing_filters(data: dict[str, Any], *, private: bool = False) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    if not as_bool(data, "include_drafts", False):
        filters["status"] = ["published"]
    if not as_bool(data, "include_private", private):
        filters["open_type"] = list(OPEN)
    return filters


def merge_filters(
    base: dict[str, list[str]], extra: dict[str, list[str]]
) -> dict[str, list[str]] | None:
    """AND of two filter sets; None when nothing can match."""
    out = {k: list(v) for k, v in extra.items()}
    for key, values in base.items():
        out[key] = [v for v in out[key] if v in values] if key in out else list(values)
    return None if any(not v for v in out.values()) else out


def iter_resources(
    ctx: Context, filters: dict[str, list[str]], *, q: str = "", sort: str = "code"
) -> Iterator[Any]:
    offset = 0
    while True:
        page = catalog.search(
            ctx.session, ctx.principal, q=q, filters=filters, sort=sort, limit=PAGE, offset=offset
        )
        yield from page.results
        offset += len(page.results)
        if not page.results or offset >= page.total:
            return


def count(ctx: Context, filters: dict[str, list[str]]) -> int:
    return catalog.search(ctx.session, ctx.principal, filters=filters, limit=0).total


def page_of(items: list[Any], data: dict[str, Any], default_limit: int | None = None) -> list[Any]:
    offset = as_int(data, "offset", 0)
    limit = as_int(data, "limit", default_limit or 0)
    if limit == 0 and default_limit is None:
        return items[offset:]
    return items[offset : offset + limit]


# ---------------------------------------------------------------- packages


@action
def package_search(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Search datasets: q, fq (field:value clauses, ANDed), rows (≤1000), start, sort,
    facet.field (JSON list), facet.limit, include_private, include_drafts."""
    lookups = ctx.lookups
    q_clauses, text = m.parse_clauses(as_str(data, "q"))
    fq_parts = [as_str(data, "fq"), *(as_list(data, "fq_list") or [])]
    clauses = list(q_clauses)
    for part in fq_parts:
        clauses += m.parse_clauses(part)[0]
    text = " ".join(t for t in text.split() if t not in ("AND", "&&", "*:*", "*"))
    rows = as_int(data, "rows", 10, maximum=1000)
    start = as_int(data, "start", 0)
    sort_text = as_str(data, "sort") or "score desc, metadata_modified desc"
    sort = m.parse_sort(sort_text)
    filters = merge_filters(listing_filters(data), m.clauses_to_filters(clauses, lookups))
    facet_fields = as_list(data, "facet.field") or []
    facet_limit = as_int(data, "facet.limit", 50, minimum=-1)
    if filters is None:
        total, results, facets = 0, [], {}
    else:
        found = catalog.search(
            ctx.session, ctx.principal, q=text, filters=filters, sort=sort, limit=rows, offset=start
        )
        total, results, facets = found.total, found.results, found.facets
    search_facets: dict[str, Any] = {}
    if as_bool(data, "facet", True):
        for name in facet_fields:
            items = facet_items(name, facets, total, lookups)
            if facet_limit >= 0:
                items = items[:facet_limit]
            search_facets[name] = {"title": name, "items": items}
    return {
        "count": total,
        "sort": sort_text,
        "results": ctx.packages(results),
        "facets": {
            k: {i["name"]: i["count"] for i in v["items"]} for k, v in search_facets.items()
        },
        "search_facets": search_facets,
    }


def facet_items(
    name: str, facets: dict[str, list[tuple[str, int]]], total: int, lookups: m.Lookups
) -> list[dict[str, Any]]:
    if name == "res_format":
        return [{"name": "CSV", "display_name": "CSV", "count": total}] if total else []
    if name == "groups":
        groups: dict[str, int] = {}
        for code, n in facets.get("class", []):
            top = m.top_class(code)
            groups[top] = groups.get(top, 0) + n
        out = []
        for code, n in groups.items():
            cls = lookups.classes.get(code)
            title = cls.name if cls is not None else code
            out.append({"name": m.group_name(code), "display_name": title, "count": n})
        return sorted(out, key=lambda i: (-i["count"], i["name"]))
    key = m.CKAN_FIELDS.get(name)
    if key is None:
        return []
    items = []
    for value, n in facets.get(key, []):
        ckan_value, display = m.facet_value_label(key, value, lookups)
        items.append({"name": ckan_value, "display_name": display, "count": n})
    return items


@action
def package_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One dataset by id or name (the resource id, its code or its CKAN name)."""
    resource = ctx.resource(required(data, "id"))
    return ctx.packages([resource])[0]


@action
def package_list(ctx: Context, data: dict[str, Any]) -> list[str]:
    """Names of the public, active datasets (limit, offset; include_private, include_drafts)."""
    names = [m.ckan_name(r.code) for r in iter_resources(ctx, listing_filters(data))]
    return page_of(names, data)


@action
def current_package_list_with_resources(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Datasets with their resources, most recently modified first (limit, offset)."""
    limit = as_int(data, "limit", 10, maximum=1000)
    offset = as_int(data, "offset", 0)
    if "page" in data and "offset" not in data:
        offset = (as_int(data, "page", 1, minimum=1) - 1) * limit
    found = catalog.search(
        ctx.session,
        ctx.principal,
        filters=listing_filters(data),
        sort="updated",
        limit=limit,
        offset=offset,
    )
    return ctx.packages(found.results)


@action
def resource_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """A dataset's (only) resource: its datastore table; the id is the catalogue resource id."""
    resource = ctx.resource(required(data, "id"))
    return ctx.packages([resource])[0]["resources"][0]


@action
def resource_view_list(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    """A table view when the resource has datastore fields, otherwise none."""
    resource = ctx.resource(required(data, "id"))
    if not catalog.get_items(ctx.session, resource.id):
        return []
    return [
        {
            "id": f"{resource.id}-table",
            "resource_id": resource.id,
            "package_id": resource.id,
            "view_type": "datatables_view",
            "title": gettext("Table"),
            "description": "",
            "position": 0,
        }
    ]


# ---------------------------------------------------------------- organizations and groups


def _org_counts(ctx: Context, org_ids: list[str]) -> dict[str, int]:
    filters = {"status": ["published"]}
    found = catalog.search(ctx.session, ctx.principal, filters=filters, limit=0)
    counts = dict(found.facets.get("provider", []))
    complete = sum(counts.values()) >= found.total  # one provider each: no org was cut off
    out = {}
    for org_id in org_ids:
        if org_id in counts or complete:
            out[org_id] = counts.get(org_id, 0)
        else:
            out[org_id] = count(ctx, {**filters, "provider": [org_id]})
    return out


def _list_of(
    ctx: Context,
    data: dict[str, Any],
    things: list[Any],
    to_dict: Callable[..., dict[str, Any]],
    counts: Callable[[list[str]], dict[str, int]],
    key: Callable[[Any], str],
) -> list[Any]:
    wanted = as_list(data, "organizations") or as_list(data, "groups")
    if wanted:
        things = [t for t in things if to_dict(t)["name"] in wanted or key(t) in wanted]
    q = as_str(data, "q").strip().lower()
    if q:
        things = [
            t for t in things if q in to_dict(t)["name"].lower() or q in to_dict(t)["title"].lower()
        ]
    sort = as_str(data, "sort") or "title asc"
    field_name = "name" if sort.split()[0] in ("name", "package_count") else "title"
    reverse = sort.split()[-1].lower() == "desc"
    things = sorted(things, key=lambda t: to_dict(t)[field_name], reverse=reverse)
    things = page_of(things, data, default_limit=1000)
    if not as_bool(data, "all_fields", False):
        return [to_dict(t)["name"] for t in things]
    numbers = counts([key(t) for t in things])
    return [to_dict(t, numbers[key(t)]) for t in things]


@action
def organization_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    """Providers: names, or dicts with package_count when all_fields (sort, limit, offset)."""
    orgs = list(ctx.lookups.orgs.values())
    return _list_of(
        ctx, data, orgs, m.organization_dict, lambda ids: _org_counts(ctx, ids), lambda o: o.id
    )


def _members_packages(
    ctx: Context, data: dict[str, Any], out: dict[str, Any], filters: dict[str, list[str]]
) -> dict[str, Any]:
    if as_bool(data, "include_datasets", False):
        limit = as_int(data, "limit", 1000, maximum=1000)
        found = catalog.search(
            ctx.session, ctx.principal, filters=filters, sort="updated", limit=limit
        )
        out["packages"] = ctx.packages(found.results)
        out["package_count"] = found.total
    else:
        out["package_count"] = count(ctx, filters)
    out.setdefault("users", [])
    out.setdefault("extras", [])
    out.setdefault("tags", [])
    out.setdefault("groups", [])
    return out


@action
def organization_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One provider by id, slug or USCC (include_datasets)."""
    ident = required(data, "id")
    org = ctx.lookups.org_by_name(ident)
    if org is None:
        raise NotFound(gettext("Organization not found"))
    out = m.organization_dict(org)
    out["uscc"] = org.uscc
    filters = {"status": ["published"], "provider": [org.id]}
    return _members_packages(ctx, data, out, filters)


def _top_classes(ctx: Context) -> list[Any]:
    return [c for c in ctx.lookups.classes.values() if c.parent_code is None]


@action
def group_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    """The top-level catalogue classes (类) as groups (all_fields, sort, limit, offset)."""

    def counts(codes: list[str]) -> dict[str, int]:
        return {c: count(ctx, {"status": ["published"], "class": [c]}) for c in codes}

    return _list_of(ctx, data, _top_classes(ctx), m.group_dict, counts, lambda c: c.code)


@action
def group_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One top-level class as a group, by name (``class-<code>``) or code (include_datasets)."""
    ident = required(data, "id")
    code = m.class_of_group(ident) or ident
    cls = ctx.lookups.classes.get(code)
    if cls is None or cls.parent_code is not None:
        raise NotFound(gettext("Group not found"))
    filters = {"status": ["published"], "class": [cls.code]}
    return _members_packages(ctx, data, m.group_dict(cls), filters)


@action
def tag_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    """Keywords of the visible published datasets (query: substring; all_fields)."""
    tags: set[str] = set()
    for resource in iter_resources(ctx, {"status": ["published"]}):
        tags.update(resource.keywords or [])
    query = as_str(data, "query").strip().lower()
    names = sorted(t for t in tags if query in t.lower())
    if as_bool(data, "all_fields", False):
        return [m.tag_dict(t) for t in names]
    return names


# ---------------------------------------------------------------- users and site


def _users(ctx: Context) -> list[dict[str, Any]]:
    if not ctx.principal.sees_everything:
        raise NotAuthorized(gettext("Only the bureau and security reviewers may list users."))
    return directory.list_users(ctx.session)


@action
def user_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    """Users (bureau administrators and security reviewers only): q, order_by, all_fields."""
    users = _users(ctx)
    q = as_str(data, "q").strip().lower()
    if q:
        users = [
            u for u in users if q in u["username"].lower() or q in (u["display_name"] or "").lower()
        ]
    order = as_str(data, "order_by") or "name"
    sort_key = "display_name" if order in ("fullname", "display_name") else "username"
    users = sorted(users, key=lambda u: (u.get(sort_key) or "").lower())
    users = page_of(users, data)
    if not as_bool(data, "all_fields", True):
        return [u["username"] for u in users]
    return [m.user_dict(u, with_email=True) for u in users]


@action
def user_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One user by id or name (bureau and reviewers, or the user themself)."""
    ident = required(data, "id")
    if ctx.principal.user_id and ident in (ctx.principal.user_id, ctx.principal.username):
        users = [u for u in directory.list_users(ctx.session) if u["id"] == ctx.principal.user_id]
    else:
        users = [u for u in _users(ctx) if ident in (u["id"], u["username"])]
    if not users:
        raise NotFound(gettext("User not found"))
    return m.user_dict(users[0], with_email=True)


@action
def status_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Site information, with the CKAN API version this interface follows."""
    settings = getattr(ctx.app_state, "settings", None)
    from cityos import __version__

    return {
        "site_title": gettext("Haikou public data resource platform"),
        "site_description": gettext("The city's catalogue of public data resources."),
        "site_url": ctx.links.base,
        "ckan_version": m.CKAN_VERSION,
        "cityos_version": __version__,
        "error_emails_to": None,
        "locale_default": getattr(settings, "default_locale", "zh_Hans"),
        "extensions": ["datastore", "dcat", "cityos"],
    }


@action
def site_read(ctx: Context, data: dict[str, Any]) -> bool:
    """Whether the site may be read (always)."""
    return True


@action
def help_show(ctx: Context, data: dict[str, Any]) -> str:
    """The documentation of an action (name)."""
    name = required(data, "name")
    func = ACTIONS.get(name)
    if func is None:
        raise NotFound(gettext("Action function not found"))
    return inspect.getdoc(func) or ""
