"""Grants as people see and manage them: lists, one grant, revoke/suspend/resume/renew.

The state changes go through cityos.sharing.grants (the one writer of grants); this module adds
who may do what (cityos.sharing.rules), the bus events and renewal.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.core.errors import conflict, forbidden, invalid, not_found
from cityos.sharing import grants, rules
from cityos.sharing.events import emit
from cityos.sharing.labels import label
from cityos.sharing.models import GRANT_STATUSES, Grant
from cityos.sharing.services import MAX_PERIOD_DAYS, today

EVENTS = {"revoke": "revoked", "suspend": "suspended", "resume": "resumed"}


def get_grant(session: Session, principal: Principal, grant_id: str) -> Grant:
    """By id or number; 404 when the principal may not see it."""
    grant = session.get(Grant, grant_id) or session.scalar(
        select(Grant).where(Grant.number == grant_id)
    )
    if grant is None or not rules.can_see_grant(principal, grant):
        raise not_found("grant", grant_id)
    return grant


def list_grants(
    session: Session,
    principal: Principal,
    *,
    view: str = "all",
    status: str | None = None,
    resource_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Grant]]:
    """``view``: consumer (my departments' grants), provider (grants of my data), all."""
    if view not in rules.GRANT_VIEWS:
        raise invalid(
            "invalid_view", "Unknown view: {view} (consumer, provider or all).", view=view
        )
    query = select(Grant).where(rules.grant_clause(principal, view))
    if status:
        if status not in GRANT_STATUSES:
            raise invalid("invalid_status", "Unknown status: {value}", value=status)
        query = query.where(Grant.status == status)
    if resource_id:
        query = query.where(Grant.resource_id == resource_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Grant.created_at.desc(), Grant.number.desc()).limit(limit).offset(offset)
    )
    return total, list(rows)


def _manageable(session: Session, principal: Principal, grant_id: str) -> Grant:
    grant = get_grant(session, principal, grant_id)
    if not rules.can_manage_grant(principal, grant):
        raise forbidden("Only the provider's data officers or the bureau manage this grant.")
    return grant


def change(
    session: Session,
    principal: Principal,
    grant_id: str,
    action: str,
    reason: str = "",
    *,
    bus: Bus | None = None,
) -> Grant:
    """revoke (final) / suspend / resume; a reason is required to revoke or suspend."""
    if action not in EVENTS:
        raise not_found("action", action)
    grant = _manageable(session, principal, grant_id)
    grants.change_status(session, grant, action, principal, reason)
    emit(
        session,
        bus,
        f"sharing.grant.{EVENTS[action]}",
        grant_id=grant.id,
        status=grant.status,
        consumer_org_id=grant.consumer_org_id,
    )
    return grant


def renew(
    session: Session,
    principal: Principal,
    grant_id: str,
    valid_until: date,
    reason: str = "",
    *,
    bus: Bus | None = None,
    now: datetime | None = None,
) -> Grant:
    """Extend a grant that is not revoked: ``valid_until`` later than now, at most five years."""
    grant = _manageable(session, principal, grant_id)
    if grant.status == "revoked":
        raise conflict(
            "grant_state",
            "The grant is {state}; it cannot be changed that way.",
            state=label("grant_status", grant.status),
        )
    if valid_until <= grant.valid_until:
        raise invalid("not_later", "Renewal must move the last day later.")
    if valid_until < today(now):
        raise invalid("period_over", "The period is over: grant a period that includes today.")
    if (valid_until - max(grant.valid_from, today(now))).days > MAX_PERIOD_DAYS:
        raise invalid("period_too_long", "A period lasts at most five years.")
    before = grant.valid_until
    grant.valid_until = valid_until
    grant.renewed_at = utcnow()
    grant.version += 1
    session.flush()
    audit(
        session,
        principal,
        "sharing.grant.renew",
        "grant",
        grant.id,
        valid_until=[before.isoformat(), valid_until.isoformat()],
        reason=reason.strip(),
    )
    emit(session, bus, "sharing.grant.renewed", grant_id=grant.id, valid_until=str(valid_until))
    return grant


def is_usable(grant: Grant, now: datetime | None = None) -> bool:
    return grants.is_usable(grant, today(now))
