"""Incidents: who sees them, lists, timeline, status, notes and one-click remedies.

Visibility: the bureau (admin) and security reviewers see every incident; a provider
department's data officers see the incidents on their own resources; everybody else gets 404.
Remedies (suspend the code, suspend the grant): the bureau and the provider's data officers.
Status changes (open → contained → closed, with a reason): the bureau and reviewers.
Detection itself lives in :mod:`cityos.incidents.detection` (``detect`` is re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from cityos.audit.models import AuditRecord
from cityos.audit.services import record as audit
from cityos.auth.principal import Principal
from cityos.core.db import utcnow
from cityos.core.errors import ProblemError, conflict, forbidden, invalid, not_found
from cityos.core.i18n import gettext
from cityos.incidents.detection import DetectReport, detect
from cityos.incidents.models import (
    RULES,
    SEVERITIES,
    STATUS_LABELS,
    STATUSES,
    Incident,
    IncidentEvent,
    IncidentEvidence,
)

__all__ = [
    "DetectReport",
    "detect",
    "get_incident",
    "list_incidents",
    "take_remedy",
]

REMEDIES = ("suspend_code", "suspend_grant")
TRANSITIONS = {
    "open": ("contained", "closed"),
    "contained": ("open", "closed"),
    "closed": (),
}


# ----------------------------------------------------------------------------- visibility


def visible_clause(principal: Principal) -> ColumnElement[bool]:
    if principal.sees_everything:
        return true()
    orgs = sorted(principal.officer_org_ids)
    return Incident.provider_org_id.in_(orgs) if orgs else false()


def can_see(principal: Principal, incident: Incident) -> bool:
    return principal.sees_everything or principal.is_officer_of(incident.provider_org_id)


def can_remedy(principal: Principal, incident: Incident) -> bool:
    return principal.is_admin or principal.is_officer_of(incident.provider_org_id)


def can_manage(principal: Principal) -> bool:
    """Status changes and notices/reports: the bureau and security reviewers."""
    return principal.sees_everything


def get_incident(session: Session, ident: str, principal: Principal) -> Incident:
    """By id or number; 404 when it does not exist or the caller may not see it."""
    incident = session.get(Incident, ident) or session.scalar(
        select(Incident).where(Incident.number == ident)
    )
    if incident is None or not can_see(principal, incident):
        raise not_found("incident", ident)
    return incident


# ----------------------------------------------------------------------------- lists


@dataclass
class Filters:
    status: str | None = None
    rule: str | None = None
    severity: str | None = None
    code: str | None = None
    grant_id: str | None = None
    q: str | None = None

    def check(self) -> None:
        for name, value, allowed in (
            ("status", self.status, STATUSES),
            ("rule", self.rule, RULES),
            ("severity", self.severity, SEVERITIES),
        ):
            if value and value not in allowed:
                raise invalid(
                    "bad_filter", "Unknown {name}: {value}", name=name, value=str(value)[:40]
                )


def _order() -> list[Any]:
    status_rank = case({s: i for i, s in enumerate(STATUSES)}, value=Incident.status, else_=9)
    severity_rank = case({s: i for i, s in enumerate(SEVERITIES)}, value=Incident.severity, else_=9)
    return [status_rank, severity_rank, Incident.detected_at.desc(), Incident.number.desc()]


def list_incidents(
    session: Session, principal: Principal, filters: Filters, *, limit: int = 50, offset: int = 0
) -> tuple[int, list[Incident]]:
    """Open first, then contained, then closed; by severity; newest first."""
    filters.check()
    query = select(Incident).where(visible_clause(principal))
    if filters.status:
        query = query.where(Incident.status == filters.status)
    if filters.rule:
        query = query.where(Incident.rule == filters.rule)
    if filters.severity:
        query = query.where(Incident.severity == filters.severity)
    if filters.code:
        query = query.where(Incident.code_key_id == filters.code)
    if filters.grant_id:
        query = query.where(Incident.grant_id == filters.grant_id)
    if filters.q:
        like = f"%{filters.q.strip()}%"
        query = query.where(
            or_(
                Incident.number.ilike(like),
                Incident.title.ilike(like),
                Incident.code_key_id.ilike(like),
                Incident.ip.ilike(like),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*_order()).limit(limit).offset(offset))
    return int(total), list(rows)


def open_count(session: Session, principal: Principal) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(visible_clause(principal), Incident.status != "closed")
        )
        or 0
    )


def timeline(session: Session, incident_id: str) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    )


def evidence(
    session: Session, incident_id: str, *, limit: int = 100, offset: int = 0
) -> list[AuditRecord]:
    """The evidence audit records, in log order."""
    return list(
        session.scalars(
            select(AuditRecord)
            .join(IncidentEvidence, IncidentEvidence.audit_id == AuditRecord.id)
            .where(IncidentEvidence.incident_id == incident_id)
            .order_by(AuditRecord.leaf_index)
            .limit(limit)
            .offset(offset)
        )
    )


def evidence_ids(session: Session, incident_id: str) -> list[int]:
    return list(
        session.scalars(
            select(IncidentEvidence.audit_id)
            .where(IncidentEvidence.incident_id == incident_id)
            .order_by(IncidentEvidence.leaf_index)
        )
    )


# ----------------------------------------------------------------------------- changes


def add_event(
    session: Session,
    incident: Incident,
    kind: str,
    actor: Principal | None,
    text: str = "",
    **detail: Any,
) -> IncidentEvent:
    event = IncidentEvent(
        incident_id=incident.id,
        at=utcnow(),
        kind=kind,
        actor_id=actor.user_id if actor else None,
        actor_name=(actor.display_name or actor.username) if actor else None,
        text=text,
        detail=detail,
    )
    session.add(event)
    incident.updated_at = event.at
    session.flush()
    return event


def change_status(
    session: Session, incident: Incident, status: str, actor: Principal, reason: str
) -> Incident:
    if not can_manage(actor):
        raise forbidden("Only the bureau and security reviewers may change an incident's status.")
    if status not in STATUSES:
        raise invalid("bad_status", "Unknown status: {value}", value=str(status)[:20])
    if status not in TRANSITIONS[incident.status]:
        raise conflict(
            "incident_state",
            "The incident is {state}; it cannot be changed that way.",
            state=gettext(STATUS_LABELS[incident.status]),
        )
    reason = reason.strip()
    if not reason:
        raise invalid("reason_required", "Give a reason.")
    return _set_status(session, incident, status, actor, reason)


def _set_status(
    session: Session, incident: Incident, status: str, actor: Principal, reason: str
) -> Incident:
    previous = incident.status
    incident.status = status
    incident.status_reason = reason
    incident.closed_at = utcnow() if status == "closed" else None
    add_event(session, incident, "status", actor, reason, previous=previous, status=status)
    audit(
        session,
        actor,
        "incident.status",
        "incident",
        incident.id,
        number=incident.number,
        previous=previous,
        status=status,
        reason=reason,
    )
    return incident


def add_note(session: Session, incident: Incident, actor: Principal, note: str) -> IncidentEvent:
    note = note.strip()
    if not note:
        raise invalid("note_required", "Write the note.")
    event = add_event(session, incident, "note", actor, note[:4000])
    audit(session, actor, "incident.note", "incident", incident.id, number=incident.number)
    return event


def take_remedy(
    session: Session, incident: Incident, action: str, actor: Principal, reason: str
) -> Incident:
    """Suspend the incident's code or grant; an open incident becomes contained."""
    if not can_remedy(actor, incident):
        raise forbidden("Only the bureau and the provider's data officers may take remedies.")
    reason = reason.strip()
    if not reason:
        raise invalid("reason_required", "Give a reason.")
    if action == "suspend_code":
        target = _suspend_code(session, incident, actor, reason)
    elif action == "suspend_grant":
        target = _suspend_grant(session, incident, actor, reason)
    else:
        raise invalid("bad_remedy", "Unknown remedy: {action}", action=str(action)[:30])
    add_event(session, incident, "remedy", actor, reason, action=action, target=target)
    audit(
        session,
        actor,
        "incident.remedy",
        "incident",
        incident.id,
        number=incident.number,
        remedy=action,
        target=target,
        reason=reason,
    )
    if incident.status == "open":
        _set_status(session, incident, "contained", actor, reason)
    return incident


def _suspend_code(session: Session, incident: Incident, actor: Principal, reason: str) -> str:
    if not incident.code_key_id:
        raise conflict("no_code", "This incident names no authorization code.")
    try:
        from cityos.exchange.services import suspend_code
    except ImportError:  # pragma: no cover - the exchange is part of the product
        raise ProblemError(
            409, "remedy_unavailable", "Suspending codes is not available."
        ) from None
    from cityos.exchange.services import get_code

    if get_code(session, incident.code_key_id).status != "active":
        raise conflict("code_state", "The code is no longer active.")
    suspend_code(session, incident.code_key_id, actor, reason)
    return incident.code_key_id


def _suspend_grant(session: Session, incident: Incident, actor: Principal, reason: str) -> str:
    from cityos.sharing.grants import change_status as change_grant
    from cityos.sharing.grants import get_grant

    if not incident.grant_id:
        raise conflict("no_grant", "This incident names no grant.")
    grant = get_grant(session, incident.grant_id)
    change_grant(session, grant, "suspend", actor, reason)
    return grant.id


def remedy_targets(session: Session, incident: Incident) -> dict[str, Any]:
    """Current state of the code and the grant (for the page and the API)."""
    out: dict[str, Any] = {"code_status": None, "grant_status": None, "grant_number": None}
    if incident.code_key_id:
        from cityos.exchange import services as exchange

        try:
            out["code_status"] = exchange.status_of(
                exchange.get_code(session, incident.code_key_id)
            )
        except ProblemError:
            out["code_status"] = None
    if incident.grant_id:
        from cityos.sharing.grants import get_grant

        try:
            grant = get_grant(session, incident.grant_id)
        except ProblemError:
            return out
        out["grant_status"] = grant.status
        out["grant_number"] = grant.number
    return out
