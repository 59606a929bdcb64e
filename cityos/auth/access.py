"""Every endpoint declares who may call it, with one of these dependencies.

``public`` (anyone, credentials optional), ``authenticated`` (any signed-in user or token), or
``roles("admin", ...)``. tests/functional/test_access_declared.py fails when a route has none.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from fastapi import Request

from cityos.auth import services
from cityos.auth.principal import ANONYMOUS, Principal
from cityos.core.errors import ProblemError, forbidden, unauthenticated

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ACCESS_ATTR = "cityos_access"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "").strip()
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if header:
        return header  # CKAN clients send the raw token
    return request.headers.get("x-ckan-api-key") or None


def resolve_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = _resolve(request)
    request.state.principal = principal
    return principal


def _resolve(request: Request) -> Principal:
    db = request.app.state.db
    ip = request.client.host if request.client else None
    token = _bearer(request)
    if token:
        with db.session() as session:
            user = services.resolve_token(session, token)
            if user is None:
                raise ProblemError(
                    401,
                    "invalid_token",
                    "The API token is unknown, expired or revoked.",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            return services.principal_for(session, user, via_token=True, ip=ip)
    user_id = request.session.get("uid") if "session" in request.scope else None
    if not user_id:
        return ANONYMOUS
    with db.session() as session:
        from cityos.auth.models import User

        user = session.get(User, user_id)
        if user is None or not user.is_active:
            request.session.clear()
            return ANONYMOUS
        if request.method not in SAFE_METHODS and not request.scope.get("cityos_page"):
            _check_csrf_header(request)
        return services.principal_for(session, user, ip=ip)


def _check_csrf_header(request: Request) -> None:
    expected = request.session.get("csrf", "")
    given = request.headers.get("x-csrf-token", "")
    if not expected or not hmac.compare_digest(expected, given):
        raise ProblemError(403, "csrf_failed", "The form expired; reload the page and try again.")


def _tag(func: Callable[..., Any], label: str) -> Callable[..., Any]:
    setattr(func, ACCESS_ATTR, label)
    return func


def _public(request: Request) -> Principal:
    return resolve_principal(request)


def _authenticated(request: Request) -> Principal:
    principal = resolve_principal(request)
    if principal.is_anonymous:
        raise unauthenticated()
    return principal


public = _tag(_public, "public")
authenticated = _tag(_authenticated, "authenticated")


def roles(*names: str) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        principal = _authenticated(request)
        if not principal.has_any_role(*names):
            raise forbidden("This needs one of the roles: {roles}.", roles=", ".join(names))
        return principal

    return _tag(dependency, "roles:" + ",".join(names))


def declared_access(call: Any) -> str | None:
    return getattr(call, ACCESS_ATTR, None)
