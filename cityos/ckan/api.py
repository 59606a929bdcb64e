"""``/api/3/action/<name>`` and ``/api/action/<name>``: CKAN's envelope, errors and statuses.

Every response is ``{"help", "success", "result"}`` or ``{"help", "success": false, "error":
{"__type", "message", ...}}`` — never problem+json and never a redirect (a trailing slash is
served as is). A bad token is an Authorization Error (403), as in CKAN, so the caller is resolved
by :func:`ckan_caller` (declared ``public``) that keeps the error for the envelope.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cityos.auth.access import _tag, resolve_principal
from cityos.auth.principal import ANONYMOUS, Principal
from cityos.ckan import datastore as _datastore  # noqa: F401  (registers datastore_* actions)
from cityos.ckan.actions import ACTIONS, Context
from cityos.ckan.errors import CkanError, NotAuthorized, from_problem
from cityos.ckan.mapping import Links
from cityos.core.errors import ProblemError

log = logging.getLogger(__name__)
router = APIRouter(tags=["ckan"])
PREFIXES = ("/api/3/action", "/api/action")
CONTENT_TYPE = "application/json;charset=utf-8"


@dataclass(frozen=True)
class Caller:
    principal: Principal
    problem: ProblemError | None = None


def _ckan_caller(request: Request) -> Caller:
    """Who is calling; a bad token is kept (not raised) to be answered in CKAN's envelope."""
    try:
        return Caller(resolve_principal(request))
    except ProblemError as problem:
        return Caller(ANONYMOUS, problem)


ckan_caller = _tag(_ckan_caller, "public")


def _links(request: Request) -> Links:
    return Links(request.app.state.settings.base_url)


def envelope(
    request: Request, name: str, *, result: Any = None, error: CkanError | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"help": _links(request).help(name)}
    if error is None:
        body.update(success=True, result=result)
        status = 200
    else:
        body.update(success=False, error=error.to_dict())
        status = error.status
    return JSONResponse(body, status_code=status, media_type=CONTENT_TYPE)


def _flatten(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out


async def request_data(request: Request) -> dict[str, Any]:
    """GET: query parameters. POST: a JSON object or a form, over the query parameters."""
    data = _flatten(list(request.query_params.multi_items()))
    if request.method != "POST":
        return data
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        data.update(_flatten([(k, v) for k, v in form.multi_items() if isinstance(v, str)]))
        return data
    raw = await request.body()
    if not raw.strip():
        return data
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CkanError(f"JSON Error: {exc}") from None
    if not isinstance(body, dict):
        raise CkanError("JSON Error: the request body must be a JSON object")
    data.update(body)
    return data


def _run(request: Request, name: str, data: dict[str, Any], principal: Principal) -> Any:
    func = ACTIONS[name]
    with request.app.state.db.session() as session:
        ctx = Context(session, principal, _links(request), request.app.state)
        return func(ctx, data)


async def call(request: Request, name: str, caller: Caller) -> JSONResponse:
    if name not in ACTIONS:
        return envelope(request, name, error=CkanError(f"Action name not known: {name}"))
    if caller.problem is not None:
        return envelope(request, name, error=NotAuthorized(caller.problem.detail))
    try:
        data = await request_data(request)
        result = await run_in_threadpool(_run, request, name, data, caller.principal)
    except CkanError as error:
        return envelope(request, name, error=error)
    except ProblemError as problem:
        return envelope(request, name, error=from_problem(problem))
    return envelope(request, name, result=result)


async def action_endpoint(
    name: str, request: Request, caller: Caller = Depends(ckan_caller)
) -> JSONResponse:
    """A CKAN action (`package_search`, `datastore_search`, …; `help_show` documents each).

    Parameters come as a query string, a JSON object or a form; the reply is CKAN's envelope.
    """
    return await call(request, name, caller)


for _prefix in PREFIXES:
    for _path in (f"{_prefix}/{{name}}", f"{_prefix}/{{name}}/"):
        for _method in ("GET", "POST"):
            router.add_api_route(
                _path,
                action_endpoint,
                methods=[_method],
                include_in_schema=_path == "/api/3/action/{name}",
                summary="CKAN Action API v3",
                response_class=JSONResponse,
                name=f"ckan_action_{_method.lower()}",
            )
