"""Catalogue objects as CKAN dicts, and CKAN search syntax (fq, sort, facets) as catalogue filters.

A catalogue resource is a CKAN *package* whose ``name`` is its code made CKAN-valid (lowercase;
anything outside ``a-z0-9-_`` becomes ``-``) and which has exactly one CKAN *resource*: its
datastore table, with the same id, whose ``url`` is the CSV export. Providers are CKAN
organizations (by slug), the top-level classes (类) are CKAN groups (``class-<code>``), keywords
are tags. Times are ISO 8601 in UTC without an offset, as CKAN writes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from cityos.catalog.models import FORMATS as RESOURCE_FORMATS
from cityos.ckan.errors import SearchQueryError

CKAN_VERSION = "2.10.4"
GROUP_PREFIX = "class-"
FACET_KEYS = (
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
# CKAN field name (in fq, q and facet.field) → catalogue filter/facet key
CKAN_FIELDS = {
    "organization": "provider",
    "owner_org": "provider",
    "groups": "class",
    "tags": "keyword",
    "res_format": "format",
    **{k: k for k in FACET_KEYS},
}
MULTI_VALUED = ("keyword", "district")  # a package has several: AND of two values unsupported
# fq clauses CKAN clients add that change nothing here
NEUTRAL_FIELDS = {"dataset_type", "type", "state", "site_id", "capacity", "+dataset_type"}
DATASTORE_TYPES = {
    "string": "text",
    "text": "text",
    "integer": "int",
    "number": "numeric",
    "boolean": "bool",
    "date": "date",
    "datetime": "timestamp",
}


def ckan_name(code: str) -> str:
    """The resource code as a valid CKAN name, e.g. ``201001/00003`` → ``201001-00003``."""
    name = re.sub(r"[^a-z0-9_-]", "-", code.strip().lower())
    return name if len(name) >= 2 else f"{name}--"[:2]


def name_candidates(ident: str) -> list[str]:
    """Identifiers to try for a CKAN id/name: as given, then as the code it was made from."""
    out = [ident]
    for candidate in (ident.upper(), ident.replace("-", "/"), ident.replace("-", "/").upper()):
        if candidate not in out:
            out.append(candidate)
    return out


def iso(value: datetime | None) -> str | None:
    """CKAN's timestamp format: UTC, no offset (``2024-05-01T08:00:00.000000``)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def group_name(class_code: str) -> str:
    return f"{GROUP_PREFIX}{class_code}"


def class_of_group(name: str) -> str | None:
    return name[len(GROUP_PREFIX) :] if name.startswith(GROUP_PREFIX) else None


def top_class(code: str) -> str:
    """The 类 (first level, one digit) a class code belongs to."""
    return code[:1]


@dataclass
class Links:
    """Absolute URLs of the platform, from ``settings.base_url``."""

    base: str

    def __post_init__(self) -> None:
        self.base = self.base.rstrip("/")

    def help(self, action: str) -> str:
        return f"{self.base}/api/3/action/help_show?name={action}"

    def dataset_page(self, code: str) -> str:
        return f"{self.base}/catalog/{quote(code, safe='')}"

    def export_csv(self, resource_id: str) -> str:
        return f"{self.base}/api/v1/datastore/{resource_id}/export.csv"

    def records_api(self, resource_id: str) -> str:
        return f"{self.base}/api/v1/datastore/{resource_id}/records"


@dataclass
class Lookups:
    """Organisations and classes by id/code, read once per request through their services."""

    orgs: dict[str, Any] = field(default_factory=dict)
    classes: dict[str, Any] = field(default_factory=dict)
    has_items: Callable[[str], bool] = lambda _rid: False

    def org_by_name(self, ident: str) -> Any | None:
        if ident in self.orgs:
            return self.orgs[ident]
        low = ident.lower()
        for org in self.orgs.values():
            if low in (org.slug.lower(), org.uscc.lower()) or ident == org.name:
                return org
        return None


# ---------------------------------------------------------------- dicts


def organization_dict(org: Any, package_count: int | None = None) -> dict[str, Any]:
    out = {
        "id": org.id,
        "name": org.slug,
        "title": org.name,
        "display_name": org.name,
        "description": org.description or "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": iso(org.created_at),
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def group_dict(cls: Any, package_count: int | None = None) -> dict[str, Any]:
    out = {
        "id": group_name(cls.code),
        "name": group_name(cls.code),
        "title": cls.name,
        "display_name": cls.name,
        "description": cls.name_en or "",
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def tag_dict(name: str) -> dict[str, Any]:
    return {
        "id": name,
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": None,
    }


def resource_dict(resource: Any, links: Links, datastore_active: bool) -> dict[str, Any]:
    return {
        "id": resource.id,
        "package_id": resource.id,
        "name": resource.name,
        "description": resource.summary or "",
        "format": "CSV",
        "mimetype": "text/csv",
        "url": links.export_csv(resource.id),
        "url_type": "datastore",
        "datastore_active": datastore_active,
        "state": "active",
        "position": 0,
        "created": iso(resource.created_at),
        "last_modified": iso(resource.updated_at),
        "metadata_modified": iso(resource.updated_at),
        "resource_type": None,
        "size": None,
        "hash": "",
    }


def package_dict(resource: Any, links: Links, lookups: Lookups) -> dict[str, Any]:
    org = lookups.orgs.get(resource.provider_id)
    top = lookups.classes.get(top_class(resource.class_code))
    cls = lookups.classes.get(resource.class_code)
    tags = [tag_dict(k) for k in resource.keywords or []]
    extras = {
        "code": resource.code,
        "class_code": resource.class_code,
        "class_name": cls.name if cls is not None else "",
        "share_type": resource.share_type,
        "open_type": resource.open_type,
        "update_cycle": resource.update_cycle,
        "format": resource.format,
        "districts": ",".join(resource.districts or []),
        "published_on": resource.published_on.isoformat() if resource.published_on else "",
        "provider_code": org.uscc if org is not None else "",
        "grade": resource.grade,  # 分级 (GB/T 43697; cityos.protection.grades)
    }
    return {
        "id": resource.id,
        "name": ckan_name(resource.code),
        "title": resource.name,
        "notes": resource.summary or "",
        "type": "dataset",
        "state": "active" if resource.status == "published" else "draft",
        "private": resource.open_type == "none",
        "isopen": resource.open_type == "unconditional",
        "license_id": "notspecified",
        "license_title": "License not specified",
        "url": links.dataset_page(resource.code),
        "version": str(resource.version),
        "author": None,
        "author_email": None,
        "maintainer": org.name if org is not None else None,
        "maintainer_email": None,
        "creator_user_id": resource.created_by,
        "metadata_created": iso(resource.created_at),
        "metadata_modified": iso(resource.updated_at),
        "owner_org": resource.provider_id,
        "organization": organization_dict(org) if org is not None else None,
        "groups": [group_dict(top)] if top is not None else [],
        "tags": tags,
        "num_tags": len(tags),
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "resources": [resource_dict(resource, links, lookups.has_items(resource.id))],
        "num_resources": 1,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def user_dict(user: dict[str, Any], *, with_email: bool) -> dict[str, Any]:
    roles = sorted({m.role for m in user.get("memberships", [])})
    out = {
        "id": user["id"],
        "name": user["username"],
        "fullname": user.get("display_name") or "",
        "display_name": user.get("display_name") or user["username"],
        "about": "",
        "state": "active" if user.get("is_active", True) else "deleted",
        "sysadmin": "admin" in roles,
        "roles": roles,
        "image_display_url": "",
    }
    if with_email:
        out["email"] = user.get("email") or ""
    return out


# ---------------------------------------------------------------- search syntax

_CLAUSE = re.compile(
    r"""(?P<op>[+-]?)(?P<field>[A-Za-z_][\w.]*):
        (?P<value>"(?:[^"\\]|\\.)*"|\([^)]*\)|[^\s()"]+)""",
    re.VERBOSE,
)
_FILLER = re.compile(r"^(?:\s|AND|&&)*$")


def _values(raw: str) -> list[str]:
    if raw.startswith("("):
        parts = re.split(r"\s+OR\s+|\s*\|\|\s*", raw[1:-1].strip())
        return [v for p in parts for v in _values(p.strip()) if v]
    if raw.startswith('"'):
        return [raw[1:-1].replace('\\"', '"')]
    return [raw]


def parse_clauses(text: str) -> tuple[list[tuple[str, list[str]]], str]:
    """``field:value`` clauses of a q/fq string, and the free text left over."""
    clauses: list[tuple[str, list[str]]] = []
    rest: list[str] = []
    pos = 0
    for m in _CLAUSE.finditer(text):
        rest.append(text[pos : m.start()])
        pos = m.end()
        if m.group("op") == "-":
            raise SearchQueryError(f"negated clauses are not supported: {m.group(0)}")
        clauses.append((m.group("field"), _values(m.group("value"))))
    rest.append(text[pos:])
    return clauses, " ".join(" ".join(rest).split())


def clauses_to_filters(
    clauses: Iterable[tuple[str, list[str]]], lookups: Lookups
) -> dict[str, list[str]]:
    """CKAN fields and values → catalogue filters; several clauses combine with AND."""
    filters: dict[str, list[str]] = {}
    for name, values in clauses:
        if name in NEUTRAL_FIELDS:
            continue
        key = CKAN_FIELDS.get(name)
        if key is None:
            raise SearchQueryError(f"unknown field {name!r}")
        if name == "res_format" and any(v.lower() == "csv" for v in values):
            continue  # every package's (only) resource is its CSV export
        converted: list[str] = []
        for value in values:
            if name in ("organization", "provider"):
                org = lookups.org_by_name(value)
                converted.append(org.id if org is not None else value)
            elif name == "groups":
                code = class_of_group(value) or value
                if code.isdigit():  # anything else is no group of ours: matches nothing
                    converted.append(code)
            elif name == "res_format":
                if value.lower() in RESOURCE_FORMATS:  # the catalogue's own formats, as aliases
                    converted.append(value.lower())
            else:
                converted.append(value)
        previous = filters.get(key)
        if previous is not None and key in MULTI_VALUED and set(previous) != set(converted):
            # values of one key are alternatives in the catalogue search: say so, don't guess
            raise SearchQueryError(
                f"several {name} clauses must be combined with OR: {name}:(a OR b)"
            )
        # an empty list matches nothing; a repeated single-valued field: both clauses must hold
        filters[key] = [v for v in converted if previous is None or v in previous]
    return filters


SORTS = {
    "score": "relevance",
    "rank": "relevance",
    "relevance": "relevance",
    "metadata_modified": "updated",
    "metadata_created": "updated",
    "updated": "updated",
    "name": "code",
    "code": "code",
    "title": "name",
    "title_string": "name",
}


def parse_sort(sort: str | None) -> str:
    """CKAN sort (``metadata_modified desc, name asc``) → the catalogue's sort (first key)."""
    if not sort or not sort.strip():
        return "relevance"
    first = sort.split(",")[0].split()
    key = SORTS.get(first[0])
    if key is None:
        raise SearchQueryError(f"can not sort on field {first[0]!r}")
    return key


def facet_value_label(key: str, value: str, lookups: Lookups) -> tuple[str, str]:
    """A catalogue facet value as CKAN shows it: (name, display_name)."""
    from cityos.catalog.labels import label

    if key == "provider":
        org = lookups.orgs.get(value)
        return (org.slug, org.name) if org is not None else (value, value)
    if key == "class":
        cls = lookups.classes.get(value)
        return value, (cls.name if cls is not None else value)
    if key in ("keyword", "district"):
        return value, value
    return value, label(key, value)
