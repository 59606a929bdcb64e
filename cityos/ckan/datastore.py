"""CKAN DataStore actions over the datastore service (records of a catalogue resource)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from cityos.catalog import policy
from cityos.ckan import mapping as m
from cityos.ckan.actions import Context, action
from cityos.ckan.errors import NotAuthorized, ValidationFailed
from cityos.ckan.params import as_bool, as_dict, as_int, as_list, as_str
from cityos.core.i18n import gettext

MAX_ROWS = 1000  # the datastore service returns at most this many records per call


def _readable(ctx: Context, data: dict[str, Any]) -> Any:
    ident = as_str(data, "resource_id") or as_str(data, "id")
    if not ident.strip():
        raise ValidationFailed({"resource_id": [gettext("Missing value")]})
    resource = ctx.resource(ident.strip())
    if not policy.can_read_data(ctx.principal, resource):
        raise NotAuthorized(gettext("You may not read the records of this resource."))
    return resource


def _field(f: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f["id"], "type": m.DATASTORE_TYPES.get(f["type"], f["type"])}
    if f.get("name") and f["name"] != f["id"]:
        out["info"] = {"label": f["name"]}
    return out


@action
def datastore_search(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Records of a resource: resource_id, filters (JSON object), q, limit (≤1000), offset,
    fields (comma or JSON list), sort ("field desc, other"), include_total, records_format
    (objects | lists)."""
    from cityos.datastore import services as datastore

    resource = _readable(ctx, data)
    q: Any = data.get("q")
    if isinstance(q, dict):
        raise ValidationFailed({"q": [gettext("Full-text search by field is not supported.")]})
    limit = as_int(data, "limit", 100, maximum=MAX_ROWS)
    offset = as_int(data, "offset", 0)
    fields = as_list(data, "fields")
    include_total = as_bool(data, "include_total", True)
    records_format = as_str(data, "records_format") or "objects"
    if records_format not in ("objects", "lists"):
        raise ValidationFailed({"records_format": [gettext("Must be objects or lists")]})
    sort = as_str(data, "sort") or None
    result = datastore.query(
        ctx.app_state.db,
        resource.id,
        filters=as_dict(data, "filters"),
        q=as_str(data, "q") or None,
        sort=sort,
        limit=limit,
        offset=offset,
        fields=fields,
        include_total=include_total,
    )
    columns = [_field(f) for f in result.fields]
    records: list[Any] = list(result.records)
    if records_format == "lists":
        records = [[r.get(c["id"]) for c in columns] for r in records]
    limit = result.limit
    params = {"resource_id": resource.id, "limit": limit}
    start = f"/api/3/action/datastore_search?{urlencode(params)}"
    out: dict[str, Any] = {
        "include_total": include_total,
        "resource_id": resource.id,
        "fields": columns,
        "records_format": records_format,
        "records": records,
        "limit": limit,
        "offset": offset,
        "_links": {"start": start, "next": f"{start}&offset={offset + limit}"},
    }
    if sort:
        out["sort"] = sort
    if include_total:
        out["total"] = result.total
        out["total_was_estimated"] = False
    return out


@action
def datastore_info(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of a resource's datastore table and its record count (id)."""
    from cityos.datastore import services as datastore

    resource = _readable(ctx, data)
    result = datastore.query(
        ctx.app_state.db,
        resource.id,
        filters=None,
        q=None,
        sort=None,
        limit=0,
        offset=0,
        fields=None,
        include_total=True,
    )
    return {
        "meta": {"id": resource.id, "count": result.total, "table_type": "BASE TABLE"},
        "fields": [_field(f) for f in result.fields],
    }
