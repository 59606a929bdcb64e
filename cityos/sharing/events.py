"""Bus events of the sharing domain, published once the writing transaction has committed.

Topics: ``sharing.request.created|decided|withdrawn|reminder|escalated``,
``sharing.grant.created|revoked|suspended|resumed|renewed``. Payloads carry ids only (and the new
status), so that a subscriber reads what it needs through the services.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from cityos.core.bus import Bus

_PENDING = "cityos_sharing_events"


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for bus, topic, payload in session.info.pop(_PENDING, []):
        bus.publish(topic, payload)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def emit(session: Session, bus: Bus | None, topic: str, **payload: Any) -> None:
    """Queue ``topic`` for publication after the session's transaction commits."""
    if bus is not None:
        session.info.setdefault(_PENDING, []).append((bus, topic, payload))
