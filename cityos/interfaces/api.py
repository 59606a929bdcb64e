"""Interface services JSON API under /api/v1/interfaces (tag ``interfaces``).

The registry (list, detail, OpenAPI documents) is for signed-in users (what each sees:
``cityos.interfaces.services``); registration is for the provider's data officers, confirmation
for the bureau; calls take an authorization code (see ``call``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cityos.auth.access import authenticated, roles
from cityos.auth.principal import Principal
from cityos.exchange.access import CodeContext, code_context
from cityos.interfaces import calls, openapi, services
from cityos.interfaces.models import InterfaceService
from cityos.interfaces.proxy import runtime_of
from cityos.interfaces.schemas import CommentIn, ServiceIn, ServiceList, ServiceOut, service_out


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    runtime = getattr(app.state, "interface_proxy", None)
    if runtime is not None:
        runtime.close()  # the proxy services' HTTP client


router = APIRouter(prefix="/interfaces", tags=["interfaces"], lifespan=lifespan)
CALL_BODY = {
    "requestBody": {
        "required": True,
        "description": "The service's declared inputs (see its own OpenAPI document)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
OFFICER = roles("data_officer", "admin")
MAX_CALL_BODY = 64 * 1024


def _out(service: InterfaceService, principal: Principal) -> ServiceOut:
    return service_out(service, show_upstream=services.can_manage(principal, service))


def _names(session: Any) -> dict[str, str]:
    from cityos.directory.services import organisation_names

    return organisation_names(session)


@router.get("", response_model=ServiceList)
def list_services(
    request: Request,
    q: str = Query("", max_length=200),
    provider: str = Query("", max_length=32),
    kind: str = Query("", max_length=10),
    status: str = Query("", max_length=16),
    principal: Principal = Depends(authenticated),
) -> ServiceList:
    """The interface service registry: confirmed services for sharing participants, a provider's
    own in every status, everything for the bureau. ``q`` matches name, code or provider."""
    with request.app.state.db.session() as session:
        found = services.list_services(
            session, principal, q=q, provider=provider, kind=kind, status=status
        )
        out = [_out(s, principal) for s in found]
    return ServiceList(total=len(out), services=out)


@router.post("", response_model=ServiceOut, status_code=201)
def register_service(
    data: ServiceIn, request: Request, principal: Principal = Depends(OFFICER)
) -> ServiceOut:
    """Register a query or proxy service on one of your resources; it waits for the bureau."""
    with request.app.state.db.session() as session:
        service = services.register(session, data, principal)
        out = _out(service, principal)
    return out


@router.get("/openapi.json")
def registry_openapi(request: Request, principal: Principal = Depends(authenticated)) -> Any:
    """OpenAPI 3.1 document of every confirmed service the caller may see."""
    with request.app.state.db.session() as session:
        found = services.list_services(session, principal, status="confirmed")
        doc = openapi.registry_document(found, _names(session), _server(request))
    return JSONResponse(doc)


@router.get("/{code}", response_model=ServiceOut)
def get_service(
    code: str, request: Request, principal: Principal = Depends(authenticated)
) -> ServiceOut:
    """One service: its inputs, outputs, status and (for its provider and the bureau) upstream."""
    with request.app.state.db.session() as session:
        return _out(services.get_service(session, code, principal), principal)


@router.put("/{code}", response_model=ServiceOut)
def revise_service(
    code: str, data: ServiceIn, request: Request, principal: Principal = Depends(OFFICER)
) -> ServiceOut:
    """A new version of the service's declaration; it waits for the bureau again."""
    with request.app.state.db.session() as session:
        return _out(services.revise(session, code, data, principal), principal)


@router.get("/{code}/openapi.json")
def service_openapi(
    code: str, request: Request, principal: Principal = Depends(authenticated)
) -> Any:
    """OpenAPI 3.1 document of one service (path, input and output schemas, security)."""
    with request.app.state.db.session() as session:
        service = services.get_service(session, code, principal)
        name = _names(session).get(service.provider_org_id, "")
        doc = openapi.service_document(service, name, _server(request))
    return JSONResponse(doc)


def _transition(request: Request, code: str, action: str, body: CommentIn, who: Principal) -> Any:
    with request.app.state.db.session() as session:
        service = services.transition(session, code, action, who, body.comment)
        out = _out(service, who)
    request.app.state.bus.publish(
        f"interfaces.{action}", {"service_id": out.id, "code": out.code, "status": out.status}
    )
    return out


@router.post("/{code}/confirm", response_model=ServiceOut)
def confirm_service(
    code: str,
    request: Request,
    body: CommentIn | None = None,
    principal: Principal = Depends(roles("admin")),
) -> ServiceOut:
    """The bureau confirms a submitted service (optional comment): it appears in the registry."""
    return _transition(request, code, "confirm", body or CommentIn(), principal)


@router.post("/{code}/reject", response_model=ServiceOut)
def reject_service(
    code: str, body: CommentIn, request: Request, principal: Principal = Depends(roles("admin"))
) -> ServiceOut:
    """The bureau rejects a submitted service; the comment (required) says what to fix."""
    return _transition(request, code, "reject", body, principal)


@router.post("/{code}/suspend", response_model=ServiceOut)
def suspend_service(
    code: str, body: CommentIn, request: Request, principal: Principal = Depends(OFFICER)
) -> ServiceOut:
    """Take a confirmed service out of service (its provider's officers or the bureau; reason)."""
    return _transition(request, code, "suspend", body, principal)


@router.post("/{code}/resume", response_model=ServiceOut)
def resume_service(
    code: str,
    request: Request,
    body: CommentIn | None = None,
    principal: Principal = Depends(roles("admin")),
) -> ServiceOut:
    """The bureau puts a suspended service back into service."""
    return _transition(request, code, "resume", body or CommentIn(), principal)


def _server(request: Request) -> str:
    return str(request.app.state.settings.base_url)


@router.post("/{code}/call", openapi_extra=CALL_BODY)
async def call_service(
    code: str, request: Request, ctx: CodeContext = Depends(code_context)
) -> JSONResponse:
    """Call a service with an authorization code whose grant names it; the body is a JSON object
    of the declared inputs. Answers only the declared outputs (verify: ``{"match": bool}``;
    lookup and proxy: ``{"found": false}`` or one record). Errors: 403 ``service_not_granted``
    / ``service_not_callable``, 422 ``input_invalid``, 409 ``ambiguous_lookup``, and for proxy
    services 502 ``upstream_error``, 503 ``circuit_open``, 504 ``upstream_timeout``. Every
    call is audited (``exchange.service``), with the inputs' names but never their values."""
    raw: Any = None
    body = await request.body()
    if len(body) <= MAX_CALL_BODY:
        try:
            raw = json.loads(body or b"null")
        except ValueError:
            raw = None
    answer = await run_in_threadpool(
        calls.call,
        request.app.state.db,
        runtime_of(request.app.state),
        code,
        raw,
        ctx,
        ctx.ip,
    )
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})
