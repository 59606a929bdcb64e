"""The open data API under /api/v1/open (tag ``open data``).

Datasets are what an anonymous visitor may see in the catalogue (published, 无条件开放 or
有条件开放), whoever calls. Records and downloads: see cityos/opendata/access.py for keys, scopes
and quotas, cityos/opendata/cache.py for the answer cache. docs/opendata.md has examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote as urlquote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from cityos.auth.access import authenticated
from cityos.auth.principal import ANONYMOUS, Principal
from cityos.catalog import services as catalog
from cityos.core.errors import ProblemError, not_found
from cityos.datastore import services as datastore
from cityos.datastore.api import query_filters, split_fields
from cityos.datastore.export import MEDIA_TYPES as EXPORT_MEDIA_TYPES
from cityos.datastore.schemas import FieldOut, RecordsOut
from cityos.exchange import open_keys
from cityos.opendata import files, geojson, quota, usage
from cityos.opendata.access import OpenCaller, admit, open_caller
from cityos.opendata.cache import Answer, etag_of, open_cache

router = APIRouter(tags=["open data"])
FORMATS = ("csv", "json", "xlsx", "geojson")
PUBLIC_CACHE = "public, max-age=30"
OPEN_TYPES = ("unconditional", "conditional")
MEDIA_TYPES = {**EXPORT_MEDIA_TYPES, "geojson": geojson.MEDIA_TYPE}


@dataclass(frozen=True)
class DatasetInfo:
    id: str
    code: str
    name: str
    open_type: str
    fields: tuple[str, ...]
    updated_at: datetime | None = None  # the metadata's time (items included)


def _load_info(request: Request, ident: str) -> DatasetInfo:
    with request.app.state.db.session() as session:
        try:
            resource = catalog.get_resource(session, ident, ANONYMOUS)
        except ProblemError:
            resource = None
        if resource is None or resource.open_type not in OPEN_TYPES:
            raise not_found("dataset", ident)
        fields = tuple(i.field for i in catalog.get_items(session, resource.id))
        return DatasetInfo(
            resource.id,
            resource.code,
            resource.name,
            resource.open_type,
            fields,
            resource.updated_at,
        )


async def dataset_info(request: Request, ident: str) -> DatasetInfo:
    """The open dataset by code or id (cached for the TTL); 404 when it is not open."""
    cache = open_cache(request.app)
    found: DatasetInfo | None = cache.datasets.get(ident)
    if found is None:
        found = await run_in_threadpool(_load_info, request, ident)
        cache.datasets.put(ident, found)
    return found


def _resource_out(resource: Any, provider_names: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": resource.id,
        "code": resource.code,
        "name": resource.name,
        "summary": resource.summary,
        "provider_id": resource.provider_id,
        "open_type": resource.open_type,
        "open_condition": resource.open_condition,
        "format": resource.format,
        "update_cycle": resource.update_cycle,
        "keywords": list(resource.keywords or []),
        "districts": list(resource.districts or []),
        "published_on": resource.published_on.isoformat() if resource.published_on else None,
        "updated_at": resource.updated_at.isoformat() if resource.updated_at else None,
    }


@router.get("/open/datasets")
def search_datasets(
    request: Request,
    q: str = Query("", max_length=200, description="Words to find (Chinese or ASCII)"),
    provider: list[str] = Query([], description="Provider organisation id"),
    class_: list[str] = Query([], alias="class", description="Class code prefix"),
    open_type: list[str] = Query([], description="unconditional | conditional"),
    format: list[str] = Query([]),
    update_cycle: list[str] = Query([]),
    district: list[str] = Query([], description="GB/T 2260 code"),
    keyword: list[str] = Query([]),
    sort: str = Query("relevance", description="relevance | name | updated | code"),
    limit: int = Query(20, ge=0, le=100),
    offset: int = Query(0, ge=0),
    caller: OpenCaller = Depends(open_caller),
) -> dict[str, Any]:
    """Search the open datasets (published, 无条件/有条件开放) with facet counts."""
    filters = {
        "provider": provider,
        "class": class_,
        "open_type": open_type,
        "format": format,
        "update_cycle": update_cycle,
        "district": district,
        "keyword": keyword,
    }
    with request.app.state.db.session() as session:
        result = catalog.search(
            session, ANONYMOUS, q=q, filters=filters, sort=sort, limit=limit, offset=offset
        )
        return {
            "count": result.total,
            "results": [_resource_out(r) for r in result.results],
            "facets": {k: [[v, n] for v, n in pairs] for k, pairs in result.facets.items()},
        }


def _download_urls(request: Request, code: str) -> dict[str, str]:
    base = str(request.base_url).rstrip("/") + f"/api/v1/open/datasets/{urlquote(code, safe='/')}"
    return {fmt: f"{base}/download.{fmt}" for fmt in FORMATS} | {"records": base + "/records"}


@router.get("/open/datasets/{code:path}/records")
async def records(
    code: str,
    request: Request,
    q: str | None = Query(None, description="Words that must appear in some text field"),
    sort: str | None = Query(None, description='"field", "-field" or "aqi desc, name"'),
    limit: int = Query(100, description="At most 1000"),
    offset: int = Query(0),
    fields: list[str] | None = Query(None, description="Comma-separated fields to return"),
    include_total: bool = Query(True),
    caller: OpenCaller = Depends(open_caller),
) -> Response:
    """Records of an open dataset: filters like /datastore/{id}/records (`aqi__gte=100` …).

    Key optional for 无条件开放 (anonymous calls are limited per IP), required and scoped for
    有条件开放 (401 `key_required`, 403 `key_not_scoped`); over quota 429 with Retry-After;
    invalid filter 400 (`unknown_field`, `bad_filter_value`); unknown dataset 404."""
    info = await dataset_info(request, code)
    await admit(request, caller, info.id, info.open_type)
    cache = open_cache(request.app)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    key = cache.answer_key(info.id, params)
    answer: Answer | None = cache.answers.get(key)
    if answer is None:
        answer = await run_in_threadpool(
            _answer, request, info.id, q, sort, limit, offset, fields, include_total
        )
        cache.answers.put(key, answer)
    usage.count(request.app, info.id, "api")
    return _respond(request, answer, caller, info)


def _answer(
    request: Request,
    rid: str,
    q: str | None,
    sort: str | None,
    limit: int,
    offset: int,
    fields: list[str] | None,
    include_total: bool,
) -> Answer:
    result = datastore.query(
        request.app.state.db,
        rid,
        filters=query_filters(request),
        q=q,
        sort=sort,
        limit=limit,
        offset=offset,
        fields=split_fields(fields),
        include_total=include_total,
    )
    body = (
        RecordsOut(
            resource_id=rid,
            fields=[FieldOut(**f) for f in result.fields],
            records=result.records,
            total=result.total,
            limit=result.limit,
            offset=result.offset,
        )
        .model_dump_json()
        .encode()
    )
    return Answer(body, etag_of(body))


def _respond(request: Request, answer: Answer, caller: OpenCaller, info: DatasetInfo) -> Response:
    public = not caller.keyed and info.open_type == "unconditional"
    headers = {
        "ETag": answer.etag,
        "Cache-Control": PUBLIC_CACHE if public else "private, no-store",
        **caller.headers,
    }
    if request.headers.get("if-none-match") == answer.etag:
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


@router.get("/open/datasets/{code:path}/download.{fmt}")
async def download(
    code: str,
    fmt: str,
    request: Request,
    q: str | None = Query(None),
    sort: str | None = Query(None),
    fields: list[str] | None = Query(None),
    caller: OpenCaller = Depends(open_caller),
) -> Response:
    """Download an open dataset (filtered like the records) as csv, json, xlsx or geojson, streamed.

    Same access rules as the records; one download counts as one call of the quota."""
    if fmt not in FORMATS:
        raise ProblemError(
            404, "unsupported_format", "Unsupported export format {format}.", format=fmt
        )
    info = await dataset_info(request, code)
    await admit(request, caller, info.id, info.open_type)
    db = request.app.state.db
    filters = query_filters(request)

    def start() -> tuple[str, str, Any]:
        if fmt == "geojson":
            return geojson.stream(db, info.id, info.fields, filters=filters, q=q, sort=sort)
        return datastore.export(
            db, info.id, fmt, filters=filters, q=q, sort=sort, fields=split_fields(fields)
        )

    whole = not (filters or q or sort or fields)
    data_dir = request.app.state.settings.data_dir
    version = (
        await run_in_threadpool(files.version_of, db, info.id, info.fields, info.updated_at)
        if whole
        else None
    )
    kept = files.path_for(data_dir, info.id, version, fmt) if version else None
    if kept is not None and kept.is_file():
        usage.count(request.app, info.id, "download")
        return FileResponse(
            kept,
            media_type=MEDIA_TYPES[fmt],
            headers={
                "Content-Disposition": _disposition(info.name, f"{info.code}.{fmt}", fmt),
                **caller.headers,
            },
        )
    media_type, filename, chunks = await run_in_threadpool(start)
    if kept is not None:
        chunks = files.tee(chunks, kept)
    usage.count(request.app, info.id, "download")
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": _disposition(info.name, filename, fmt), **caller.headers},
    )


def _disposition(name: str, filename: str, fmt: str) -> str:
    """The Chinese name for browsers (RFC 6266/5987), an ASCII fallback for the others."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urlquote(f'{name}.{fmt}')}"


@router.get("/open/datasets/{code:path}")
def get_dataset(
    code: str, request: Request, caller: OpenCaller = Depends(open_caller)
) -> dict[str, Any]:
    """An open dataset: metadata, fields, download URLs and usage totals; 404 if not open."""
    with request.app.state.db.session() as session:
        try:
            resource = catalog.get_resource(session, code, ANONYMOUS)
        except ProblemError:
            resource = None
        if resource is None or resource.open_type not in OPEN_TYPES:
            raise not_found("dataset", code)
        items = catalog.get_items(session, resource.id)
        totals = usage.totals_for(session, resource.id)
        out = _resource_out(resource)
    out["fields"] = [
        {
            "field": i.field,
            "name": i.name,
            "type": i.data_type,
            "unit": i.unit,
            "description": i.description,
        }
        for i in items
    ]
    out["urls"] = _download_urls(request, resource.code)
    out["usage"] = totals
    return out


# --------------------------------------------------------------------------- keys


class KeyIn(BaseModel):
    label: str = Field("", max_length=100)


def _key_out(request: Request, row: Any) -> dict[str, Any]:
    out = open_keys.key_summary(row)
    for name in ("created_at", "expires_at", "last_used_at"):
        value = out[name]
        out[name] = value.isoformat() if isinstance(value, datetime) else None
    out["used_today"] = quota.quotas(request.app).used_today("key:" + row.key_id)
    return out


@router.get("/open/keys")
def my_keys(
    request: Request, principal: Principal = Depends(authenticated)
) -> list[dict[str, Any]]:
    """My open data API keys (never their secret), with today's use."""
    assert principal.user_id is not None
    with request.app.state.db.session() as session:
        rows = open_keys.list_open_keys(session, principal.user_id)
    return [_key_out(request, r) for r in rows]


@router.post("/open/keys", status_code=201)
def create_key(
    body: KeyIn, request: Request, principal: Principal = Depends(authenticated)
) -> JSONResponse:
    """Create a general open data key; the answer holds the key once (`key`): keep it."""
    assert principal.user_id is not None
    with request.app.state.db.session() as session:
        row, plaintext = open_keys.issue_open_key(
            session, user_id=principal.user_id, label=body.label, actor=principal
        )
        out = _key_out(request, row)
    return JSONResponse({**out, "key": plaintext}, status_code=201)


class RevokeIn(BaseModel):
    reason: str = Field("", max_length=500)


@router.post("/open/keys/{key_id}/revoke")
def revoke_key(
    key_id: str,
    request: Request,
    body: RevokeIn | None = None,
    principal: Principal = Depends(authenticated),
) -> dict[str, Any]:
    """Revoke one of my keys (or any, as admin): refused from the next call on."""
    with request.app.state.db.session() as session:
        row = open_keys.revoke_open_key(session, key_id, principal, body.reason if body else "")
        return _key_out(request, row)
