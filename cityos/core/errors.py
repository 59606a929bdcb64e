"""RFC 9457 problem details with a machine-readable code and a zh-Hans/English message."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityos.core.i18n import gettext, lazy

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

DEFAULT_TITLE = lazy("Error")
STATUS_TITLES = {
    400: lazy("Bad request"),
    401: lazy("Authentication required"),
    403: lazy("Forbidden"),
    404: lazy("Not found"),
    405: lazy("Method not allowed"),
    409: lazy("Conflict"),
    413: lazy("Payload too large"),
    415: lazy("Unsupported media type"),
    422: lazy("Invalid input"),
    429: lazy("Too many requests"),
    500: lazy("Internal error"),
}


class ProblemError(Exception):
    """Raise from any service or endpoint; rendered as problem+json (or a page)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(message.format(**params) if params else message)
        self.status = status
        self.code = code
        self.message = message
        self.params = params
        self.errors = errors or []
        self.headers = headers or {}

    @property
    def detail(self) -> str:
        return gettext(self.message, **self.params)

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:cityos:problem:{self.code}",
            "title": gettext(STATUS_TITLES.get(self.status, DEFAULT_TITLE)),
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found(what: str = "resource", ident: str = "") -> ProblemError:
    return ProblemError(404, "not_found", "Not found: {what} {ident}", what=what, ident=ident)


def forbidden(message: str = "You are not allowed to do this.", **params: Any) -> ProblemError:
    return ProblemError(403, "forbidden", message, **params)


def unauthenticated() -> ProblemError:
    return ProblemError(
        401,
        "unauthenticated",
        "Authentication required: send an API token as 'Authorization: Bearer <token>'.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def conflict(code: str, message: str, **params: Any) -> ProblemError:
    return ProblemError(409, code, message, **params)


def invalid(code: str, message: str, **params: Any) -> ProblemError:
    return ProblemError(422, code, message, **params)


def problem_response(problem: ProblemError, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.to_dict(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        kind = str(err.get("type", "invalid"))
        if kind == "extra_forbidden":
            message = gettext("Unknown field: {field}", field=loc[-1] if loc else "")
        elif kind == "missing":
            message = gettext("Required field is missing: {field}", field=loc[-1] if loc else "")
        else:
            message = gettext("Invalid value: {reason}", reason=str(err.get("msg", "")))
        out.append({"field": ".".join(loc), "code": kind, "message": message})
    return out


def install_error_handlers(app: FastAPI, *, render_page: Any = None) -> None:
    """JSON callers get problem+json; browsers on pages get a friendly page (render_page)."""

    def wants_page(request: Request) -> bool:
        return render_page is not None and request.scope.get("cityos_page", False)

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Any:
        if wants_page(request):
            return render_page(request, exc)
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Any:
        problem = ProblemError(
            422, "validation_error", "The request is invalid.", errors=_validation_errors(exc)
        )
        if wants_page(request):
            return render_page(request, problem)
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        problem = ProblemError(
            exc.status_code,
            codes.get(exc.status_code, f"http_{exc.status_code}"),
            STATUS_TITLES.get(exc.status_code, DEFAULT_TITLE),
        )
        if wants_page(request):
            return render_page(request, problem)
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = ProblemError(500, "internal_error", "An internal error occurred.")
        return problem_response(problem, request)
