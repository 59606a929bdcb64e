"""Datastore JSON API under /api/v1 (tag ``datastore``).

Loading answers with the batch: **201** when every row was accepted, **200** when some rows were
rejected (``status: partial``; the valid rows are stored), and **422** problem+json
``load_failed`` (with the batch under ``batch``) when nothing was stored: ``all_or_nothing`` with
a bad row, or no valid row at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as urlquote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cityos.auth.access import authenticated, public, roles
from cityos.auth.principal import Principal
from cityos.catalog import policy
from cityos.catalog import services as catalog
from cityos.core.errors import PROBLEM_JSON, ProblemError, forbidden, invalid
from cityos.datastore import services
from cityos.datastore.models import LoadBatch
from cityos.datastore.query import RESERVED
from cityos.datastore.schemas import (
    BatchOut,
    FieldOut,
    RecordsIn,
    RecordsOut,
    TimelinessOut,
    batch_out,
    timeliness_out,
)
from cityos.datastore.sources import too_large

router = APIRouter(tags=["datastore"])
OFFICERS = ("data_officer", "admin")
NOT_FILTERS = (*RESERVED, "lang")


def readable(session: Session, ident: str, principal: Principal) -> Any:
    """The resource whose records the principal may read: 404 if invisible, 403 if no data right."""
    resource = catalog.get_resource(session, ident, principal)
    if not policy.can_read_data(principal, resource):
        raise ProblemError(
            403,
            "no_data_access",
            "You may see this resource's description but not its data.",
        )
    return resource


def editable(session: Session, ident: str, principal: Principal) -> Any:
    resource = catalog.get_resource(session, ident, principal)
    if not policy.can_edit(principal, resource):
        raise forbidden("Only the provider's data officers may load data into this resource.")
    return resource


def query_filters(request: Request) -> dict[str, Any]:
    """Every query parameter that is not a reserved one is a filter (repeated: one of)."""
    filters: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in NOT_FILTERS:
            continue
        if key in filters:
            previous = filters[key]
            filters[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            filters[key] = value
    return filters


def split_fields(fields: list[str] | None) -> list[str] | None:
    if not fields:
        return None
    out = [f.strip() for value in fields for f in value.split(",") if f.strip()]
    return out or None


def max_bytes(request: Request) -> int:
    return int(request.app.state.settings.max_upload_mb) * (1 << 20)


def check_length(request: Request) -> None:
    """413 before reading a body that announces itself as too large (multipart overhead aside)."""
    limit = max_bytes(request)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + (64 << 10):
        raise too_large(limit)


def batch_response(request: Request, batch: LoadBatch) -> Response:
    db = request.app.state.db
    rows = services.batch_rows(db, batch.id, limit=100)
    body = batch_out(batch, rows).model_dump(mode="json")
    if batch.status == "failed":
        problem = ProblemError(
            422,
            "load_failed",
            "Nothing was loaded: {rejected} of {total} rows were rejected.",
            rejected=batch.rows_rejected,
            total=batch.rows_total,
        )
        payload = {**problem.to_dict(instance=request.url.path), "batch": body}
        return JSONResponse(payload, status_code=422, media_type=PROBLEM_JSON)
    return JSONResponse(body, status_code=201 if batch.status == "succeeded" else 200)


# --------------------------------------------------------------------------- reading


@router.get("/datastore/timeliness", response_model=list[TimelinessOut])
def timeliness(
    request: Request,
    mine: bool = Query(False, description="Only the resources of my organisations"),
    principal: Principal = Depends(roles("admin", "reviewer", "data_officer")),
) -> list[TimelinessOut]:
    """Data timeliness: overdue resources first. Officers always see their own providers'."""
    providers = None
    if mine or not principal.sees_everything:
        providers = principal.officer_org_ids
    entries = services.timeliness(request.app.state.db, provider_ids=providers)
    return [timeliness_out(e) for e in entries]


@router.get("/datastore/batches/{batch_id}", response_model=BatchOut)
def get_batch(
    batch_id: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000, description="Rejected rows per page"),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(authenticated),
) -> BatchOut:
    """A load batch and a page of its rejected rows (the provider's officers and admins)."""
    db = request.app.state.db
    batch = services.batch_for(db, batch_id, principal)
    rows = services.batch_rows(db, batch_id, limit=limit, offset=offset)
    return batch_out(batch, rows, limit=limit, offset=offset)


@router.get("/datastore/{resource_id}/records", response_model=RecordsOut)
def records(
    resource_id: str,
    request: Request,
    q: str | None = Query(None, description="Words that must appear in some text field"),
    sort: str | None = Query(None, description='"field", "-field" or "aqi desc, name"'),
    limit: int = Query(100, description="At most 1000"),
    offset: int = Query(0),
    fields: list[str] | None = Query(None, description="Comma-separated fields to return"),
    include_total: bool = Query(True),
    principal: Principal = Depends(public),
) -> RecordsOut:
    """Query records: filters `field=v`, `field__gte=v` (ne gt gte lt lte in contains), q, sort.

    Every parameter that is not q, sort, limit (≤ 1000), offset, fields or include_total is a
    filter: ``district=美兰区``, ``aqi__gte=100``, ``district__in=a,b``, ``name__contains=江``.
    Unknown field: 400 ``unknown_field``; bad value: 400 ``bad_filter_value``; no data right on
    a visible resource: 403 ``no_data_access``."""
    db = request.app.state.db
    with db.session() as session:
        resource = readable(session, resource_id, principal)
        rid = resource.id
    result = services.query(
        db,
        rid,
        filters=query_filters(request),
        q=q,
        sort=sort,
        limit=limit,
        offset=offset,
        fields=split_fields(fields),
        include_total=include_total,
    )
    return RecordsOut(
        resource_id=rid,
        fields=[FieldOut(**f) for f in result.fields],
        records=result.records,
        total=result.total,
        limit=result.limit,
        offset=result.offset,
    )


@router.get("/datastore/{resource_id}/export.{fmt}")
def export(
    resource_id: str,
    fmt: str,
    request: Request,
    q: str | None = Query(None),
    sort: str | None = Query(None),
    fields: list[str] | None = Query(None),
    principal: Principal = Depends(public),
) -> Response:
    """Download the (filtered) records as csv, json, ndjson or xlsx, streamed."""
    db = request.app.state.db
    with db.session() as session:
        rid = readable(session, resource_id, principal).id
    media_type, filename, chunks = services.export(
        db, rid, fmt, filters=query_filters(request), q=q, sort=sort, fields=split_fields(fields)
    )
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{urlquote(filename)}"
    return StreamingResponse(
        chunks, media_type=media_type, headers={"Content-Disposition": disposition}
    )


# --------------------------------------------------------------------------- loading

RECORDS_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": RecordsIn.model_json_schema()}},
    }
}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "mode": {"type": "string", "enum": ["append", "upsert", "replace"]},
                        "on_error": {"type": "string", "enum": ["reject_rows", "all_or_nothing"]},
                        "format": {"type": "string", "enum": ["csv", "xlsx", "json", "ndjson"]},
                    },
                }
            }
        },
    }
}


@router.post("/datastore/{resource_id}/records", openapi_extra=RECORDS_BODY)
async def add_records(
    resource_id: str, request: Request, principal: Principal = Depends(roles(*OFFICERS))
) -> Response:
    """Load records (JSON): 201 all accepted, 200 some rejected, 422 `load_failed` none stored.

    Body: ``{"records": [...], "mode": "append", "on_error": "reject_rows"}``."""
    check_length(request)
    body = await request.body()
    if len(body) > max_bytes(request):
        raise too_large(max_bytes(request))
    try:
        data = RecordsIn.model_validate_json(body or b"{}")
    except ValidationError as exc:
        problem = invalid("validation_error", "The request is invalid.")
        problem.errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "code": e["type"], "message": e["msg"]}
            for e in exc.errors()
        ]
        raise problem from None
    db = request.app.state.db

    def run() -> LoadBatch:
        with db.session() as session:
            rid = editable(session, resource_id, principal).id
        return services.load_records(
            db,
            rid,
            data.records,
            actor=principal,
            mode=data.mode,
            on_error=data.on_error,
            bus=request.app.state.bus,
        )

    batch = await run_in_threadpool(run)
    return batch_response(request, batch)


@router.post("/datastore/{resource_id}/upload", openapi_extra=UPLOAD_BODY)
async def upload(
    resource_id: str, request: Request, principal: Principal = Depends(roles(*OFFICERS))
) -> Response:
    """Upload a CSV (UTF-8 or GBK), XLSX, JSON or NDJSON file; answers as POST …/records.

    Multipart fields ``file``, ``mode``, ``on_error`` (and ``format`` to override the file
    name's suffix); 413 ``payload_too_large`` beyond CITYOS_MAX_UPLOAD_MB."""
    check_length(request)
    form = await request.form(max_files=1, max_fields=20)
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise invalid("no_file", "Choose a file to upload.")
        mode = str(form.get("mode") or "append")
        on_error = str(form.get("on_error") or "reject_rows")
        fmt = str(form.get("format") or "") or None
        db = request.app.state.db
        limit = max_bytes(request)

        def run() -> LoadBatch:
            with db.session() as session:
                rid = editable(session, resource_id, principal).id
            return services.load_file(
                db,
                rid,
                upload.file,
                filename=upload.filename or "upload",
                actor=principal,
                mode=mode,
                on_error=on_error,
                fmt=fmt,
                max_bytes=limit,
                bus=request.app.state.bus,
            )

        batch = await run_in_threadpool(run)
    finally:
        await form.close()
    return batch_response(request, batch)
