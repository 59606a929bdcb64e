"""``code_context``: the access dependency of every call made with an authorization code.

Per call, in this order (the first failure answers, and is audited as ``exchange.denied``):

1. the code is read from ``Authorization: Bearer cos_…`` or ``X-Authorization-Code``; shape and
   checksum are checked without the database (401 ``code_invalid``);
2. ONE indexed query (cityos/exchange/lookup.py) reads the code row joined with its grant
   (``key_id`` is unique): nothing is cached between calls, so a revocation, suspension or grant change
   committed by any process applies to the next call everywhere;
3. HMAC-SM3(pepper, secret) is compared in constant time with the stored HMAC (a wrong secret
   answers like an unknown key id: 401 ``code_unknown``);
4. status and times: revoked 401 ``code_revoked``; suspended 403 ``code_suspended``; past its
   expiry or past the overlap of a rotation 401 ``code_expired``; grant not usable (suspended,
   revoked, outside its period) 403 ``grant_inactive``;
5. the code's token bucket (429 ``rate_limited`` with ``Retry-After``);
6. the use is counted (``last_used_at``/``use_count`` written in batches, about every second).
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request

from cityos.auth.access import _tag
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError
from cityos.core.i18n import lazy
from cityos.core.ratelimit import Limiter, LocalLimiter, make_limiter, retry_after
from cityos.exchange import codes
from cityos.exchange.lookup import Lookup
from cityos.exchange.writer import AuditWriter
from cityos.sharing.grants import today

log = logging.getLogger(__name__)
CODE_HEADER = "x-authorization-code"
_NO_SUCH_CODE = bytes(32)


@dataclass(frozen=True)
class CodeContext:
    """What a verified code may use (the grant as of this call)."""

    code_key_id: str
    grant_id: str
    resource_id: str
    service_id: str | None
    consumer_org_id: str
    provider_org_id: str
    items: tuple[str, ...]
    row_scope: dict[str, Any]
    allow_export: bool
    purpose: str
    ip: str | None = None
    grant_version: int = 1
    masking: dict[str, Any] = field(default_factory=dict)
    valid_from: date | None = None
    valid_until: date | None = None
    expires_at: datetime | None = None

    def detail(self, result: str = "ok", **more: Any) -> dict[str, Any]:
        """The audit detail of a call (contract of issue 3), completed by the caller."""
        return {
            "code": self.code_key_id,
            "consumer_org_id": self.consumer_org_id,
            "provider_org_id": self.provider_org_id,
            "resource_id": self.resource_id,
            "service_id": self.service_id,
            "items": [],
            "rows": 0,
            "row_ids": [],
            "purpose": self.purpose,
            "result": result,
            "ip": self.ip,
            "filters": {},
            **more,
        }


# ----------------------------------------------------------------------------- per-app state


class Runtime:
    """The exchange's per-process state of one app: audit writer, rate limiter, plan cache."""

    def __init__(self, app: FastAPI) -> None:
        settings = app.state.settings
        self.writer = AuditWriter(app.state.db)
        self.limiter: Limiter = make_limiter(settings.redis_url)
        self.fallback = LocalLimiter()
        self.plans: dict[str, Any] = {}
        self._db = app.state.db
        self._pepper: bytes | None = None
        self.lookup = Lookup(app.state.db.engine)

    def pepper(self) -> bytes:
        if self._pepper is None:
            with self._db.session() as session:
                self._pepper = codes.pepper(session)
        return self._pepper


_runtimes: weakref.WeakSet[Runtime] = weakref.WeakSet()
_runtime_lock = threading.Lock()


def runtime(app: FastAPI) -> Runtime:
    found: Runtime | None = getattr(app.state, "exchange_runtime", None)
    if found is not None:
        return found
    with _runtime_lock:
        found = getattr(app.state, "exchange_runtime", None)
        if found is None:
            found = Runtime(app)
            app.state.exchange_runtime = found
            _runtimes.add(found)
    return found


def close_runtime(app: FastAPI) -> None:
    """Commit the queued audit records and the codes' last use; stop the writer."""
    found = getattr(app.state, "exchange_runtime", None)
    if found is not None:
        found.writer.close()
        found.limiter.close()
        found.lookup.close()


# ----------------------------------------------------------------------------- verification


def presented_code(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get(CODE_HEADER) or None


def _problem(status: int, code: str, message: str, **headers: str) -> ProblemError:
    extra = dict(headers)
    if status == 401:
        extra.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
    return ProblemError(status, code, message, headers=extra)


async def deny(
    request: Request, problem: ProblemError, key_id: str | None, row: Any = None
) -> ProblemError:
    """Write the ``exchange.denied`` record (committed) and return the problem to raise."""
    detail: dict[str, Any] = {
        "code": key_id,
        "consumer_org_id": row.consumer_org_id if row is not None else None,
        "provider_org_id": row.provider_org_id if row is not None else None,
        "resource_id": row.resource_id if row is not None else None,
        "service_id": row.service_id if row is not None else None,
        "grant_id": row.grant_id if row is not None else None,
        "items": [],
        "rows": 0,
        "row_ids": [],
        "purpose": row.purpose if row is not None else None,
        "result": problem.code,
        "ip": request.client.host if request.client else None,
        "filters": {},
        "path": request.url.path,
    }
    await runtime(request.app).writer.write("exchange.denied", "code", key_id, detail)
    return problem


def _check(row: Any, now: datetime, day: date) -> ProblemError | None:
    if row.status == "revoked":
        return _problem(401, "code_revoked", lazy("The authorization code was revoked."))
    if row.status == "suspended":
        return _problem(403, "code_suspended", lazy("The authorization code is suspended."))
    if row.expires_at <= now or (row.overlap_until is not None and row.overlap_until <= now):
        return _problem(401, "code_expired", lazy("The authorization code has expired."))
    if (
        row.grant_status != "active"
        or row.valid_from is None
        or not (row.valid_from <= day <= row.valid_until)
    ):
        return ProblemError(403, "grant_inactive", "The grant of this code is not in force.")
    return None


async def _rate(request: Request, key_id: str, per_minute: int) -> float:
    rt = runtime(request.app)
    try:
        return await rt.limiter.take(key_id, per_minute)
    except Exception:  # Redis unreachable: keep limiting, per process
        log.warning("rate limiter unavailable; using this process's buckets", exc_info=True)
        return await rt.fallback.take(key_id, per_minute)


async def _code_context(request: Request) -> CodeContext:
    text = presented_code(request)
    if not text:
        missing = _problem(
            401, "code_missing", lazy("Present an authorization code (Bearer cos_…).")
        )
        raise await deny(request, missing, None)
    invalid_code: ProblemError | None = None
    try:
        parsed = codes.parse(text)
    except ProblemError as bad:
        invalid_code = bad
    if invalid_code is not None:
        raise await deny(request, invalid_code, codes.key_id_of(text))
    rt = runtime(request.app)
    row = rt.lookup.fetch(parsed.key_id)
    stored = row.secret_hmac if row is not None else _NO_SUCH_CODE  # same work either way
    if not codes.secret_matches(rt.pepper(), parsed.secret, stored) or row is None:
        unknown = _problem(401, "code_unknown", lazy("The authorization code is unknown."))
        raise await deny(request, unknown, parsed.key_id)
    refused = _check(row, utcnow(), today())
    if refused is not None:
        raise await deny(request, refused, parsed.key_id, row)
    wait = await _rate(request, parsed.key_id, int(row.rate_limit_per_minute))
    if wait > 0:
        limited = ProblemError(
            429,
            "rate_limited",
            "Too many calls with this authorization code; try again later.",
            headers={"Retry-After": retry_after(wait)},
        )
        raise await deny(request, limited, parsed.key_id, row)
    runtime(request.app).writer.touch(parsed.key_id)
    assert row.grant_id and row.resource_id and row.consumer_org_id and row.provider_org_id
    return CodeContext(
        code_key_id=parsed.key_id,
        grant_id=row.grant_id,
        resource_id=row.resource_id,
        service_id=row.service_id,
        consumer_org_id=row.consumer_org_id,
        provider_org_id=row.provider_org_id,
        items=tuple(row.items),
        row_scope=row.row_scope,
        allow_export=bool(row.allow_export),
        purpose=row.purpose or "",
        ip=request.client.host if request.client else None,
        grant_version=int(row.version),
        masking=row.masking,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        expires_at=row.expires_at,
    )


code_context = _tag(_code_context, "code")
