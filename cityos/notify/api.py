"""Notifications API: my notifications, mark one or all read."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from cityos.auth.access import authenticated
from cityos.auth.principal import Principal
from cityos.core.errors import forbidden
from cityos.notify import services
from cityos.notify.models import Notification

router = APIRouter(prefix="/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    id: str
    kind: str
    message: str
    text: str
    params: dict[str, object]
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationList(BaseModel):
    unread: int
    items: list[NotificationOut]


class ReadAllOut(BaseModel):
    marked: int
    unread: int


def _out(note: Notification) -> NotificationOut:
    return NotificationOut(
        id=note.id,
        kind=note.kind,
        message=note.message,
        text=services.text_of(note),
        params=dict(note.params or {}),
        link=note.link,
        created_at=note.created_at,
        read_at=note.read_at,
    )


def _user(principal: Principal) -> str:
    if principal.user_id is None:
        raise forbidden()
    return principal.user_id


@router.get("", response_model=NotificationList)
def my_notifications(
    request: Request,
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(authenticated),
) -> NotificationList:
    """My notifications, newest first; ``text`` is in the request's language."""
    user_id = _user(principal)
    with request.app.state.db.session() as session:
        items = [_out(n) for n in services.list_for(session, user_id, limit)]
        unread = services.unread_count(session, user_id)
    return NotificationList(unread=unread, items=items)


@router.post("/read-all", response_model=ReadAllOut)
def read_all(request: Request, principal: Principal = Depends(authenticated)) -> ReadAllOut:
    """Mark every notification of mine read."""
    user_id = _user(principal)
    with request.app.state.db.session() as session:
        marked = services.mark_all_read(session, user_id)
    return ReadAllOut(marked=marked, unread=0)


@router.post("/{notification_id}/read", response_model=NotificationOut)
def read_one(
    request: Request, notification_id: str, principal: Principal = Depends(authenticated)
) -> NotificationOut:
    """Mark one notification of mine read (404 for anyone else's)."""
    user_id = _user(principal)
    with request.app.state.db.session() as session:
        out = _out(services.mark_read(session, user_id, notification_id))
    return out
