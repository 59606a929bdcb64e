"""Send, list and mark notifications; translate them for the current locale when shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import not_found
from cityos.core.i18n import gettext
from cityos.notify.models import Notification


def notify(
    session: Session,
    user_ids: Iterable[str],
    *,
    kind: str,
    message: str,
    params: dict[str, Any] | None = None,
    link: str = "",
) -> int:
    """One notification per distinct user; the message stays an English msgid until shown."""
    recipients = sorted({uid for uid in user_ids if uid})
    for user_id in recipients:
        session.add(
            Notification(
                user_id=user_id, kind=kind, message=message, params=dict(params or {}), link=link
            )
        )
    session.flush()
    return len(recipients)


def unread_count(session: Session, user_id: str) -> int:
    """How many of the user's notifications are not read yet (one query)."""
    query = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return int(session.scalar(query) or 0)


def list_for(session: Session, user_id: str, limit: int = 100) -> list[Notification]:
    """The user's notifications, newest first."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_read(session: Session, user_id: str, notification_id: str) -> Notification:
    """Mark one of the user's notifications read; 404 for anyone else's."""
    note = session.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        raise not_found("notification", notification_id)
    if note.read_at is None:
        note.read_at = utcnow()
    return note


def mark_all_read(session: Session, user_id: str) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def text_of(note: Notification) -> str:
    """The message in the current locale, with its parameters filled in."""
    try:
        return gettext(note.message, **(note.params or {}))
    except (KeyError, IndexError, ValueError):
        return gettext(note.message)
