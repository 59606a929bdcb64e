"""Open data API keys: authorization codes with purpose ``open_data`` owned by a user.

Same text and HMAC as the exchange's codes (cityos/exchange/codes.py); the plaintext is returned
once by ``issue_open_key`` and never stored, logged or audited.

- a general key (no ``scope_resource_id``) calls every 无条件开放 dataset; a user holds at most
  ``MAX_LIVE_GENERAL_KEYS`` live general keys;
- a scoped key (``scope_resource_id`` set, issued on an approved 有条件开放 application) calls
  that dataset too;
- ``daily_quota`` calls per day (Asia/Shanghai), ``rate_limit_per_minute`` per minute;
- the expiry defaults to one year; revocation applies on the next call (each call reads the row).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.db import Database, utcnow
from cityos.core.errors import conflict, forbidden, invalid, not_found
from cityos.exchange import codes
from cityos.exchange.models import AuthorizationCode

PURPOSE = "open_data"
DEFAULT_LIFETIME = timedelta(days=365)
MAX_LIFETIME = timedelta(days=366)
DEFAULT_DAILY_QUOTA = 10_000
MAX_DAILY_QUOTA = 10_000_000
DEFAULT_RATE_PER_MINUTE = 600
MAX_LIVE_GENERAL_KEYS = 5


def _check_expiry(expires_at: datetime, now: datetime) -> datetime:
    if expires_at.tzinfo is None:
        raise invalid("expiry_naive", "Give the expiry with a time zone.")
    if expires_at <= now:
        raise invalid("expiry_past", "The expiry must be in the future.")
    if expires_at > now + MAX_LIFETIME:
        raise invalid("expiry_too_far", "A code is valid for at most 366 days.")
    return expires_at


def _check_quota(daily_quota: int) -> int:
    if not 1 <= daily_quota <= MAX_DAILY_QUOTA:
        raise invalid("bad_daily_quota", "The daily quota is between 1 and 10,000,000 calls.")
    return daily_quota


def live_general_keys(session: Session, user_id: str, now: datetime | None = None) -> int:
    """How many active, unexpired, unscoped open data keys the user holds."""
    now = now or utcnow()
    return int(
        session.scalar(
            select(func.count())
            .select_from(AuthorizationCode)
            .where(
                AuthorizationCode.purpose == PURPOSE,
                AuthorizationCode.owner_user_id == user_id,
                AuthorizationCode.scope_resource_id.is_(None),
                AuthorizationCode.status == "active",
                AuthorizationCode.expires_at > now,
            )
        )
        or 0
    )


def _may_issue_for(actor: Principal, user_id: str) -> bool:
    return actor.is_admin or actor.user_id == user_id


def issue_open_key(
    session: Session,
    *,
    user_id: str,
    label: str,
    actor: Principal,
    scope_resource_id: str | None = None,
    expires_at: datetime | None = None,
    daily_quota: int | None = None,
) -> tuple[AuthorizationCode, str]:
    """A new open data key for ``user_id``: (row, plaintext). Show the plaintext once.

    ``actor`` is the user themselves or an admin; a scoped key is issued by the caller that
    checked the approved application (cityos.opendata.applications), with the applicant as actor.
    """
    if actor.is_anonymous or not _may_issue_for(actor, user_id):
        raise forbidden("You may only create keys for yourself.")
    now = utcnow()
    expiry = _check_expiry(expires_at or now + DEFAULT_LIFETIME, now)
    quota = _check_quota(daily_quota if daily_quota is not None else DEFAULT_DAILY_QUOTA)
    if scope_resource_id is None and live_general_keys(session, user_id, now) >= (
        MAX_LIVE_GENERAL_KEYS
    ):
        raise conflict(
            "too_many_keys",
            "You already hold {n} active keys; revoke one first.",
            n=MAX_LIVE_GENERAL_KEYS,
        )
    plaintext, key_id, secret = codes.new_code()
    row = AuthorizationCode(
        key_id=key_id,
        secret_hmac=codes.secret_hmac(codes.pepper(session), secret),
        purpose=PURPOSE,
        owner_user_id=user_id,
        label=label.strip()[:100],
        status="active",
        created_at=now,
        created_by=actor.user_id,
        expires_at=expiry,
        rate_limit_per_minute=DEFAULT_RATE_PER_MINUTE,
        scope_resource_id=scope_resource_id,
        daily_quota=quota,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor,
        "opendata.key.issue",
        "code",
        key_id,
        owner_user_id=user_id,
        label=row.label,
        scope_resource_id=scope_resource_id,
        daily_quota=quota,
        expires_at=expiry.isoformat(),
    )
    return row, plaintext


def get_open_key(session: Session, key_id: str) -> AuthorizationCode:
    row = session.scalar(
        select(AuthorizationCode).where(
            AuthorizationCode.key_id == key_id, AuthorizationCode.purpose == PURPOSE
        )
    )
    if row is None:
        raise not_found("key", key_id)
    return row


def revoke_open_key(
    session: Session, key_id: str, actor: Principal | None, reason: str = ""
) -> AuthorizationCode:
    """Final: refused from the next call on. The owner or an admin (``None`` = the system)."""
    row = get_open_key(session, key_id)
    if actor is not None and not (actor.is_admin or actor.user_id == row.owner_user_id):
        raise not_found("key", key_id)
    if row.status == "revoked":
        raise conflict("code_state", "The key is already revoked.")
    row.status = "revoked"
    row.revoked_at = utcnow()
    row.revoked_by = actor.user_id if actor else None
    row.revoke_reason = reason.strip()[:500]
    session.flush()
    audit(session, actor, "opendata.key.revoke", "code", key_id, reason=row.revoke_reason)
    return row


def list_open_keys(session: Session, user_id: str) -> list[AuthorizationCode]:
    """The user's open data keys, newest first (rows carry the HMAC: never show it)."""
    return list(
        session.scalars(
            select(AuthorizationCode)
            .where(
                AuthorizationCode.purpose == PURPOSE,
                AuthorizationCode.owner_user_id == user_id,
            )
            .order_by(AuthorizationCode.created_at.desc(), AuthorizationCode.key_id)
        )
    )


def key_status(row: AuthorizationCode, now: datetime | None = None) -> str:
    """active | revoked | suspended | expired."""
    now = now or utcnow()
    if row.status != "active":
        return row.status
    return "expired" if row.expires_at <= now else "active"


def key_summary(row: AuthorizationCode, now: datetime | None = None) -> dict[str, object]:
    """What may be shown of a key: never the secret nor its HMAC."""
    return {
        "key_id": row.key_id,
        "label": row.label,
        "status": key_status(row, now),
        "scope_resource_id": row.scope_resource_id,
        "daily_quota": row.daily_quota,
        "rate_limit_per_minute": row.rate_limit_per_minute,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "last_used_at": row.last_used_at,
        "use_count": row.use_count,
    }


_LOOKUP = select(
    AuthorizationCode.key_id,
    AuthorizationCode.secret_hmac,
    AuthorizationCode.purpose,
    AuthorizationCode.owner_user_id,
    AuthorizationCode.status,
    AuthorizationCode.expires_at,
    AuthorizationCode.rate_limit_per_minute,
    AuthorizationCode.daily_quota,
    AuthorizationCode.scope_resource_id,
)


def lookup(db: Database, key_id: str) -> Any:
    """ONE indexed query per call (nothing cached: a revocation applies to the next call)."""
    with db.engine.connect() as conn:
        return conn.execute(_LOOKUP.where(AuthorizationCode.key_id == key_id)).first()
