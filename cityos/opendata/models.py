"""Open data: 有条件开放 applications and daily usage counts per dataset."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, id_column, utcnow

APPLICATION_STATUSES = ("submitted", "approved", "rejected", "revoked", "expired")
LIVE_STATUSES = ("submitted", "approved")


class OpenApplication(Base):
    """An application to use a 有条件开放 dataset, reviewed by the dataset's provider."""

    __tablename__ = "opendata_applications"
    __table_args__ = (
        Index("ix_opendata_applications_provider_status", "provider_id", "status"),
        Index("ix_opendata_applications_user_resource", "user_id", "resource_id"),
    )

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    organisation: Mapped[str] = mapped_column(String(200))  # 申请单位
    contact: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)  # 用途
    scenario: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    agreement_version: Mapped[str] = mapped_column(String(20))
    accepted_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    revoked_by: Mapped[str | None] = mapped_column(String(32), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)


class OpenUsageDaily(Base):
    """Views, downloads and API calls of one open dataset on one day (Asia/Shanghai)."""

    __tablename__ = "opendata_usage_daily"
    __table_args__ = (
        UniqueConstraint("resource_id", "day", name="uq_opendata_usage_daily_resource_day"),
        Index("ix_opendata_usage_daily_provider_day", "provider_id", "day"),
        Index("ix_opendata_usage_daily_day", "day"),
    )

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(ForeignKey("catalog_resources.id"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    day: Mapped[date] = mapped_column(Date)
    views: Mapped[int] = mapped_column(Integer, default=0)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)


class OpenKeyDay(Base):
    """Calls of one open data API key on one Asia/Shanghai day: the daily quota's count, shared
    by every process and kept across restarts (cityos/opendata/quota.py)."""

    __tablename__ = "opendata_key_days"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
