"""The exchange API under /api/v1/exchange (tag ``exchange``): a grant's data with its code.

Every call presents an authorization code (``Authorization: Bearer cos_…``) and writes exactly
one audit record, committed before the answer is sent: ``exchange.records``,
``exchange.export`` or ``exchange.grant`` (target: the grant) when the code was accepted,
``exchange.denied`` (target: the code) when it was not. See docs/exchange.md.
"""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote as urlquote

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from cityos.core.errors import ProblemError
from cityos.datastore.query import RESERVED
from cityos.exchange import records as reading
from cityos.exchange.access import CodeContext, close_runtime, code_context, runtime
from cityos.exchange.plan import Plan, plan_for
from cityos.exchange.schemas import ExchangeRecordsOut, GrantOut

NOT_FILTERS = (*RESERVED, "lang", "format")


_frozen: list[bool] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if not _frozen:  # once per process
        # What exists once the app has started (modules, mappers, routes, caches) lives as long
        # as the process: move it out of the cyclic collector's scans. Calls of the exchange
        # wait for their audit commit, so many are in flight at once; without this the
        # collections they trigger rescan the whole app (~12 % of a call's CPU, measured).
        gc.collect()
        gc.freeze()
        _frozen.append(True)
    yield
    close_runtime(app)  # commit queued records and the codes' last use


router = APIRouter(tags=["exchange"], lifespan=lifespan)


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


def _json(body: dict[str, Any]) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(text.encode("utf-8"), media_type="application/json")


def _plan(request: Request, ctx: CodeContext) -> Plan:
    return plan_for(
        request.app.state.db, runtime(request.app).plans, ctx.grant_id, ctx.grant_version
    )


async def _refused(
    action: str, request: Request, ctx: CodeContext, problem: ProblemError, **detail: Any
) -> ProblemError:
    await runtime(request.app).writer.write(
        action, "grant", ctx.grant_id, ctx.detail(problem.code, **detail)
    )
    return problem


RECORDS_PARAMETERS = [
    {
        "name": "q",
        "in": "query",
        "schema": {"type": "string"},
        "description": "Words that must appear in some granted, unmasked text item",
    },
    {
        "name": "sort",
        "in": "query",
        "schema": {"type": "string"},
        "description": '"field" or "-field" (granted, unmasked items)',
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "default": 100},
        "description": "At most 1000",
    },
    {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}},
    {
        "name": "fields",
        "in": "query",
        "schema": {"type": "string"},
        "description": "Comma-separated granted items",
    },
    {"name": "include_total", "in": "query", "schema": {"type": "boolean", "default": True}},
]


@dataclass(frozen=True)
class Paging:
    q: str | None
    sort: str | None
    limit: int
    offset: int
    fields: list[str] | None
    include_total: bool


def _int(params: Any, name: str, default: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ProblemError(400, "bad_paging", "{name} must be a whole number.", name=name) from None


def paging(request: Request) -> Paging:
    """The reserved parameters, read by hand (cheaper than declared ones on this hot path)."""
    params = request.query_params
    total = (params.get("include_total") or "true").lower() not in ("false", "0", "no")
    return Paging(
        q=params.get("q") or None,
        sort=params.get("sort") or None,
        limit=_int(params, "limit", 100),
        offset=_int(params, "offset", 0),
        fields=split_fields(params.getlist("fields")),
        include_total=total,
    )


@router.get(
    "/exchange/records",
    response_model=ExchangeRecordsOut,
    openapi_extra={"parameters": RECORDS_PARAMETERS},
)
async def exchange_records(request: Request, ctx: CodeContext = Depends(code_context)) -> Response:
    """Records of the code's granted resource: granted items and rows only, masked, paged.

    Filters as in the datastore API (``district=美兰区``, ``age__gte=30``, ``id_card__in=a,b``)
    on granted items; a masked item matches exactly only. 403 ``item_not_granted``,
    ``item_masked``, ``scope_unenforceable``; 401/403/429 from the code check."""
    filters = query_filters(request)
    plan: Plan | None = None
    try:
        p = paging(request)
        plan = _plan(request, ctx)
        result = reading.page(
            request.app.state.db,
            plan,
            fields=p.fields,
            filters=filters,
            q=p.q,
            sort=p.sort,
            limit=p.limit,
            offset=p.offset,
            include_total=p.include_total,
        )
    except ProblemError as problem:
        logged = reading.audited_filters(plan, filters)
        raise await _refused("exchange.records", request, ctx, problem, filters=logged) from None
    items = [f["id"] for f in result.fields]
    detail = ctx.detail(
        items=items,
        rows=len(result.records),
        row_ids=result.row_ids,
        filters=_audited_filters(plan, filters, p.q, p.sort, p.limit, p.offset),
    )
    await runtime(request.app).writer.write("exchange.records", "grant", ctx.grant_id, detail)
    return _json(
        {
            "resource_id": ctx.resource_id,
            "grant_id": ctx.grant_id,
            "fields": result.fields,
            "records": result.records,
            "total": result.total,
            "limit": min(max(p.limit, 0), 1000),
            "offset": p.offset,
        }
    )


def _audited_filters(
    plan: Plan | None,
    filters: dict[str, Any],
    q: str | None,
    sort: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    out = reading.audited_filters(plan, filters)
    if q:
        out["q"] = q
    if sort:
        out["sort"] = sort
    out["limit"], out["offset"] = limit, offset
    return out


@router.get("/exchange/export")
async def exchange_export(
    request: Request,
    format: str = Query("csv", description="csv, json, ndjson or xlsx"),
    q: str | None = Query(None),
    sort: str | None = Query(None),
    fields: list[str] | None = Query(None),
    ctx: CodeContext = Depends(code_context),
) -> Response:
    """Bulk export of the granted, masked rows (only when the grant allows export).

    403 ``export_not_granted`` otherwise. The audit record lists every exported row id."""
    filters = query_filters(request)
    db = request.app.state.db
    plan: Plan | None = None
    try:
        if not ctx.allow_export:
            raise ProblemError(403, "export_not_granted", "The grant does not allow bulk export.")
        plan = _plan(request, ctx)
        out = await run_in_threadpool(
            reading.export,
            db,
            plan,
            format,
            fields=split_fields(fields),
            filters=filters,
            q=q,
            sort=sort,
        )
    except ProblemError as problem:
        logged = reading.audited_filters(plan, filters)
        raise await _refused(
            "exchange.export", request, ctx, problem, filters=logged, format=format
        ) from None
    detail = ctx.detail(
        items=out.names,
        rows=len(out.row_ids),
        row_ids=out.row_ids,
        filters=_audited_filters(plan, filters, q, sort, 0, 0),
        format=format,
    )
    try:
        await runtime(request.app).writer.write("exchange.export", "grant", ctx.grant_id, detail)
    except ProblemError:
        out.file.close()
        raise
    disposition = (
        f"attachment; filename=\"{out.filename}\"; filename*=UTF-8''{urlquote(out.filename)}"
    )
    return StreamingResponse(
        _chunks(out.file), media_type=out.media_type, headers={"Content-Disposition": disposition}
    )


def _chunks(file: Any) -> Iterator[bytes]:
    try:
        while chunk := file.read(1 << 16):
            yield chunk
    finally:
        file.close()


@router.get("/exchange/grant", response_model=GrantOut)
async def exchange_grant(request: Request, ctx: CodeContext = Depends(code_context)) -> Response:
    """What this code may use: resource, items (with their masking), row scope, period, expiry."""
    try:
        plan = _plan(request, ctx)
    except ProblemError as problem:
        raise await _refused("exchange.grant", request, ctx, problem) from None
    items = [
        {
            "field": f,
            "name": plan.view.names.get(f, f),
            "type": plan.kinds.get(f),
            "masking": plan.methods[f],
        }
        for f in plan.granted
    ]
    await runtime(request.app).writer.write(
        "exchange.grant", "grant", ctx.grant_id, ctx.detail(items=list(plan.granted))
    )
    return _json(
        {
            "grant_id": ctx.grant_id,
            "resource_id": ctx.resource_id,
            "resource_code": plan.code,
            "service_id": ctx.service_id,
            "consumer_org_id": ctx.consumer_org_id,
            "provider_org_id": ctx.provider_org_id,
            "purpose": ctx.purpose,
            "items": items,
            "row_scope": plan.scope,
            "valid_from": ctx.valid_from.isoformat() if ctx.valid_from else None,
            "valid_until": ctx.valid_until.isoformat() if ctx.valid_until else None,
            "allow_export": ctx.allow_export,
            "code": ctx.code_key_id,
            "code_expires_at": _iso(ctx.expires_at),
        }
    )


def _iso(value: Any) -> str | None:
    from cityos.core.i18n import DISPLAY_TZ

    return value.astimezone(DISPLAY_TZ).isoformat() if value is not None else None
