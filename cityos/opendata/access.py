"""Access to the open data API: ``open_caller`` (access tag ``open``: anyone, key optional).

Per call:
1. ``open_caller`` reads a key from ``Authorization: Bearer cos_…`` or ``X-API-Key``; shape and
   checksum are checked without the database (401 ``code_invalid``), then ONE indexed query reads
   the key (cityos.exchange.open_keys.lookup) and its secret's HMAC is compared in constant time
   (401 ``code_unknown``); a key that is not an open data key answers ``code_unknown`` too;
   revoked 401 ``code_revoked``, suspended 403 ``code_suspended``, expired 401 ``code_expired``.
   Without a key the caller is anonymous (the catalogue is read as ANONYMOUS either way);
2. ``admit`` (by the endpoint, once it knows the dataset): 有条件开放 data needs a key scoped to
   the dataset (no key 401 ``key_required``, another key 403 ``key_not_scoped``); then the
   per-minute bucket (429 ``rate_limited``) and the daily quota (429 ``quota_exceeded``, with
   ``Retry-After`` = seconds to the next midnight in Asia/Shanghai) of the key, or of the client
   IP for anonymous calls. Keyed answers carry ``X-RateLimit-Limit`` / ``-Remaining`` (per day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from cityos.auth.access import _tag
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError
from cityos.core.ratelimit import retry_after
from cityos.exchange import codes, open_keys
from cityos.exchange.access import runtime
from cityos.opendata import quota

API_KEY_HEADER = "x-api-key"
_NO_SUCH_KEY = bytes(32)


@dataclass
class OpenCaller:
    key_id: str | None = None
    owner_user_id: str | None = None
    scope_resource_id: str | None = None
    per_minute: int = 0
    daily_quota: int = 0
    ip: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def keyed(self) -> bool:
        return self.key_id is not None


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get(API_KEY_HEADER) or None


def _unauthorized(code: str, message: str) -> ProblemError:
    return ProblemError(
        401, code, message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def _refusal(row: Any) -> ProblemError | None:
    if row.status == "revoked":
        return _unauthorized("code_revoked", "The API key was revoked.")
    if row.status == "suspended":
        return ProblemError(403, "code_suspended", "The API key is suspended.")
    if row.expires_at <= utcnow():
        return _unauthorized("code_expired", "The API key has expired.")
    return None


async def _open_caller(request: Request) -> OpenCaller:
    ip = request.client.host if request.client else ""
    text = presented_key(request)
    if not text:
        return OpenCaller(ip=ip)
    parsed = codes.parse(text)  # 401 code_invalid, no database access
    rt = runtime(request.app)
    db = request.app.state.db
    row = await run_in_threadpool(open_keys.lookup, db, parsed.key_id)
    stored = row.secret_hmac if row is not None else _NO_SUCH_KEY  # same work either way
    matches = codes.secret_matches(rt.pepper(), parsed.secret, stored)
    if not matches or row is None or row.purpose != open_keys.PURPOSE:
        raise _unauthorized("code_unknown", "The API key is unknown.")
    refused = _refusal(row)
    if refused is not None:
        raise refused
    return OpenCaller(
        key_id=row.key_id,
        owner_user_id=row.owner_user_id,
        scope_resource_id=row.scope_resource_id,
        per_minute=int(row.rate_limit_per_minute),
        daily_quota=int(row.daily_quota),
        ip=ip,
    )


open_caller = _tag(_open_caller, "open")


def check_scope(caller: OpenCaller, resource_id: str, open_type: str) -> None:
    """有条件开放 data: only a key scoped to this dataset."""
    if open_type == "unconditional":
        return
    if not caller.keyed:
        raise _unauthorized(
            "key_required", "This dataset is open on conditions: call it with your API key."
        )
    if caller.scope_resource_id != resource_id:
        raise ProblemError(
            403, "key_not_scoped", "This API key was not issued for this dataset; apply for it."
        )


async def admit(request: Request, caller: OpenCaller, resource_id: str, open_type: str) -> None:
    """Scope, then the per-minute and daily quotas; sets the rate-limit headers on ``caller``."""
    check_scope(caller, resource_id, open_type)
    settings = request.app.state.settings
    q = quota.quotas(request.app)
    if caller.keyed:
        assert caller.key_id is not None
        subject, per_minute, per_day = "key:" + caller.key_id, caller.per_minute, caller.daily_quota
    else:
        subject = "ip:" + caller.ip
        per_minute, per_day = settings.open_anon_per_minute, settings.open_anon_per_day
    wait = await q.per_minute(subject, per_minute)
    if wait > 0:
        raise ProblemError(
            429,
            "rate_limited",
            "Too many calls per minute; try again later.",
            headers={"Retry-After": retry_after(wait)},
        )
    ts = quota.now_ts()
    day = await q.per_day(subject, per_day, ts)
    headers = {"X-RateLimit-Limit": str(day.limit), "X-RateLimit-Remaining": str(day.remaining)}
    if day.exceeded:
        raise ProblemError(
            429,
            "quota_exceeded",
            "The daily quota of {limit} calls is used up; it resets at midnight (Beijing time).",
            headers={**headers, "Retry-After": str(quota.seconds_to_midnight(ts))},
            limit=day.limit,
        )
    if caller.keyed:
        caller.headers = headers
        assert caller.key_id is not None
        runtime(request.app).writer.touch(caller.key_id)
