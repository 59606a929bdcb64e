"""Grants: the one place that creates them, changes their state and says whether one is usable.

Other domains (exchange, interface services, incidents) call these functions; they never write
``sharing_grants`` themselves. A grant is usable on a day when it is active and the day lies in
[valid_from, valid_until]. Revocation and suspension are a committed row update, so every process
sees them on its next call (the exchange reads the grant on every call).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.catalog.models import Resource
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, invalid, not_found
from cityos.core.i18n import DISPLAY_TZ
from cityos.crypto.envelope import decrypt_value, encrypt_value
from cityos.sharing.labels import label
from cityos.sharing.models import Grant

PSEUDONYM_PURPOSE = "sharing.pseudonym"


def today() -> date:
    """The current date in Haikou: grant periods are calendar days in Asia/Shanghai."""
    return utcnow().astimezone(DISPLAY_TZ).date()


def _next_number(session: Session, prefix: str, model: Any, at: datetime) -> str:
    stem = f"{prefix}-{at.astimezone(DISPLAY_TZ):%Y%m%d}-"
    count = session.scalar(select(func.count()).where(model.number.like(stem + "%"))) or 0
    return f"{stem}{count + 1:04d}"


def create_grant(
    session: Session,
    *,
    resource: Resource,
    consumer_org_id: str,
    items: list[str],
    valid_from: date,
    valid_until: date,
    actor: Principal | None,
    kind: str = "request",
    purpose: str = "",
    row_scope: dict[str, Any] | None = None,
    allow_export: bool = False,
    request_id: str | None = None,
    service_id: str | None = None,
    masking: dict[str, Any] | None = None,
) -> Grant:
    if valid_until < valid_from:
        raise invalid("bad_period", "The period ends before it starts.")
    if resource.share_type == "none":
        raise conflict(
            "not_shareable",
            "This resource is not shared (不予共享). Legal basis: {basis}",
            basis=resource.share_basis or "—",
        )
    if consumer_org_id == resource.provider_id:
        raise invalid("own_resource", "A department does not need a grant for its own data.")
    now = utcnow()
    grant = Grant(
        number=_next_number(session, "SQ", Grant, now),
        kind=kind,
        resource_id=resource.id,
        service_id=service_id,
        provider_org_id=resource.provider_id,
        consumer_org_id=consumer_org_id,
        request_id=request_id,
        items=list(items),
        row_scope=dict(row_scope or {}),
        purpose=purpose,
        valid_from=valid_from,
        valid_until=valid_until,
        allow_export=allow_export,
        masking=dict(masking or {}),
        pseudonym_key=encrypt_value(session, PSEUDONYM_PURPOSE, secrets.token_bytes(32)),
        status="active",
        created_at=now,
        created_by=actor.user_id if actor else None,
    )
    session.add(grant)
    session.flush()
    audit(
        session,
        actor,
        "sharing.grant.create",
        "grant",
        grant.id,
        number=grant.number,
        resource_id=resource.id,
        consumer_org_id=consumer_org_id,
        items=grant.items,
        row_scope=grant.row_scope,
        valid_until=valid_until.isoformat(),
    )
    return grant


def get_grant(session: Session, grant_id: str) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise not_found("grant")
    return grant


def is_usable(grant: Grant, on: date | None = None) -> bool:
    day = on or today()
    return grant.status == "active" and grant.valid_from <= day <= grant.valid_until


def usable_grant(session: Session, grant_id: str, on: date | None = None) -> Grant | None:
    grant = session.get(Grant, grant_id)
    return grant if grant is not None and is_usable(grant, on) else None


def pseudonym_key(session: Session, grant: Grant) -> bytes:
    """The grant's own key for keyed pseudonyms (HMAC-SM3): stable within, different across."""
    if grant.pseudonym_key is None:
        raise ProblemError(500, "grant_without_key", "The grant has no pseudonym key.")
    return decrypt_value(session, grant.pseudonym_key)


_TRANSITIONS = {
    "suspend": ({"active"}, "suspended"),
    "resume": ({"suspended"}, "active"),
    "revoke": ({"active", "suspended"}, "revoked"),
}


def change_status(
    session: Session, grant: Grant, action: str, actor: Principal | None, reason: str = ""
) -> Grant:
    """suspend / resume / revoke; revoked is final. Effective for the next call everywhere."""
    allowed, target = _TRANSITIONS[action]
    if grant.status not in allowed:
        raise conflict(
            "grant_state",
            "The grant is {state}; it cannot be changed that way.",
            state=label("grant_status", grant.status),
        )
    if action in ("suspend", "revoke") and not reason.strip():
        raise invalid("reason_required", "Give a reason.")
    grant.status = target
    grant.status_changed_at = utcnow()
    grant.status_changed_by = actor.user_id if actor else None
    grant.status_reason = reason.strip()
    grant.version += 1
    session.flush()
    audit(session, actor, f"sharing.grant.{action}", "grant", grant.id, reason=reason.strip())
    return grant
