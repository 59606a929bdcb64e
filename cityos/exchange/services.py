"""Authorization codes: issue, rotate, suspend, resume, revoke, list, rate limit.

Rules (docs/exchange.md):
- one code belongs to one grant; it is issued by the consumer department's data officers (or the
  bureau) while the grant is usable;
- the expiry is mandatory: after now, at most ``MAX_LIFETIME`` (366 days) ahead and not after the
  end of the grant's last valid day (23:59:59 Asia/Shanghai); a later expiry is refused
  (422 ``expiry_after_grant``), not silently shortened;
- rotation issues a new code for the same grant; the old one keeps working until
  ``overlap_until`` = now + overlap (``CITYOS_CODE_ROTATION_OVERLAP_HOURS``, default 24 h);
- suspension (reversible) and revocation (final) take effect on the next call in every process:
  each call reads the code row;
- the plaintext is returned once by ``issue_code``/``rotate_code`` and never stored, logged or
  audited; nor is the HMAC.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, forbidden, invalid, not_found
from cityos.core.i18n import DISPLAY_TZ
from cityos.exchange import codes
from cityos.exchange.models import AuthorizationCode
from cityos.sharing.grants import is_usable
from cityos.sharing.models import Grant

MAX_LIFETIME = timedelta(days=366)
DEFAULT_RATE_PER_MINUTE = 600
MAX_RATE_PER_MINUTE = 1_000_000
DEFAULT_OVERLAP_HOURS = 24


def grant_end(grant: Grant) -> datetime:
    """The last instant a grant is valid: the end of ``valid_until`` in Asia/Shanghai."""
    return datetime.combine(grant.valid_until, time(23, 59, 59), tzinfo=DISPLAY_TZ)


def can_issue(actor: Principal | None, grant: Grant) -> bool:
    """The consumer department's data officers, and the bureau."""
    return actor is None or actor.is_admin or actor.is_officer_of(grant.consumer_org_id)


def can_see(actor: Principal | None, grant: Grant) -> bool:
    """Consumer and provider members, the bureau and security reviewers."""
    if actor is None or actor.sees_everything:
        return True
    return bool({grant.consumer_org_id, grant.provider_org_id} & actor.org_ids)


def can_stop(actor: Principal | None, grant: Grant) -> bool:
    """Suspend / revoke: the consumer's and the provider's data officers, and the bureau."""
    if actor is None or actor.is_admin:
        return True
    return actor.is_officer_of(grant.consumer_org_id) or actor.is_officer_of(grant.provider_org_id)


def status_of(code: AuthorizationCode, now: datetime | None = None) -> str:
    """active | suspended | revoked | expired | rotated (in its overlap) — for lists and pages."""
    now = now or utcnow()
    if code.status != "active":
        return code.status
    if code.expires_at <= now or (code.overlap_until is not None and code.overlap_until <= now):
        return "expired"
    if code.rotated_to is not None:
        return "rotating"
    return "active"


def _check_expiry(grant: Grant, expires_at: datetime, now: datetime) -> datetime:
    if expires_at.tzinfo is None:
        raise invalid("expiry_naive", "Give the expiry with a time zone.")
    if expires_at <= now:
        raise invalid("expiry_past", "The expiry must be in the future.")
    if expires_at > now + MAX_LIFETIME:
        raise invalid("expiry_too_far", "A code is valid for at most 366 days.")
    if expires_at > grant_end(grant):
        raise invalid(
            "expiry_after_grant",
            "The code cannot outlive its grant (valid until {day}).",
            day=grant.valid_until.isoformat(),
        )
    return expires_at


def _new_row(
    session: Session,
    grant: Grant,
    actor: Principal | None,
    expires_at: datetime,
    label: str,
    rate: int,
) -> tuple[AuthorizationCode, str]:
    plaintext, key_id, secret = codes.new_code()
    row = AuthorizationCode(
        key_id=key_id,
        secret_hmac=codes.secret_hmac(codes.pepper(session), secret),
        purpose="grant",
        grant_id=grant.id,
        owner_org_id=grant.consumer_org_id,
        owner_user_id=actor.user_id if actor else None,
        label=label.strip()[:100],
        status="active",
        created_at=utcnow(),
        created_by=actor.user_id if actor else None,
        expires_at=expires_at,
        rate_limit_per_minute=rate,
    )
    session.add(row)
    session.flush()
    return row, plaintext


def issue_code(
    session: Session,
    grant: Grant,
    actor: Principal | None,
    *,
    expires_at: datetime,
    label: str = "",
    rate_limit_per_minute: int = DEFAULT_RATE_PER_MINUTE,
) -> tuple[AuthorizationCode, str]:
    """A new code for a usable grant: (row, plaintext). Show the plaintext once; it is not kept."""
    if not can_issue(actor, grant):
        raise forbidden("Only the consumer department's data officers may issue codes.")
    if not is_usable(grant):
        raise ProblemError(403, "grant_inactive", "The grant is not in force.")
    now = utcnow()
    _check_expiry(grant, expires_at, now)
    _check_rate(rate_limit_per_minute)
    row, plaintext = _new_row(session, grant, actor, expires_at, label, rate_limit_per_minute)
    audit(
        session,
        actor,
        "exchange.code.issue",
        "code",
        row.key_id,
        grant_id=grant.id,
        label=row.label,
        expires_at=expires_at.isoformat(),
        rate_limit_per_minute=rate_limit_per_minute,
    )
    return row, plaintext


def get_code(session: Session, key_id: str) -> AuthorizationCode:
    row = session.scalar(select(AuthorizationCode).where(AuthorizationCode.key_id == key_id))
    if row is None:
        raise not_found("code", key_id)
    return row


def _grant_of(session: Session, code: AuthorizationCode) -> Grant:
    grant = session.get(Grant, code.grant_id) if code.grant_id else None
    if grant is None:
        raise not_found("grant")
    return grant


def rotate_code(
    session: Session,
    key_id: str,
    actor: Principal | None,
    *,
    overlap: timedelta | None = None,
    expires_at: datetime | None = None,
) -> tuple[AuthorizationCode, str]:
    """A new code replacing ``key_id``; the old one works until now + overlap, then is refused."""
    old = get_code(session, key_id)
    grant = _grant_of(session, old)
    if not can_issue(actor, grant):
        raise forbidden("Only the consumer department's data officers may issue codes.")
    now = utcnow()
    if status_of(old, now) not in ("active",):
        raise conflict("code_state", "Only an active code that was not rotated can be rotated.")
    if not is_usable(grant):
        raise ProblemError(403, "grant_inactive", "The grant is not in force.")
    overlap = overlap if overlap is not None else timedelta(hours=DEFAULT_OVERLAP_HOURS)
    if overlap < timedelta(0) or overlap > timedelta(days=30):
        raise invalid("bad_overlap", "The overlap is between 0 and 30 days.")
    new_expiry = expires_at or old.expires_at
    _check_expiry(grant, new_expiry, now)
    new, plaintext = _new_row(
        session, grant, actor, new_expiry, old.label, old.rate_limit_per_minute
    )
    old.rotated_to = new.key_id
    old.overlap_until = min(now + overlap, old.expires_at)
    session.flush()
    audit(
        session,
        actor,
        "exchange.code.rotate",
        "code",
        old.key_id,
        grant_id=grant.id,
        new_code=new.key_id,
        overlap_until=old.overlap_until.isoformat(),
        expires_at=new_expiry.isoformat(),
    )
    return new, plaintext


def _stop(
    session: Session, key_id: str, actor: Principal | None, reason: str, target: str
) -> AuthorizationCode:
    code = get_code(session, key_id)
    grant = _grant_of(session, code)
    if not can_stop(actor, grant):
        raise forbidden("Only the grant's departments or the bureau may stop a code.")
    if not reason.strip():
        raise invalid("reason_required", "Give a reason.")
    allowed = {"suspended": {"active"}, "revoked": {"active", "suspended"}}[target]
    if code.status not in allowed:
        raise conflict(
            "code_state",
            "The code is {state}; it cannot be changed that way.",
            state=code.status,
        )
    code.status = target
    if target == "revoked":
        code.revoked_at = utcnow()
        code.revoked_by = actor.user_id if actor else None
    code.revoke_reason = reason.strip()
    session.flush()
    action = "exchange.code.revoke" if target == "revoked" else "exchange.code.suspend"
    audit(session, actor, action, "code", code.key_id, grant_id=grant.id, reason=reason.strip())
    return code


def revoke_code(
    session: Session, key_id: str, actor: Principal | None, reason: str
) -> AuthorizationCode:
    """Final: refused (401 ``code_revoked``) from the next call on, in every process."""
    return _stop(session, key_id, actor, reason, "revoked")


def suspend_code(
    session: Session, key_id: str, actor: Principal | None, reason: str
) -> AuthorizationCode:
    """Reversible: refused (403 ``code_suspended``) until resumed. Incident rules call this."""
    return _stop(session, key_id, actor, reason, "suspended")


def resume_code(session: Session, key_id: str, actor: Principal | None) -> AuthorizationCode:
    """A suspended code works again (the bureau, or the provider's data officers)."""
    code = get_code(session, key_id)
    grant = _grant_of(session, code)
    if not (actor is None or actor.is_admin or actor.is_officer_of(grant.provider_org_id)):
        raise forbidden("Only the provider's data officers or the bureau may resume a code.")
    if code.status != "suspended":
        raise conflict(
            "code_state",
            "The code is {state}; it cannot be changed that way.",
            state=code.status,
        )
    code.status = "active"
    code.revoke_reason = ""
    session.flush()
    audit(session, actor, "exchange.code.resume", "code", code.key_id, grant_id=grant.id)
    return code


def _check_rate(per_minute: int) -> None:
    if not 1 <= per_minute <= MAX_RATE_PER_MINUTE:
        raise invalid("bad_rate_limit", "The rate limit is between 1 and 1,000,000 per minute.")


def set_rate_limit(
    session: Session, key_id: str, actor: Principal | None, per_minute: int
) -> AuthorizationCode:
    """Calls per minute allowed for this code (the provider's officers or the bureau)."""
    code = get_code(session, key_id)
    grant = _grant_of(session, code)
    if not (actor is None or actor.is_admin or actor.is_officer_of(grant.provider_org_id)):
        raise forbidden("Only the provider's data officers or the bureau may set the rate limit.")
    _check_rate(per_minute)
    previous = code.rate_limit_per_minute
    code.rate_limit_per_minute = per_minute
    session.flush()
    audit(
        session,
        actor,
        "exchange.code.rate_limit",
        "code",
        code.key_id,
        grant_id=grant.id,
        previous=previous,
        per_minute=per_minute,
    )
    return code


def list_codes(session: Session, grant_id: str) -> list[AuthorizationCode]:
    """The codes of a grant, newest first (rows carry the HMAC: never show or return it)."""
    return list(
        session.scalars(
            select(AuthorizationCode)
            .where(AuthorizationCode.grant_id == grant_id)
            .order_by(AuthorizationCode.created_at.desc(), AuthorizationCode.key_id)
        )
    )


def list_codes_for_org(session: Session, org_id: str) -> list[AuthorizationCode]:
    return list(
        session.scalars(
            select(AuthorizationCode)
            .where(AuthorizationCode.owner_org_id == org_id)
            .order_by(AuthorizationCode.created_at.desc(), AuthorizationCode.key_id)
        )
    )


def code_summary(code: AuthorizationCode, now: datetime | None = None) -> dict[str, object]:
    """What may be shown of a code: never the secret nor its HMAC."""
    return {
        "key_id": code.key_id,
        "grant_id": code.grant_id,
        "label": code.label,
        "status": status_of(code, now),
        "created_at": code.created_at,
        "expires_at": code.expires_at,
        "overlap_until": code.overlap_until,
        "rotated_to": code.rotated_to,
        "last_used_at": code.last_used_at,
        "use_count": code.use_count,
        "rate_limit_per_minute": code.rate_limit_per_minute,
        "revoke_reason": code.revoke_reason,
    }
