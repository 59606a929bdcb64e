"""Share requests, grants and the working-day calendar their 10-day limit runs on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow

# subscribe = 无条件共享 (self-service), request = 有条件共享 (provider decides)
REQUEST_KINDS = ("subscribe", "request")
REQUEST_STATUSES = ("pending", "approved", "partially_approved", "refused", "withdrawn")
GRANT_STATUSES = ("active", "suspended", "revoked")
CALENDAR_KINDS = ("holiday", "workday")  # 法定节假日 / 调休上班日


class ShareRequest(Base):
    """A department asking for another's resource (or one of its interface services)."""

    __tablename__ = "sharing_requests"
    __table_args__ = (
        Index("ix_sharing_requests_provider_status", "provider_org_id", "status", "due_at"),
        Index("ix_sharing_requests_requester_status", "requester_org_id", "status"),
    )

    id: Mapped[str] = id_column()
    number: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. GX-20261125-0001
    kind: Mapped[str] = mapped_column(String(16), default="request")
    resource_id: Mapped[str] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(String(32), default=None)  # interface service
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    requester_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    requester_user_id: Mapped[str | None] = mapped_column(String(32))
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # fields asked for
    purpose: Mapped[str] = mapped_column(Text, default="")  # 用途
    legal_basis: Mapped[str] = mapped_column(Text, default="")  # 依据
    scenario: Mapped[str] = mapped_column(Text, default="")  # 使用场景
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    row_scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"district": [...]}
    wants_export: Mapped[bool] = mapped_column(Boolean, default=False)  # bulk export asked for
    status: Mapped[str] = mapped_column(String(24), default="pending", index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column()  # end of the 10th working day, Asia/Shanghai
    # the limit in working days when submitted (CITYOS_SHARE_DECISION_DAYS): a calendar edit
    # moves due_at of pending requests with their own limit
    limit_days: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    grant_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # "<resource>:<requester org>:<service>" while pending, NULL afterwards: the unique index
    # refuses a second pending request of the same department for the same thing (races too)
    pending_key: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)


class Grant(Base):
    """What a consumer department may use: items, rows, period, export. Codes hang off it."""

    __tablename__ = "sharing_grants"
    __table_args__ = (
        Index("ix_sharing_grants_consumer_status", "consumer_org_id", "status"),
        Index("ix_sharing_grants_provider_status", "provider_org_id", "status"),
    )

    id: Mapped[str] = id_column()
    number: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. SQ-20261125-0001
    kind: Mapped[str] = mapped_column(String(16), default="request")  # subscribe | request
    resource_id: Mapped[str] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(String(32), default=None)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    consumer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    request_id: Mapped[str | None] = mapped_column(String(32), default=None)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # granted fields
    row_scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field → allowed values
    purpose: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    allow_export: Mapped[bool] = mapped_column(Boolean, default=False)
    # per-grant masking overrides: {"by_type": {...}, "by_grade": {...}} (cityos.protection)
    masking: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # envelope-encrypted key of the grant's keyed pseudonyms (stable within, differ across)
    pseudonym_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    renewed_at: Mapped[datetime | None] = mapped_column(default=None)
    status_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    status_changed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change


class CalendarDay(Base):
    """An exception to Monday–Friday: a public holiday, or a weekend make-up working day."""

    __tablename__ = "sharing_calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    name: Mapped[str] = mapped_column(String(40), default="")  # 春节, 国庆节调休 …
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_by: Mapped[str | None] = mapped_column(String(32), default=None)
