"""Demands for open data, their votes and comments.

Lifecycle: ``open`` (公开征集中) → answered by the department: ``accepted`` (已采纳, with a planned
date), ``available`` (已有数据, with a link to an open dataset) or ``refused`` (不予采纳, with a
reason) → ``fulfilled`` (已满足) when the dataset linked to an accepted demand is published as
open data.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow
from cityos.core.i18n import lazy

STATUSES = ("open", "accepted", "available", "refused", "fulfilled")
ANSWERS = ("accepted", "available", "refused")
ANSWERED = ("accepted", "available", "refused", "fulfilled")
STATUS_LABELS = {
    "open": lazy("Open for support"),
    "accepted": lazy("Accepted"),
    "available": lazy("Data already available"),
    "refused": lazy("Not accepted"),
    "fulfilled": lazy("Fulfilled"),
}
STATUS_CLASS = {
    "open": "",
    "accepted": "tag-warn",
    "available": "tag-ok",
    "refused": "tag-bad",
    "fulfilled": "tag-ok",
}


class Demand(Base):
    __tablename__ = "demands"
    __table_args__ = (Index("ix_demands_status_created", "status", "created_at"),)

    id: Mapped[str] = id_column()
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    fields_wanted: Mapped[str] = mapped_column(Text, default="")
    data_format: Mapped[str] = mapped_column(String(100), default="")
    update_frequency: Mapped[str] = mapped_column(String(100), default="")
    scenario: Mapped[str] = mapped_column(Text, default="")
    requester_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    contact: Mapped[str] = mapped_column(String(200), default="")
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    votes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_by: Mapped[str | None] = mapped_column(String(32), default=None)
    planned_on: Mapped[date | None] = mapped_column(Date, default=None)
    answer: Mapped[str] = mapped_column(Text, default="")
    resource_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalog_resources.id"), index=True, default=None
    )
    resource_code: Mapped[str] = mapped_column(String(40), default="")
    fulfilled_at: Mapped[datetime | None] = mapped_column(default=None)


class DemandVote(Base):
    __tablename__ = "demand_votes"
    __table_args__ = (UniqueConstraint("demand_id", "user_id"),)

    id: Mapped[str] = id_column()
    demand_id: Mapped[str] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DemandComment(Base):
    __tablename__ = "demand_comments"

    id: Mapped[str] = id_column()
    demand_id: Mapped[str] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text)
    official: Mapped[bool] = mapped_column(Boolean, default=False)
    org_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
