"""CKAN's error types, as its API controller reports them (``__type``, HTTP status)."""

from __future__ import annotations

from typing import Any

from cityos.core.errors import ProblemError


class CkanError(Exception):
    """An action failed; rendered as ``{"success": false, "error": {...}}``."""

    kind = "Bad Request"
    status = 400
    prefix = "Bad request"

    def __init__(self, detail: str = "", fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = fields or {}

    @property
    def message(self) -> str:
        if not self.detail:
            return self.prefix
        sep = " - " if self.kind == "Bad Request" else ": "
        return f"{self.prefix}{sep}{self.detail}"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.kind, "message": self.message}
        body.update(self.fields)
        return body


class NotFound(CkanError):
    kind = "Not Found Error"
    status = 404
    prefix = "Not found"


class NotAuthorized(CkanError):
    kind = "Authorization Error"
    status = 403
    prefix = "Access denied"


class ValidationFailed(CkanError):
    """CKAN answers validation errors with 409 and one list of messages per field."""

    kind = "Validation Error"
    status = 409
    prefix = "Validation Error"

    def __init__(self, fields: dict[str, list[str]]) -> None:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in fields.items())
        super().__init__(detail, fields)


class SearchQueryError(CkanError):
    kind = "Search Query Error"
    status = 400
    prefix = "Search Query is invalid"


def from_problem(problem: ProblemError) -> CkanError:
    """A service's problem as the CKAN error a client expects."""
    if problem.status == 404:
        return NotFound(problem.detail)
    if problem.status in (401, 403):
        return NotAuthorized(problem.detail)
    if problem.status in (400, 409, 422):
        fields: dict[str, list[str]] = {}
        for err in problem.errors:
            fields.setdefault(str(err.get("field") or "__all__"), []).append(
                str(err.get("message"))
            )
        return ValidationFailed(fields or {"__all__": [problem.detail]})
    return CkanError(problem.detail)
