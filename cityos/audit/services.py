from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.audit.models import AuditRecord

if TYPE_CHECKING:
    from cityos.auth.principal import Principal


def record(
    session: Session,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: str | None = None,
    **detail: Any,
) -> AuditRecord:
    """Add an audit record in the caller's transaction: it lands if and only if the write does."""
    entry = AuditRecord(
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else None,
        org_id=actor.primary_org_id if actor else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
        ip=actor.ip if actor else None,
    )
    session.add(entry)
    return entry


def recent(
    session: Session,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    action: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[AuditRecord]]:
    query = select(AuditRecord)
    if target_type:
        query = query.where(AuditRecord.target_type == target_type)
    if target_id:
        query = query.where(AuditRecord.target_id == target_id)
    if action:
        query = query.where(AuditRecord.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditRecord.id.desc()).limit(limit).offset(offset))
    return total, list(rows)
